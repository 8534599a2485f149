"""A label's life and a suggestion's life: where each label came from (by hand, by import, or
an accepted suggestion of a job and model), what happened to it since, by whom and when."""

import orjson

from tests.http.test_review_queue import suggest

TEXT = "\U0001F600 Ana met Bob and Rui"  # the emoji: offsets differ between the units


def _discard(server, api, project, name, training_job):
    app = server.container.app
    project_agg, doc = app.get_document(app.authenticate(api.key).resource_id, project, name)
    assert doc.discard_pending(project_agg, training_job, "worker:t") == 1
    position = app._save(doc)
    assert api.get(f"/{project}", headers={"X-Min-Log-Position": str(position)}).status_code == 200


def _actions(life):
    return [step["action"] for step in life["history"]]


def test_each_label_and_suggestion_from_its_creation_to_its_end(server, api):
    project = api.new_project(entities=("Person",))
    api.put(f"/{project}/documents/d", json={"text": TEXT})
    api.put(f"/{project}/documents/other", json={"text": "x"})  # the hand label is a write of its own
    added = api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 3, "length": 3})
    assert added.status_code == 201
    suggest(server, api, project, "d", [("Person", 6, 3, 0.9, "j1"), ("Person", 10, 3, 0.4, "j2"),
                                        ("Person", 18, 3, 0.7, "j1")])
    assert api.post(f"/{project}/documents/d/suggestions/S1/:accept").status_code == 200  # -> L2
    assert api.post(f"/{project}/documents/d/suggestions/S2/:reject").status_code == 200
    assert api.post(f"/{project}/documents/d/:undo").status_code == 200  # S2 pending again
    assert api.post(f"/{project}/documents/d/suggestions/S2/:reject").status_code == 200
    assert api.delete(f"/{project}/documents/d/labels/L1").status_code == 204
    _discard(server, api, project, "d", "t1")  # S3, still pending when a training started

    history = api.get(f"/{project}/documents/d/labels/history")
    assert history.status_code == 200, history.text
    body = history.json()
    labels = {label["labelId"]: label for label in body["labels"]}
    me = f"key:{api.key.split('-')[2]}"
    hand, accepted = labels["L1"], labels["L2"]
    assert (hand["origin"], hand["state"], _actions(hand)) == ({"kind": "hand"}, "gone", ["added", "removed"])
    assert (hand["offset"], hand["length"]) == (3, 3)  # UTF-16 by default, as it was added
    assert (accepted["offset"], accepted["length"]) == (7, 3)  # suggested at code point 6
    assert hand["history"][1]["actor"] == me
    if "x-request-id" in added.headers:  # each step names the request that wrote it
        assert hand["history"][0]["requestId"] == added.headers["x-request-id"]
    assert accepted["origin"] == {"kind": "suggestion", "suggestionId": "S1", "jobId": "j1", "modelLabel": "m1"}
    assert (accepted["state"], _actions(accepted)) == ("live", ["accepted"])

    suggestions = {s["suggestionId"]: s for s in body["suggestions"]}
    assert (suggestions["S1"]["state"], _actions(suggestions["S1"])) == ("accepted", ["suggested", "accepted"])
    assert suggestions["S1"]["history"][1]["labelId"] == "L2"
    assert _actions(suggestions["S2"]) == ["suggested", "rejected", "undone", "rejected"]
    assert suggestions["S2"]["history"][0]["actor"] == "worker:w1"
    s3 = suggestions["S3"]
    assert (s3["state"], s3["jobId"], _actions(s3)) == ("discarded", "j1", ["suggested", "discarded"])
    assert s3["history"][1]["trainingJobId"] == "t1"
    positions = [step["position"] for life in body["labels"] + body["suggestions"] for step in life["history"]]
    assert len(set(positions)) == len(positions) - 1  # S1's acceptance is also L2's beginning

    only = api.get(f"/{project}/documents/d/labels/history", params={"labelId": "L2",
                                                                      "stringIndexType": "UnicodeCodePoint"}).json()
    assert [label["labelId"] for label in only["labels"]] == ["L2"]
    assert [s["suggestionId"] for s in only["suggestions"]] == ["S1"]
    assert (only["labels"][0]["offset"], only["labels"][0]["length"]) == (6, 3)
    by_suggestion = api.get(f"/{project}/documents/d/labels/history", params={"suggestionId": "S1"}).json()
    assert [label["labelId"] for label in by_suggestion["labels"]] == ["L2"]


def test_imported_labels_say_so_and_a_deleted_document_ends_every_life(server, api):
    project = api.new_project(entities=("Person",))
    line = {"text": "Ana met Bob", "meta": {"name": "imp"}, "spans": [{"start": 0, "end": 3, "label": "Person"}]}
    imported = api.post(f"/{project}/documents/:import", params={"format": "jsonl"},
                        content=orjson.dumps(line) + b"\n", headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    labels = api.get(f"/{project}/documents/imp/labels/history").json()["labels"]
    assert [(label["origin"]["kind"], label["state"]) for label in labels] == [("import", "live")]

    assert api.delete(f"/{project}/documents/imp").status_code == 204
    labels = api.get(f"/{project}/documents/imp/labels/history").json()["labels"]
    assert [(label["state"], _actions(label)) for label in labels] == [("gone", ["added", "documentDeleted"])]
    missing = api.get(f"/{project}/documents/nothing/labels/history")
    assert missing.status_code == 404 and missing.json()["error"]["target"] == "documentName"


def test_a_suggestion_pending_when_a_training_starts_names_that_training_and_its_model(server, api):
    from tests.http.test_operations import MISSING_RECIPE, caught_up, labeled_project, resource_of

    project = labeled_project(api)  # "a" and "b" labeled, "c" not
    suggest(server, api, project, "c", [("Person", 0, 5, 0.8, "j1")])
    app = caught_up(server)
    job, position = app.request_training(resource_of(api.key), project, model_label="next",
                                         config_version="onehot-char", evaluation={"kind": "manual"},
                                         recipe=MISSING_RECIPE, actor="key:trainer")
    seen = {"X-Min-Log-Position": str(position)}
    (s1,) = api.get(f"/{project}/documents/c/labels/history", headers=seen).json()["suggestions"]
    assert (s1["state"], _actions(s1)) == ("discarded", ["suggested", "discarded"])
    discarded = s1["history"][1]
    assert (discarded["trainingJobId"], discarded["trainingModelLabel"]) == (str(job.id), "next")
    assert discarded["actor"] == "key:trainer"
