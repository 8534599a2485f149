"""Prediction through a deployment with Azure's runtime client (azure-ai-textanalytics), and
over plain HTTP for the rest: per-document errors, offset units, one model per job."""

import pytest
from azure.ai.textanalytics import TextAnalysisClient
from azure.ai.textanalytics.models import (
    CustomEntitiesActionContent,
    CustomEntitiesLROTask,
    CustomEntityRecognitionOperationResult,
    MultiLanguageInput,
    MultiLanguageTextInput,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ResourceNotFoundError

from tests.http.test_deployments import project_with_models  # noqa: F401 (a fixture)

RUNTIME = "/language/analyze-text/jobs"
TEXT = "Alice Smith joined Acme Corp. \U0001F600 Bob Jones left Globex Inc."


def test_azure_runtime_client_predicts_with_a_deployment(server, api, project_with_models):  # noqa: F811
    project = project_with_models
    assert api.put(f"/{project}/deployments/prod", json={"trainedModelLabel": "m1"}).status_code == 202
    with TextAnalysisClient(server.base_url, AzureKeyCredential(api.key), polling_interval=0,
                            retry_total=0) as client:
        documents = MultiLanguageTextInput(multi_language_inputs=[
            MultiLanguageInput(id="1", text=TEXT, language="en"),
            MultiLanguageInput(id="2", text="", language="en"),
            MultiLanguageInput(id="3", text="Carla Diaz", language="xx-not-a-language-tag-at-all")])
        task = CustomEntitiesLROTask(name="ner", parameters=CustomEntitiesActionContent(
            project_name=project, deployment_name="prod", string_index_type="UnicodeCodePoint"))
        state = client.begin_analyze_text_job(text_input=documents, actions=[task], display_name="demo").result()
        (item,) = state.actions.items_property
        assert isinstance(item, CustomEntityRecognitionOperationResult)
        (doc,) = item.results.documents
        assert doc.id == "1" and doc.entities, "the tiny model finds the names it was trained on"
        for e in doc.entities:
            assert TEXT[e.offset:e.offset + e.length] == e.text and 0 < e.confidence_score <= 1
        assert {e.id: e.error.innererror.code for e in item.results.errors} == {
            "2": "InvalidDocument", "3": "UnsupportedLanguageCode"}

        task = CustomEntitiesLROTask(parameters=CustomEntitiesActionContent(project_name=project,
                                                                           deployment_name="missing"))
        with pytest.raises(ResourceNotFoundError):
            client.begin_analyze_text_job(text_input=documents, actions=[task]).result()


def test_offsets_in_each_unit_and_the_model_a_job_began_with(server, api, project_with_models):  # noqa: F811
    project, runtime = project_with_models, server.base_url + RUNTIME
    assert api.put(f"/{project}/deployments/prod", json={"trainedModelLabel": "m1"}).status_code == 202

    def run(unit: str) -> dict:
        body = {"analysisInput": {"documents": [{"id": "a", "text": TEXT}]},
                "tasks": [{"kind": "CustomEntityRecognition",
                           "parameters": {"projectName": project, "deploymentName": "prod",
                                          "stringIndexType": unit}}]}
        started = api.post(runtime, json=body)
        assert started.status_code == 202, started.text
        job = api.get(started.headers["Operation-Location"]).json()
        assert job["status"] == "succeeded"
        return job["tasks"]["items"][0]["results"]

    points, units, elements = run("UnicodeCodePoint"), run("Utf16CodeUnit"), run("TextElements_v8")
    after_emoji = [e for e in points["documents"][0]["entities"] if e["offset"] > TEXT.index("\U0001F600")]
    assert after_emoji, "a name after the emoji"
    shifted = {(e["offset"] - 1, e["length"]) for e in units["documents"][0]["entities"] if e["offset"] > 30}
    assert {(e["offset"], e["length"]) for e in after_emoji} == shifted  # the emoji: two UTF-16 units
    assert elements["documents"] == points["documents"]  # one text element per code point here
    assert points["modelLabel"] == "m1"

    swapped = api.put(f"/{project}/deployments/prod", json={"trainedModelLabel": "m2"})
    assert swapped.status_code == 202
    assert run("UnicodeCodePoint")["modelLabel"] == "m2"
    events = [e for e in api.get(f"/{project}/events").json()["value"] if e["eventType"] == "PredictionMade"]
    assert len(events) == 4 and {t["modelLabel"] for e in events for t in e["data"]["tasks"]} == {"m1", "m2"}


def test_a_job_is_its_resources_only_and_bad_bodies_name_the_field(server, api, project_with_models):  # noqa: F811
    project, runtime = project_with_models, server.base_url + RUNTIME
    api.put(f"/{project}/deployments/prod", json={"trainedModelLabel": "m1"})
    body = {"analysisInput": {"documents": [{"id": "a", "text": "Alice"}]},
            "tasks": [{"kind": "CustomEntityRecognition", "parameters": {"projectName": project,
                                                                         "deploymentName": "prod"}}]}
    location = api.post(runtime, json=body).headers["Operation-Location"]
    with server.api() as stranger:
        assert stranger.get(location).status_code == 404
    assert api.get(runtime + "/not-a-job").status_code == 404
    twice = {**body, "analysisInput": {"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}}
    refused = api.post(runtime, json=twice)
    assert refused.status_code == 400 and refused.json()["error"]["target"] == "analysisInput.documents[1].id"
    many = {**body, "analysisInput": {"documents": [{"id": str(i), "text": "x"} for i in range(26)]}}
    assert api.post(runtime, json=many).status_code == 400
