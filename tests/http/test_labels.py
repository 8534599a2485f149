"""Labels over HTTP, with offsets in UTF-16 code units (Azure's default) and code points."""

TEXT = "Hi 😀 Bob! 👩‍💻 Alice at 𝔸cme"


def utf16(text: str, start: int, end: int) -> tuple[int, int]:
    """(offset, length) of text[start:end] in UTF-16 code units, computed independently."""
    before = len(text[:start].encode("utf-16-le")) // 2
    return before, len(text[start:end].encode("utf-16-le")) // 2


def test_labels_round_trip_in_both_offset_units(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": TEXT})
    bob, alice, acme = TEXT.index("Bob"), TEXT.index("Alice"), TEXT.index("𝔸cme")
    o, n = utf16(TEXT, bob, bob + 3)
    added = api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": o, "length": n})
    assert added.status_code == 201, added.text
    assert added.json() == {"id": "L1", "category": "Person", "offset": o, "length": n}
    api.post(f"/{project}/documents/d/labels", params={"stringIndexType": "UnicodeCodePoint"},
             json={"category": "Person", "offset": alice, "length": 5})
    o, n = utf16(TEXT, acme, acme + 4)
    api.post(f"/{project}/documents/d/labels", json={"category": "Org", "offset": o, "length": n})

    as_utf16 = api.get(f"/{project}/documents/d").json()
    as_points = api.get(f"/{project}/documents/d", params={"stringIndexType": "UnicodeCodePoint"}).json()
    assert as_points["stringIndexType"] == "UnicodeCodePoint"
    spans = {(l["category"], TEXT[l["offset"]:l["offset"] + l["length"]]) for l in as_points["labels"]}
    assert spans == {("Person", "Bob"), ("Person", "Alice"), ("Org", "𝔸cme")}
    encoded = TEXT.encode("utf-16-le")
    assert {(l["category"], encoded[2 * l["offset"]:2 * (l["offset"] + l["length"])].decode("utf-16-le"))
            for l in as_utf16["labels"]} == spans
    assert as_utf16["labelCount"] == 3 and as_utf16["version"] == 4


def test_label_rules_are_enforced_with_the_field_named(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": TEXT})
    api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 6, "length": 3})
    cases = [
        ({"category": "Person", "offset": 7, "length": 3}, 409, "offset"),  # overlaps
        ({"category": "Person", "offset": 6, "length": 3}, 409, "offset"),  # duplicate
        ({"category": "Place", "offset": 0, "length": 2}, 400, "category"),  # unknown entity
        ({"category": "Person", "offset": 4, "length": 1}, 400, "offset"),  # inside 😀
        ({"category": "Person", "offset": 0, "length": 0}, 400, "length"),
        ({"category": "Person", "offset": 0, "length": 999}, 400, "length"),
        ({"category": "Person", "offset": -1, "length": 2}, 400, "offset"),
        ({"category": "Person", "offset": "0", "length": 2}, 400, "offset"),
        ({"category": "Person", "offset": 0}, 400, "length"),
    ]
    for payload, status, target in cases:
        response = api.post(f"/{project}/documents/d/labels", json=payload)
        assert response.status_code == status, (payload, response.text)
        assert response.json()["error"]["target"] == target, (payload, response.text)
    assert len(api.get(f"/{project}/documents/d").json()["labels"]) == 1


def test_save_labels_is_atomic_and_guarded_by_the_version(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": "Alice and Bob work at Acme."})
    first = api.post(f"/{project}/documents/d/:save-labels", json={"add": [
        {"category": "Person", "offset": 0, "length": 5}, {"category": "Person", "offset": 10, "length": 3}]})
    assert first.status_code == 200 and first.json()["version"] == 3
    etag = first.headers["ETag"]
    assert api.get(f"/{project}/documents/d").headers["ETag"] == etag

    bad = api.post(f"/{project}/documents/d/:save-labels", headers={"If-Match": etag}, json={
        "remove": ["L1"], "add": [{"category": "Org", "offset": 22, "length": 4},
                                  {"category": "Org", "offset": 10, "length": 3}]})
    assert bad.status_code == 409 and bad.json()["error"]["target"] == "add[1].offset"
    unknown = api.post(f"/{project}/documents/d/:save-labels", json={"remove": ["L1", "L9"]})
    assert unknown.status_code == 404 and unknown.json()["error"]["target"] == "remove[1]"

    ok = api.post(f"/{project}/documents/d/:save-labels", headers={"If-Match": etag}, json={
        "remove": ["L1"], "add": [{"category": "Org", "offset": 22, "length": 4}]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["added"] == [{"id": "L3", "category": "Org", "offset": 22, "length": 4}]
    stale = api.post(f"/{project}/documents/d/:save-labels", headers={"If-Match": etag},
                     json={"remove": ["L2"]})
    assert stale.status_code == 412 and stale.json()["error"]["target"] == "If-Match"
    labels = api.get(f"/{project}/documents/d").json()["labels"]
    assert [(l["id"], l["category"]) for l in labels] == [("L2", "Person"), ("L3", "Org")]
    assert api.post(f"/{project}/documents/d/:save-labels", headers={"If-Match": "latest"},
                    json={}).status_code == 400


def test_remove_one_label_and_removing_an_entity_removes_its_labels(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": "Alice and Bob work at Acme."})
    api.post(f"/{project}/documents/d/:save-labels", json={"add": [
        {"category": "Person", "offset": 0, "length": 5}, {"category": "Person", "offset": 10, "length": 3},
        {"category": "Org", "offset": 22, "length": 4}]})
    assert api.delete(f"/{project}/documents/d/labels/L2").status_code == 204
    assert api.delete(f"/{project}/documents/d/labels/L2").status_code == 404
    before = api.get(f"/{project}/documents/d")
    assert api.delete(f"/{project}/entities/Person").status_code == 204
    after = api.get(f"/{project}/documents/d")
    document = after.json()
    assert [l["id"] for l in document["labels"]] == ["L3"] and document["labelCount"] == 1
    # The document records the removal, names its cause, and its version moves with it.
    assert after.headers["ETag"] != before.headers["ETag"] and document["version"] == before.json()["version"] + 1
    last = api.get(f"/{project}/documents/d/events").json()["value"][-1]
    assert last["eventType"] == "LabelRemoved" and last["data"]["labelId"] == "L1"
    assert last["data"]["cause"] == "entityRemoved"
    assert [e["category"] for e in api.get(f"/{project}/entities").json()["value"]] == ["Org"]
    assert api.put(f"/{project}/entities/Person").status_code == 201
    assert len(api.get(f"/{project}/documents/d").json()["labels"]) == 1


def test_the_reject_policy_cannot_be_switched_on_while_labels_overlap(api):
    project = api.new_project(overlapPolicy="allow")
    api.put(f"/{project}/documents/d", json={"text": "New York City"})
    add = [{"category": "Person", "offset": 0, "length": 8}, {"category": "Org", "offset": 4, "length": 9}]
    assert api.post(f"/{project}/documents/d/:save-labels", json={"add": add}).status_code == 200
    refused = api.patch(f"/{project}", json={"overlapPolicy": "reject"})
    assert refused.status_code == 409 and refused.json()["error"]["target"] == "overlapPolicy"
    assert "L1 and L2 in 'd'" in refused.json()["error"]["message"]
    assert api.get(f"/{project}").json()["overlapPolicy"] == "allow"
    api.post(f"/{project}/documents/d/:save-labels", json={"remove": ["L2"]})
    assert api.patch(f"/{project}", json={"overlapPolicy": "reject"}).status_code == 200
