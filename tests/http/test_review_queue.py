"""The review queue across documents: pending suggestions one after another, lowest
confidence first (or by entity, job, document), with the text around each, offsets in the
asked unit; decided ones leave it."""

import pytest


def suggest(server, api, project: str, name: str, suggestions: list[tuple[str, int, int, float, str]]) -> None:
    """Records suggestions (code points) as an auto-labeling job's worker would, no training."""
    app = server.container.app
    project_agg, doc = app.get_document(app.authenticate(api.key).resource_id, project, name)
    for category, offset, length, confidence, job in suggestions:
        assert doc.suggest(project_agg, category, offset, length, confidence, "m1", job, "worker:w1") is not None
    position = app._save(doc)
    assert api.get(f"/{project}", headers={"X-Min-Log-Position": str(position)}).status_code == 200  # applied


@pytest.fixture
def queued(server, api):
    project = api.new_project(entities=("Person", "Org"))
    texts = {"a": "\U0001F600 Ana Silva met Bob.", "b": "Acme Corp hired Rui Costa in Porto."}
    for name, text in texts.items():
        assert api.put(f"/{project}/documents/{name}", json={"text": text}).status_code == 201
    suggest(server, api, project, "a", [("Person", 2, 9, 0.91, "j1"), ("Person", 16, 3, 0.35, "j2")])
    suggest(server, api, project, "b", [("Org", 0, 9, 0.62, "j1"), ("Person", 16, 9, 0.12, "j1")])
    return project


def _queue(api, project, **params):
    answer = api.get(f"/{project}/autolabel/suggestions", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def test_lowest_confidence_first_with_its_context_and_offsets_in_the_asked_unit(api, queued):
    queue = _queue(api, queued)
    assert [(q["documentName"], q["text"], q["confidenceScore"]) for q in queue] == [
        ("b", "Rui Costa", 0.12), ("a", "Bob", 0.35), ("b", "Acme Corp", 0.62), ("a", "Ana Silva", 0.91)]
    bob = queue[1]
    assert (bob["before"], bob["after"], bob["category"], bob["jobId"]) == ("\U0001F600 Ana Silva met ", ".", "Person", "j2")
    assert (bob["offset"], bob["length"]) == (17, 3)  # UTF-16, the default: the emoji is two units
    assert _queue(api, queued, stringIndexType="UnicodeCodePoint")[1]["offset"] == 16


def test_ordered_by_entity_job_or_document_filtered_and_paged(api, queued):
    assert [q["text"] for q in _queue(api, queued, orderby="entity")] == ["Acme Corp", "Rui Costa", "Bob", "Ana Silva"]
    assert [q["text"] for q in _queue(api, queued, orderby="document")] == ["Ana Silva", "Bob", "Acme Corp", "Rui Costa"]
    assert [q["jobId"] for q in _queue(api, queued, orderby="job")] == ["j1", "j1", "j1", "j2"]
    assert [q["text"] for q in _queue(api, queued, entity="Person", minConfidence=0.3)] == ["Bob", "Ana Silva"]
    first = api.get(f"/{queued}/autolabel/suggestions", params={"maxpagesize": 3}).json()
    assert len(first["value"]) == 3 and "nextLink" in first


def test_a_decided_suggestion_leaves_the_queue(api, queued):
    first = _queue(api, queued)[0]
    decided = api.post(f"/{queued}/documents/{first['documentName']}/suggestions/{first['suggestionId']}/:reject")
    assert decided.status_code == 200
    assert [q["text"] for q in _queue(api, queued)] == ["Bob", "Acme Corp", "Ana Silva"]


def test_bad_filters_name_the_field(api, queued):
    for params, field in (({"orderby": "random"}, "orderby"), ({"minConfidence": 2}, "minConfidence")):
        refused = api.get(f"/{queued}/autolabel/suggestions", params=params)
        assert refused.status_code == 400 and refused.json()["error"]["target"] == field, refused.text
