"""Auto-labeling over HTTP with a model trained over HTTP: preview, start (idempotent),
poll, suggestions on the documents, the quota route, cancel, and bad input."""

import time

import pytest

from tests.conftest import live_server
from tests.http.test_training_api import labeled_project, wait_for_job
from tests.training_data import documents


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def training_server(request, tmp_path_factory):
    """A live server with its workers, training models that do find entities (15 epochs of the
    mini-batches the data gets: 10 steps an epoch on 30 short documents)."""
    yield from live_server(request.param, tmp_path_factory.mktemp("autolabel"), work=True, training_max_epochs=15,
                           autolabel_batch_documents=4)


@pytest.fixture(scope="module")
def trained(training_server):
    """A project with 30 labeled documents, 10 unlabeled ones and model m1 trained on it."""
    with training_server.api() as api:
        project = labeled_project(api, entities=("Person", "Org"))
        unlabeled = [{"name": d.name, "text": d.text} for d, _ in documents(40)[30:]]
        assert api.post(f"/{project}/documents/:batch", json={"documents": unlabeled}).status_code == 200
        started = api.post(f"/{project}/:train", json={"modelLabel": "m1", "trainingConfigVersion": "onehot-char",
                                                        "evaluationOptions": {"kind": "manual"}})
        assert wait_for_job(api, started.headers["Operation-Location"])["status"] == "succeeded"
        yield api.key, project


def test_preview_start_poll_and_find_the_suggestions(training_server, trained):
    key, project = trained
    with training_server.api(key) as api:
        preview = api.post(f"/{project}/autolabel/:preview", json={"modelLabel": "m1"})
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["documentCount"] == 10 and body["textRecords"] == 10 and body["fits"] is True
        assert [d["name"] for d in body["documents"]] == [f"doc{i:03d}" for i in range(30, 40)]
        assert [e["category"] for e in body["entities"]] == ["Org", "Person"]
        assert all(e["labels"] > 0 and e["f1"] is not None for e in body["entities"])
        # What minConfidence keeps, estimated on the model's test documents: less, never more.
        assert body["minConfidence"] == 0.0 and body["atMinConfidence"]["recall"] > 0
        strict = api.post(f"/{project}/autolabel/:preview", json={"modelLabel": "m1", "minConfidence": 0.95}).json()
        assert strict["atMinConfidence"]["recall"] <= body["atMinConfidence"]["recall"]
        assert set(strict["entities"][0]["atMinConfidence"]) == {"precision", "recall"}
        quota_before = api.get("/../quota").json()
        assert body["quota"]["remaining"] == quota_before["remaining"]

        headers = {"Idempotency-Key": "first-run"}
        started = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1"}, headers=headers)
        assert started.status_code == 202, started.text
        url = started.headers["Operation-Location"]
        retried = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1"}, headers=headers)
        assert retried.status_code == 202 and retried.headers["Operation-Location"] == url
        assert retried.headers["Idempotent-Replayed"] == "true"
        reused = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1", "minConfidence": 0.5},
                          headers=headers)  # the same key with another request
        assert reused.status_code == 422 and reused.json()["error"]["code"] == "IdempotencyKeyReused"
        assert reused.json()["error"]["target"] == "Idempotency-Key"

        job = wait_for_job(api, url)
        assert job["status"] == "succeeded", job
        result = job["result"]
        assert result["percentComplete"] == 100 and result["documentsDone"] == 10
        assert result["textRecordsCharged"] == 10 and result["textRecordsRefunded"] == 0
        assert result["suggestions"] > 0
        assert [j["jobId"] for j in api.get(f"/{project}/autolabel/jobs").json()["value"]] == [job["jobId"]]

        found = 0
        for name in (f"doc{i:03d}" for i in range(30, 40)):
            doc = api.get(f"/{project}/documents/{name}").json()
            assert doc["labels"] == []  # suggestions stay apart from the user's labels
            for s in doc["suggestions"]:
                assert s["state"] == "pending" and s["jobId"] == job["jobId"] and s["modelLabel"] == "m1"
                assert 0 < s["confidence"] <= 1 and s["category"] in ("Person", "Org")
                found += 1
        assert found == result["suggestions"]
        # Offsets in UTF-16 code units by default: past the emoji of doc030, a person's name.
        doc = api.get(f"/{project}/documents/doc030").json()
        text_utf16 = doc["text"].encode("utf-16-le")
        names = {text_utf16[2 * s["offset"]:2 * (s["offset"] + s["length"])].decode("utf-16-le")
                 for s in doc["suggestions"]}
        assert names & {d.text[label.offset:label.offset + label.length]
                        for d, labels in documents(40)[30:31] for label in labels}

        quota = api.get("/../quota").json()
        assert quota["charged"] - quota_before["charged"] == 10
        assert quota["remaining"] == quota_before["remaining"] - 10
        mine = next(p for p in quota["projects"] if p["projectName"] == project)
        assert mine["reserved"] - mine["charged"] - mine["refunded"] == mine["outstanding"] == 0


