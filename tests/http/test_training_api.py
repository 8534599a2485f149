"""Training over HTTP with a real (tiny) flair model, through our routes and through Azure's
own Python client: start, poll, models, evaluation, the training set, bad input, cancel."""

import time

import pytest
from azure.ai.textanalytics.authoring import TextAuthoringClient, TextAuthoringProjectClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from spanledger.domain.offsets import OffsetMap, StringIndexType
from tests.training_data import documents

UTF16 = StringIndexType.UTF16


def labeled_project(api, count=30, entities=("Person", "Org", "Date")) -> str:
    project = api.new_project(entities=entities)
    docs = documents(count)
    body = {"documents": [{"name": d.name, "text": d.text, "dataset": d.dataset} for d, _ in docs]}
    assert api.post(f"/{project}/documents/:batch", json=body).status_code == 200
    for doc, labels in docs:
        offsets = OffsetMap(doc.text)
        add = []
        for label in labels:
            offset, length = offsets.span_from_code_points(label.offset, label.length, UTF16)
            add.append({"category": label.category, "offset": offset, "length": length})
        assert api.post(f"/{project}/documents/{doc.name}/:save-labels", json={"add": add}).status_code == 200
    return project


def wait_for_job(api, url, states=("succeeded", "failed", "cancelled"), timeout=300):
    """Polls a job until it reaches one of `states`. The deadline follows progress: it fails
    only when the job has not moved (status, percent, last update) for `timeout` seconds, so
    a busy machine makes it slower, not red."""
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        job = api.get(url).json()
        if job["status"] in states:
            return job
        moved = (job["status"], job["lastUpdatedDateTime"], (job.get("result") or {}).get("percentComplete"))
        if moved != seen:
            seen, deadline = moved, time.monotonic() + timeout
        time.sleep(0.5)
    raise AssertionError(f"job still {job['status']}, without progress for {timeout} s")


def test_azure_client_trains_polls_and_reads_models_and_evaluation(training_server):
    with training_server.api() as api:
        project = labeled_project(api)
        endpoint, credential = training_server.base_url, AzureKeyCredential(api.key)
        with TextAuthoringProjectClient(endpoint, credential, project_name=project, polling_interval=0.5,
                                        retry_total=0) as client:
            poller = client.project.begin_train({
                "modelLabel": "m1", "trainingConfigVersion": "onehot-char",
                "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": 80,
                                      "testingSplitPercentage": 20}})
            result = poller.result(timeout=300)
            assert result.model_label == "m1" and result.training_status.status == "succeeded"
            assert result.evaluation_status.percent_complete == 100
            job_id = poller.polling_method()._operation.get_polling_url().split("/train/jobs/")[1].split("?")[0]
            assert [j.job_id for j in client.project.list_training_jobs()] == [job_id]

            assert [m.label for m in client.project.list_trained_models()] == ["m1"]
            model = client.trained_model.get_trained_model("m1")
            assert model.model_training_config_version == "onehot-char" and model.last_trained_on is not None
            summary = client.trained_model.get_model_evaluation_summary("m1")
            evaluation = summary.custom_entity_recognition_evaluation
            assert set(evaluation.entities) == {"Person", "Org"}
            assert 0.0 <= evaluation.micro_f1 <= 1.0
            assert summary.evaluation_options.testing_split_percentage == 20
            results = list(client.trained_model.list_model_evaluation_results("m1", string_index_type="Utf16CodeUnit"))
            assert len(results) == 6  # 20% of 30 labeled documents
            region = results[0].custom_entity_recognition_result.entities[0]
            assert region.expected_entities and region.region_offset == 0

            client.trained_model.delete_trained_model("m1")
            with pytest.raises(ResourceNotFoundError):
                client.trained_model.get_trained_model("m1")
        with TextAuthoringClient(endpoint, credential, retry_total=0) as top:
            assert top.get_project(project).last_trained_on is not None


