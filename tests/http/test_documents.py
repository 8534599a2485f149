"""Documents over HTTP: add one or many, list with filters, read, change dataset, delete."""

import httpx

from spanledger.domain.rules import MAX_DOCUMENT_CHARACTERS


def test_put_document_is_created_once_and_idempotent_with_the_same_content(api):
    project = api.new_project()
    created = api.put(f"/{project}/documents/a.txt", json={"text": "Alice met Bob.", "dataset": "Test"})
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.json() | {"createdDateTime": None, "lastModifiedDateTime": None} == {
        "name": "a.txt", "language": "en", "dataset": "Test", "characters": 14, "textRecords": 1,
        "labelCount": 0, "version": 1, "createdDateTime": None, "lastModifiedDateTime": None,
    }
    again = api.put(f"/{project}/documents/a.txt", json={"text": "Alice met Bob.", "dataset": "Test"})
    assert again.status_code == 200 and "X-Log-Position" not in again.headers
    other = api.put(f"/{project}/documents/a.txt", json={"text": "Something else."})
    assert other.status_code == 409 and other.json()["error"]["target"] == "documentName"


def test_a_batch_is_added_all_or_nothing(api):
    project = api.new_project()
    api.put(f"/{project}/documents/existing", json={"text": "Old"})
    bad = api.post(f"/{project}/documents/:batch", json={"documents": [
        {"name": "new1", "text": "One"}, {"name": "new2", "text": ""}]})
    assert bad.status_code == 400 and bad.json()["error"]["target"] == "documents[1].text"
    clash = api.post(f"/{project}/documents/:batch", json={"documents": [
        {"name": "new1", "text": "One"}, {"name": "existing", "text": "New"}]})
    assert clash.status_code == 409 and clash.json()["error"]["target"] == "documents[1].name"
    twice = api.post(f"/{project}/documents/:batch", json={"documents": [
        {"name": "new1", "text": "One"}, {"name": "new1", "text": "One"}]})
    assert twice.status_code == 400
    assert [d["name"] for d in api.get(f"/{project}/documents").json()["value"]] == ["existing"]
    ok = api.post(f"/{project}/documents/:batch", json={"documents": [
        {"name": "new1", "text": "One", "dataset": "Test"}, {"name": "existing", "text": "Old"}]})
    assert ok.status_code == 200
    assert ok.json()["value"] == [{"name": "new1", "status": "created"}, {"name": "existing", "status": "unchanged"}]


def test_documents_list_filters_and_pages(api):
    project = api.new_project()
    api.post(f"/{project}/documents/:batch", json={"documents": [
        {"name": f"d{i}", "text": "Alice works at Acme. " * 60, "dataset": "Test" if i % 2 else "Train"}
        for i in range(6)]})
    api.post(f"/{project}/documents/d0/labels", json={"category": "Person", "offset": 0, "length": 5})
    api.post(f"/{project}/documents/d1/labels", json={"category": "Org", "offset": 15, "length": 4})

    def names(**params):
        return [d["name"] for d in api.get(f"/{project}/documents", params=params).json()["value"]]

    assert names() == [f"d{i}" for i in range(6)]
    assert names(labeled="true") == ["d0", "d1"]
    assert names(labeled="false") == ["d2", "d3", "d4", "d5"]
    assert names(entity="Org") == ["d1"]
    assert names(dataset="Test") == ["d1", "d3", "d5"]
    assert names(dataset="Test", labeled="false") == ["d3", "d5"]
    listed = api.get(f"/{project}/documents", params={"maxpagesize": 4}).json()
    assert len(listed["value"]) == 4 and listed["value"][0]["textRecords"] == 2
    rest = httpx.get(listed["nextLink"], headers={"Ocp-Apim-Subscription-Key": api.key}).json()
    assert [d["name"] for d in rest["value"]] == ["d4", "d5"]
    assert api.get(f"/{project}/documents", params={"dataset": "Dev"}).status_code == 400


def test_change_dataset_and_delete(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": "Alice"})
    api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 0, "length": 5})
    patched = api.patch(f"/{project}/documents/d", json={"dataset": "Test"})
    assert patched.status_code == 200 and patched.json()["dataset"] == "Test"
    entities = {e["category"]: e for e in api.get(f"/{project}/entities").json()["value"]}
    assert entities["Person"]["labelCounts"] == {"train": 0, "test": 1}
    assert api.delete(f"/{project}/documents/d").status_code == 204
    assert api.get(f"/{project}/documents/d").status_code == 404
    assert api.get(f"/{project}/entities").json()["value"][1]["labelCount"] == 0
    assert api.delete(f"/{project}/documents/d").status_code == 404
    assert api.put(f"/{project}/documents/d", json={"text": "Fresh"}).status_code == 201


def test_bad_documents_name_the_field(api):
    project = api.new_project()
    cases = [
        ("/documents/d", {"text": "x" * (MAX_DOCUMENT_CHARACTERS + 1)}, "text"),
        ("/documents/d", {"text": ""}, "text"),
        ("/documents/d", {}, "text"),
        ("/documents/d", {"text": 5}, "text"),
        ("/documents/d", {"text": "ok", "dataset": "Dev"}, "dataset"),
        ("/documents/d", {"text": "ok", "language": "??"}, "language"),
        ("/documents/d", {"text": "ok", "labels": []}, "labels"),
        ("/documents/%20lead", {"text": "ok"}, "documentName"),
        ("/documents/a%3Ab", {"text": "ok"}, "documentName"),
        (f"/documents/{'n' * 129}", {"text": "ok"}, "documentName"),
    ]
    for path, payload, target in cases:
        response = api.put(f"/{project}{path}", json=payload)
        assert response.status_code == 400, (path, payload, response.text)
        assert response.json()["error"]["target"] == target, (path, response.text)
    assert api.get(f"/{project}/documents").json()["value"] == []
    missing = api.put("/no-such-project/documents/d", json={"text": "ok"})
    assert missing.status_code == 404 and missing.json()["error"]["target"] == "projectName"