def test_a_cancelled_job_refunds_what_it_did_not_process(training_server, trained):
    key, project = trained
    with training_server.api(key) as api:
        before = api.get("/../quota").json()
        started = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1", "filter": {"labeled": True}})
        assert started.status_code == 202
        url = started.headers["Operation-Location"]
        cancelled = api.post(url.split("?")[0].split("/projects")[1] + "/:cancel")
        job = wait_for_job(api, url)
        if cancelled.status_code == 409:  # the worker was quicker: it finished first
            assert job["status"] == "succeeded"
            return
        assert cancelled.status_code == 202 and job["status"] == "cancelled"
        result = job["result"]
        assert result["textRecordsCharged"] + result["textRecordsRefunded"] == result["textRecords"] == 30
        time.sleep(0.2)
        after = api.get("/../quota").json()
        assert after["refunded"] - before["refunded"] == result["textRecordsRefunded"]
        assert after["outstanding"] == 0


def test_bad_auto_labeling_requests_get_a_4xx_naming_the_field(training_server, trained):
    key, project = trained
    app = training_server.container.app
    with training_server.api(key) as api:
        cases = [
            ({"modelLabel": "nope"}, 404, "modelLabel"),
            ({"modelLabel": "m1", "entities": ["Date"]}, 400, "entities[0]"),
            ({"modelLabel": "m1", "documents": ["doc030", "missing"]}, 400, "documents[1]"),
            ({"modelLabel": "m1", "documents": ["doc030", "doc030"]}, 400, "documents[1]"),
            ({"modelLabel": "m1", "documents": []}, 400, "documents"),
            ({"modelLabel": "m1", "documents": ["doc030"], "filter": {"labeled": False}}, 400, "filter"),
            ({"modelLabel": "m1", "filter": {"entity": "Nobody"}}, 400, "filter"),
            ({"modelLabel": "m1", "minConfidence": 2}, 400, "minConfidence"),
            ({"modelLabel": "m1", "colour": "red"}, 400, "colour"),
        ]
        for body, status, target in cases:
            for route in ("autolabel/:preview", "autolabel/jobs"):
                response = api.post(f"/{project}/{route}", json=body)
                assert response.status_code == status, (route, body, response.text)
                assert response.json()["error"]["target"] == target, (route, body)
        too_long = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1"},
                            headers={"Idempotency-Key": "k" * 201})
        assert too_long.status_code == 400 and too_long.json()["error"]["target"] == "Idempotency-Key"
        assert api.get(f"/{project}/autolabel/jobs/not-a-job").status_code == 404
        assert api.get("/../quota", params={"month": "2026-13"}).json()["error"]["target"] == "month"
        finished = api.get(f"/{project}/autolabel/jobs").json()["value"][0]
        cancel = api.post(f"/{project}/autolabel/jobs/{finished['jobId']}/:cancel")
        assert cancel.status_code == 409

    # A resource with room for 3 text records: a job of 10 does not fit, and says so.
    _, small_key, _ = app.create_resource(f"small-{project}", "test", monthly_text_records=3)
    with training_server.api(small_key) as api:
        other = api.new_project()
        body = {"documents": [{"name": d.name, "text": d.text} for d, _ in documents(40)[30:]]}
        api.post(f"/{other}/documents/:batch", json=body)
        response = api.post(f"/{other}/autolabel/jobs", json={"modelLabel": "m1"})
        assert response.status_code == 404  # no model in this project (models are per project)
        # The trained project of the other resource is invisible here.
        assert api.post(f"/{project}/autolabel/:preview", json={"modelLabel": "m1"}).status_code == 404