def test_training_set_is_the_replayed_log_and_matches_the_fingerprint(training_server):
    with training_server.api() as api:
        project = labeled_project(api, count=20)
        started = api.post(f"/{project}/:train", json={"modelLabel": "m", "trainingConfigVersion": "onehot-char",
                                                       "evaluationOptions": {"kind": "manual"}})
        assert started.status_code == 202 and "Location" not in started.headers
        job = wait_for_job(api, started.headers["Operation-Location"])
        assert job["status"] == "succeeded", job
        assert [w["code"] for w in job["warnings"]] == ["EntityWithoutLabels"]  # Date
        # How it trained and how its spans are post-processed are recorded with the model.
        run = api.get(f"/{project}/models/m").json()["trainingRun"]
        assert run["sequences"] == 16 and run["mini_batch_size"] == 2 and run["steps_per_epoch"] == 8
        assert run["epochs"] <= run["max_epochs"] == 3 and run["threads"]
        post = api.get(f"/{project}/models/m/evaluation/summary-result").json()["postprocessing"]
        assert post["calibration"]["method"] == "platt" and "raw" in post["calibration"]["calibrationError"]
        assert isinstance(post["mergeAdjacentSpans"], bool) and post["mergeReason"]
        result = api.get(f"/{project}/models/m/evaluation/result").json()["value"]
        assert all(0 < e["confidenceScore"] <= 1 for r in result
                   for e in r["customEntityRecognitionResult"]["entities"][0]["predictedEntities"])
        # A change after the training does not change what the model trained on.
        api.post(f"/{project}/documents/doc001/:save-labels", json={"remove": ["L1"]})
        trained = api.get(f"/{project}/models/m/training-set", params={"maxpagesize": 100}).json()
        assert trained["fingerprintMatches"] is True
        by_name = {d["name"]: d for d in trained["value"]}
        assert {d["split"] for d in trained["value"]} == {"train", "test"}
        assert [n for n, d in by_name.items() if d["split"] == "test"] == [f"doc{i:03d}" for i in range(0, 20, 5)]
        text = next(d for d, _ in documents(20) if d.name == "doc000").text
        encoded = text.encode("utf-16-le")
        label = by_name["doc000"]["labels"][-1]  # after the emoji: UTF-16 offsets differ from code points
        assert encoded[2 * label["offset"]:2 * (label["offset"] + label["length"])].decode("utf-16-le") in (
            "Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Hooli", "Stark Industries", "Wayne Enterprises")
        assert len(by_name["doc001"]["labels"]) == 2


def test_bad_training_requests_get_4xx_naming_the_field(training_server):
    with training_server.api() as api:
        empty = api.new_project(entities=("Person",))
        project = labeled_project(api, count=10)
        cases = [
            (empty, {"modelLabel": "m"}, 400, "projectName"),
            (project, {"modelLabel": "m", "trainingConfigVersion": "gpt-9"}, 400, "trainingConfigVersion"),
            (project, {"modelLabel": "has space"}, 400, "modelLabel"),
            (project, {}, 400, "modelLabel"),
            (project, {"modelLabel": "m", "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": 100,
                                                              "testingSplitPercentage": 0}},
             400, "evaluationOptions.testingSplitPercentage"),
            (project, {"modelLabel": "m", "dataGenerationSettings": {}}, 400, "dataGenerationSettings"),
            ("nope", {"modelLabel": "m"}, 404, "projectName"),
        ]
        for name, body, status, target in cases:
            response = api.post(f"/{name}/:train", json=body)
            assert response.status_code == status, (body, response.text)
            assert response.json()["error"]["target"] == target, (body, response.text)
        for path, target in [("/models/none", "trainedModelLabel"), ("/models/none/evaluation/summary-result",
                                                                      "trainedModelLabel"),
                             ("/train/jobs/00000000-0000-0000-0000-000000000000", "jobId")]:
            response = api.get(f"/{project}{path}")
            assert response.status_code == 404 and response.json()["error"]["target"] == target


def test_one_training_at_a_time_and_cancelling(training_server):
    with training_server.api() as api:
        project = labeled_project(api, count=10)
        body = {"modelLabel": "m", "trainingConfigVersion": "onehot-char"}
        first = api.post(f"/{project}/:train", json=body)
        assert first.status_code == 202
        second = api.post(f"/{project}/:train", json=body)
        assert second.status_code == 409 and "only one training" in second.json()["error"]["message"]
        job_url = first.headers["Operation-Location"]
        cancel_url = job_url.split("?")[0] + "/:cancel"
        cancelled = api.post(cancel_url)
        assert cancelled.status_code == 202 and cancelled.headers["Operation-Location"] == job_url
        job = wait_for_job(api, job_url)
        assert job["status"] == "cancelled", job
        again = api.post(cancel_url)
        assert again.status_code == 409 and again.json()["error"]["target"] == "jobId"
        assert api.get(f"/{project}/models").json()["value"] == []
        assert api.post(f"/{project}/:train", json=body).status_code == 202  # the project is free again


def test_azure_client_sees_a_failed_start_as_an_error(training_server):
    with training_server.api() as api:
        project = api.new_project(entities=("Person",))
        with TextAuthoringProjectClient(training_server.base_url, AzureKeyCredential(api.key), project_name=project,
                                        polling_interval=0, retry_total=0) as client:
            with pytest.raises(HttpResponseError) as error:
                client.project.begin_train({"modelLabel": "m", "trainingConfigVersion": "latest"})
            assert error.value.status_code == 400 and error.value.error.target == "projectName"
