"""Time travel: a document, a project's documents and its entities as of a log position or
a time, replayed from the event store; each past answer equals what the live read model
answered at that moment, also after the document (or its labels) went."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.http.test_review_queue import suggest

TEXT = "\U0001F600 Ana Silva met Bob at Acme."  # an emoji first: UTF-16 and code point offsets differ


def _write(answer, expected=(200, 201, 204)):
    assert answer.status_code in expected, answer.text
    return int(answer.headers["X-Log-Position"])


def _now(api, project, position):
    """The live document once the read model holds `position`, as the reference for the past."""
    answer = api.get(f"/{project}/documents/d", headers={"X-Min-Log-Position": str(position)})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def history(server, api):
    """A document's life: labels added and removed, suggestions accepted and rejected, a
    dataset change, then its deletion; each position with the live answer seen there."""
    project = api.new_project(entities=("Person", "Org"))
    seen = {}
    p = _write(api.put(f"/{project}/documents/d", json={"text": TEXT}))
    seen[p] = _now(api, project, p)
    moment = datetime.now(UTC)
    p = _write(api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 3, "length": 9}))
    seen[p] = _now(api, project, p)
    suggest(server, api, project, "d", [("Person", 16, 3, 0.4, "j1"), ("Org", 23, 4, 0.8, "j1")])
    p = server.container.app.recorder.max_notification_id()
    seen[p] = _now(api, project, p)
    p = _write(api.post(f"/{project}/documents/d/:save-labels", json={"accept": ["S2"], "reject": ["S1"]}))
    seen[p] = _now(api, project, p)
    p = _write(api.delete(f"/{project}/documents/d/labels/L1"))
    seen[p] = _now(api, project, p)
    p = _write(api.patch(f"/{project}/documents/d", json={"dataset": "Test"}))
    seen[p] = _now(api, project, p)
    gone = _write(api.delete(f"/{project}/documents/d"))
    return project, seen, moment, gone


def test_each_past_position_answers_what_the_read_model_answered_then(api, history):
    project, seen, _, gone = history
    assert api.get(f"/{project}/documents/d").status_code == 404
    for position, live in seen.items():
        then = api.get(f"/{project}/documents/d", params={"atPosition": position})
        assert then.status_code == 200, then.text
        assert then.headers["X-Log-Position"] == str(position) and "ETag" not in then.headers
        assert then.json() == live, position
    labels = list(seen.values())[3]["labels"]
    assert [(l["id"], l["offset"], l["length"], l["origin"]["kind"]) for l in labels] == [
        ("L1", 3, 9, "user"), ("L2", 24, 4, "acceptedSuggestion")]  # UTF-16: the emoji counts 2
    points = api.get(f"/{project}/documents/d", params={"atPosition": list(seen)[3],
                                                        "stringIndexType": "UnicodeCodePoint"}).json()
    assert [(l["offset"], l["length"]) for l in points["labels"]] == [(2, 9), (23, 4)]
    missing = api.get(f"/{project}/documents/d", params={"atPosition": gone})
    assert missing.status_code == 404 and missing.json()["error"]["target"] == "documentName"
    before = api.get(f"/{project}/documents/d", params={"atPosition": min(seen) - 1})
    assert before.status_code == 404 and before.json()["error"]["target"] == "documentName"


def test_as_of_a_time_and_the_refusals(api, history):
    project, seen, moment, _ = history
    first = min(seen)
    then = api.get(f"/{project}/documents/d", params={"asOf": moment.isoformat()})
    assert then.status_code == 200 and then.json() == seen[first]
    assert then.headers["X-Log-Position"] == str(first)
    naive = api.get(f"/{project}/documents/d", params={"asOf": moment.replace(tzinfo=None).isoformat()})
    assert naive.json() == seen[first]  # no offset: UTC
    early = api.get(f"/{project}/documents/d", params={"asOf": "2001-01-01T00:00:00Z"})
    assert early.status_code == 404 and early.json()["error"]["target"] == "projectName"
    for params, target in [
        ({"asOf": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "asOf"),
        ({"asOf": "yesterday"}, "asOf"),
        ({"asOf": "0001-01-01T00:00:00+01:00"}, "asOf"),
        ({"asOf": moment.isoformat(), "atPosition": first}, "asOf"),
        ({"atPosition": 10**12}, "atPosition"),
        ({"atPosition": -1}, "atPosition"),
    ]:
        refused = api.get(f"/{project}/documents/d", params=params)
        assert refused.status_code == 400 and refused.json()["error"]["target"] == target, (params, refused.text)


def test_a_projects_documents_and_entities_then(api):
    project = api.new_project(entities=("Person", "Org"))
    api.post(f"/{project}/documents/:batch", json={"documents": [
        {"name": n, "text": "Ana met Bob.", "dataset": "Test" if n == "c" else "Train"} for n in "abc"]})
    api.post(f"/{project}/documents/a/labels", json={"category": "Person", "offset": 0, "length": 3})
    labeled = _write(api.post(f"/{project}/documents/c/labels", json={"category": "Person", "offset": 8, "length": 3}))
    before = {"documents": api.get(f"/{project}/documents", headers={"X-Min-Log-Position": str(labeled)}).json(),
              "entities": api.get(f"/{project}/entities").json()}
    api.delete(f"/{project}/documents/b")
    api.delete(f"/{project}/entities/Person")
    api.put(f"/{project}/entities/Place")
    api.put(f"/{project}/documents/e", json={"text": "Later."})
    documents = api.get(f"/{project}/documents", params={"atPosition": labeled})
    assert documents.status_code == 200 and documents.json() == before["documents"]
    entities = api.get(f"/{project}/entities", params={"atPosition": labeled}).json()
    assert entities == before["entities"]
    assert entities["value"][1] == {"category": "Person", "labelCount": 2, "labelCounts": {"train": 1, "test": 1}}
    paged = api.get(f"/{project}/documents", params={"atPosition": labeled, "maxpagesize": 2}).json()
    assert [d["name"] for d in paged["value"]] == ["a", "b"] and "atPosition" in paged["nextLink"]
    rest = httpx.get(paged["nextLink"], headers={"Ocp-Apim-Subscription-Key": api.key}).json()
    assert [d["name"] for d in rest["value"]] == ["c"] and "nextLink" not in rest
    now = api.get(f"/{project}/entities").json()["value"]
    assert [e["category"] for e in now] == ["Org", "Place"]
    filtered = api.get(f"/{project}/documents", params={"atPosition": labeled, "dataset": "Test"})
    assert filtered.status_code == 400 and filtered.json()["error"]["target"] == "dataset"
    gone = api.get(f"/{project}/entities", params={"atPosition": 1})
    assert gone.status_code == 404 and gone.json()["error"]["target"] == "projectName"
