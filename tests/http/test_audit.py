"""The audit log over HTTP: who changed what, with filters, and offsets in the caller's unit."""

from datetime import UTC, datetime, timedelta

TEXT = "😀 Alice met 😀 Bob"


def test_the_audit_log_tells_who_changed_what(server, api):
    project = api.new_project(entities=("Person",))
    api.put(f"/{project}/documents/d", json={"text": TEXT})
    other = server.api(key=server.another_key(api.key))
    api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 3, "length": 5})
    other.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 16, "length": 3})
    api.delete(f"/{project}/documents/d/labels/L2")

    events = api.get(f"/{project}/events", headers={"X-Min-Log-Position": "0"}).json()["value"]
    assert [e["eventType"] for e in events] == [
        "ProjectCreated", "EntityAdded", "DocumentAdded", "LabelAdded", "LabelAdded", "LabelRemoved"]
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    me, them = api.key.split("-")[2], other.key.split("-")[2]
    assert [e["actor"] for e in events[3:]] == [f"key:{me}", f"key:{them}", f"key:{me}"]
    added = events[3]
    assert added["documentName"] == "d" and added["version"] == 2
    assert added["data"] == {"labelId": "L1", "entity": "Person", "entityId": "E2", "offset": 3, "length": 5}
    assert events[2]["data"] == {"language": "en", "dataset": "Train", "characters": len(TEXT)}
    removed = events[5]["data"]
    assert (removed["labelId"], removed["offset"], removed["length"]) == ("L2", 16, 3)

    points = api.get(f"/{project}/documents/d/events", params={"stringIndexType": "UnicodeCodePoint"}).json()
    offsets = [(e["data"]["offset"], e["data"]["length"]) for e in points["value"] if "offset" in e["data"]]
    assert [TEXT[o:o + n] for o, n in offsets] == ["Alice", "Bob", "Bob"]


def test_audit_filters(api):
    project = api.new_project(entities=("Person",))
    api.put(f"/{project}/documents/a", json={"text": "Alice"})
    api.put(f"/{project}/documents/b", json={"text": "Bob"})
    api.post(f"/{project}/documents/b/labels", json={"category": "Person", "offset": 0, "length": 3})

    def types(path="/events", **params):
        return [e["eventType"] for e in api.get(f"/{project}{path}", params=params).json()["value"]]

    assert types("/documents/b/events") == ["DocumentAdded", "LabelAdded"]
    assert types(eventType="DocumentAdded") == ["DocumentAdded", "DocumentAdded"]
    me = api.key.split("-")[2]
    assert len(types(actor=f"key:{me}")) == 5 and types(actor="key:nobody") == []
    all_events = api.get(f"/{project}/events").json()["value"]
    after = all_events[2]["position"]
    assert types(afterPosition=after) == ["DocumentAdded", "LabelAdded"]
    now = datetime.now(UTC)
    assert len(types(since=(now - timedelta(minutes=5)).isoformat())) == 5
    assert types(until=(now - timedelta(minutes=5)).isoformat()) == []
    assert types(since=all_events[4]["occurredDateTime"]) == ["LabelAdded"]
    assert types(maxpagesize=2) == ["ProjectCreated", "EntityAdded"]
    bad = api.get(f"/{project}/events", params={"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["target"] == "since"


def test_a_name_added_again_shows_its_own_life_unless_all_are_asked_for(api):
    project = api.new_project(entities=("Person",))
    api.put(f"/{project}/documents/d", json={"text": "Alice"})
    api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 0, "length": 5})
    api.delete(f"/{project}/documents/d")
    assert [e["eventType"] for e in api.get(f"/{project}/documents/d/events").json()["value"]] == [
        "DocumentAdded", "LabelAdded", "DocumentDeleted"]
    api.put(f"/{project}/documents/d", json={"text": "Again"})
    assert [e["eventType"] for e in api.get(f"/{project}/documents/d/events").json()["value"]] == ["DocumentAdded"]
    every = api.get(f"/{project}/documents/d/events", params={"lives": "all"}).json()["value"]
    assert [(e["eventType"], e["life"]) for e in every] == [
        ("DocumentAdded", 1), ("LabelAdded", 1), ("DocumentDeleted", 1), ("DocumentAdded", 2)]

    # The same for a project deleted and created again under its name, and its documents.
    body = {"projectName": project, "projectKind": "CustomEntityRecognition", "language": "en"}
    assert api.delete(f"/{project}").status_code == 202
    assert api.patch(f"/{project}", json=body).status_code == 201
    assert api.put(f"/{project}/entities/Person").status_code == 201
    assert api.put(f"/{project}/documents/d", json={"text": "Third"}).status_code == 201
    assert [e["eventType"] for e in api.get(f"/{project}/documents/d/events").json()["value"]] == ["DocumentAdded"]
    assert [e["eventType"] for e in api.get(f"/{project}/events").json()["value"]] == [
        "ProjectCreated", "EntityAdded", "DocumentAdded"]
    lives = {e["life"] for e in api.get(f"/{project}/events", params={"lives": "all"}).json()["value"]}
    assert lives == {1, 2}
    assert api.get(f"/{project}/events", params={"lives": "some"}).status_code == 400


def test_a_named_key_shows_its_holder_beside_its_id(server, api):
    project = api.new_project(entities=("Person",))
    alice = server.api(key=server.another_key(api.key, name="alice smith"))
    written = alice.put(f"/{project}/documents/d", json={"text": TEXT})
    assert written.status_code == 201
    # Another key reads: it waits for alice's write only when it names the position.
    seen = {"X-Min-Log-Position": written.headers["X-Log-Position"]}
    events = api.get(f"/{project}/documents/d/events", headers=seen).json()["value"]
    actor = f"key:{alice.key.split('-')[2]} (alice smith)"
    assert [e["actor"] for e in events] == [actor]
    by_actor = api.get(f"/{project}/events", params={"actor": actor}, headers=seen).json()["value"]
    assert by_actor[0]["eventType"] == "DocumentAdded"