def _suggestions(api, project, name):
    return api.get(f"/{project}/documents/{name}").json()["suggestions"]


def test_review_every_kind_of_decision_then_train_again_on_what_was_accepted(training_server):
    with training_server.api() as api:
        project = labeled_project(api, entities=("Person", "Org"))
        unlabeled = [{"name": d.name, "text": d.text} for d, _ in documents(40)[30:]]
        api.post(f"/{project}/documents/:batch", json={"documents": unlabeled})
        first = api.post(f"/{project}/:train", json={"modelLabel": "m1", "trainingConfigVersion": "onehot-char",
                                                      "evaluationOptions": {"kind": "manual"}})
        assert wait_for_job(api, first.headers["Operation-Location"])["status"] == "succeeded"
        job = wait_for_job(api, api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1"})
                           .headers["Operation-Location"])
        assert job["status"] == "succeeded" and job["result"]["suggestions"] >= 20
        autolabeled = api.get(f"/{project}/documents", params={"autolabeled": True}).json()["value"]
        assert {d["name"] for d in autolabeled} <= {f"doc{i:03d}" for i in range(30, 40)} and len(autolabeled) >= 8
        orgs = api.get(f"/{project}/documents", params={"autolabeled": True, "entity": "Org"}).json()["value"]
        assert orgs and all(any(s["category"] == "Org" for s in _suggestions(api, project, d["name"])) for d in orgs)
        names = [d["name"] for d in autolabeled]

        # One accepted, one rejected.
        one = _suggestions(api, project, names[0])
        accepted = api.post(f"/{project}/documents/{names[0]}/suggestions/{one[0]['id']}/:accept")
        assert accepted.status_code == 200, accepted.text
        again = api.post(f"/{project}/documents/{names[0]}/suggestions/{one[0]['id']}/:accept")
        assert again.status_code == 409 and again.json()["error"]["target"] == "suggestionId"
        if len(one) > 1:
            assert api.post(f"/{project}/documents/{names[0]}/suggestions/{one[1]['id']}/:reject").status_code == 200
        doc = api.get(f"/{project}/documents/{names[0]}").json()
        (label,) = doc["labels"]
        assert label["id"] == accepted.json()["labelId"] and label["origin"]["kind"] == "acceptedSuggestion"
        assert label["origin"]["jobId"] == job["jobId"] and label["origin"]["modelLabel"] == "m1"
        assert (label["offset"], label["length"]) == (one[0]["offset"], one[0]["length"])

        # Accept all; reject all.
        all_accepted = api.post(f"/{project}/documents/{names[1]}/:accept-all").json()["accepted"]
        assert all_accepted and _suggestions(api, project, names[1]) == []
        assert api.post(f"/{project}/documents/{names[2]}/:reject-all").json()["rejected"]
        assert api.get(f"/{project}/documents/{names[2]}").json()["labels"] == []

        # Save labels: a stale version is refused whole; a fresh one mixes every kind.
        doc = api.get(f"/{project}/documents/{names[3]}")
        pending = doc.json()["suggestions"]
        stale = api.post(f"/{project}/documents/{names[3]}/:save-labels", json={"accept": [pending[0]["id"]]},
                         headers={"If-Match": '"1"'})
        assert stale.status_code == 412 and _suggestions(api, project, names[3]) == pending
        body = {"accept": [pending[0]["id"]], "reject": [s["id"] for s in pending[1:]]}
        saved = api.post(f"/{project}/documents/{names[3]}/:save-labels", json=body,
                         headers={"If-Match": doc.headers["ETag"]})
        assert saved.status_code == 200, saved.text
        assert saved.json()["accepted"][0]["suggestionId"] == pending[0]["id"]

        # A user label drawn over a pending suggestion supersedes it.
        target = _suggestions(api, project, names[4])[0]
        drawn = api.post(f"/{project}/documents/{names[4]}/labels",
                         json={"category": target["category"], "offset": target["offset"], "length": target["length"]})
        assert drawn.status_code == 201
        assert target["id"] not in [s["id"] for s in _suggestions(api, project, names[4])]
        assert api.post(f"/{project}/documents/{names[4]}/suggestions/{target['id']}/:accept").status_code == 409

        # Undo takes an acceptance back: the suggestion is pending again, its label gone.
        back = _suggestions(api, project, names[5])[0]
        api.post(f"/{project}/documents/{names[5]}/suggestions/{back['id']}/:accept")
        undone = api.post(f"/{project}/documents/{names[5]}/:undo", json={"count": 1})
        assert undone.status_code == 200 and undone.json()["undone"] == [back["id"]]
        assert back["id"] in [s["id"] for s in _suggestions(api, project, names[5])]
        assert api.get(f"/{project}/documents/{names[5]}").json()["labels"] == []
        assert api.post(f"/{project}/documents/{names[2]}/:undo", json={"count": 0}).status_code == 400

        # Bulk: reject every pending Org suggestion, document by document.
        bulk = api.post(f"/{project}/autolabel/:review", json={"decision": "reject", "entity": "Org"}).json()
        assert bulk["documents"] and all(d["status"] == "succeeded" for d in bulk["documents"])
        assert all(s["category"] != "Org" for name in names for s in _suggestions(api, project, name))

        pending = api.get(f"/{project}/autolabel/pending").json()
        left = sum(len(_suggestions(api, project, name)) for name in names)
        assert pending["totalSuggestions"] == left > 0
        assert all(set(d["entities"]) == {"Person"} for d in pending["value"])
        metrics = api.get(f"/{project}/autolabel/metrics").json()
        (by_job,) = metrics["jobs"]
        assert by_job["jobId"] == job["jobId"] and by_job["accepted"] >= 3 and by_job["rejected"] >= 2
        assert by_job["suggestions"] == job["result"]["suggestions"]
        assert by_job["precision"] == round(by_job["accepted"] / (by_job["accepted"] + by_job["rejected"]), 4)
        assert {e["category"] for e in metrics["entities"]} == {"Org", "Person"}

        # Training again drops what is still pending, by events, and trains on the accepted.
        second = api.post(f"/{project}/:train", json={"modelLabel": "m2", "trainingConfigVersion": "onehot-char",
                                                       "evaluationOptions": {"kind": "manual"}})
        second_job = second.headers["Operation-Location"].split("/train/jobs/")[1].split("?")[0]
        assert api.get(f"/{project}/autolabel/pending").json()["totalSuggestions"] == 0
        dropped = api.get(f"/{project}/events", params={"eventType": "AutoLabelDiscarded"}).json()["value"]
        assert sum(len(e["data"]["suggestionIds"]) for e in dropped) == left
        assert {e["data"]["trainingJobId"] for e in dropped} == {second_job}
        assert wait_for_job(api, second.headers["Operation-Location"])["status"] == "succeeded"
        trained_on = {d["name"]: d for d in api.get(f"/{project}/models/m2/training-set",
                                                    params={"top": 100}).json()["value"]}
        assert trained_on and api.get(f"/{project}/models/m2/training-set").json()["fingerprintMatches"]
        for name in names:
            labels = api.get(f"/{project}/documents/{name}").json()["labels"]
            expected = sorted((x["category"], x["offset"], x["length"]) for x in labels)
            got = sorted((x["category"], x["offset"], x["length"]) for x in trained_on.get(name, {"labels": []})["labels"])
            assert got == expected, name  # accepted suggestions and user labels; nothing pending
        assert names[0] in trained_on and names[2] not in trained_on
