"""Auto-labeling over HTTP with a model trained over HTTP: preview, start (idempotent),
poll, suggestions on the documents, the quota route, cancel, and bad input."""

import time

import pytest

from bootstrap import build
from tests.conftest import LiveServer, make_settings, require_backend
from tests.http.test_training_api import labeled_project, wait_for_job
from tests.training_data import documents


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def training_server(request, tmp_path_factory):
    """A live server with its workers, training models that do find entities (20 epochs)."""
    require_backend(request.param)
    for settings in make_settings(request.param, tmp_path_factory.mktemp("autolabel"), read_wait_seconds=10,
                                  training_max_epochs=20, autolabel_batch_documents=4):
        container = build(settings, follow=True, work=True)
        live = LiveServer(container).start()
        try:
            yield live
        finally:
            live.stop()
            container.close()


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
        quota_before = api.get("/../quota").json()
        assert body["quota"]["remaining"] == quota_before["remaining"]

        headers = {"Idempotency-Key": "first-run"}
        started = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1"}, headers=headers)
        assert started.status_code == 202, started.text
        url = started.headers["Operation-Location"]
        retried = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m1"}, headers=headers)
        assert retried.status_code == 202 and retried.headers["Operation-Location"] == url
        assert retried.headers["Idempotent-Replayed"] == "true"

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
