"""Deployments with Azure's own client (deploy, get, list, swap, delete), and over plain HTTP
for what the client does not show: events, jobs that belong to their deployment, refusals."""

import pytest
from azure.ai.textanalytics.authoring import TextAuthoringProjectClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support import install_model


@pytest.fixture
def project_with_models(server, api, tiny_model):
    project = api.new_project()
    for name, dataset in (("d", "Train"), ("t", "Test")):
        body = {"text": "Alice Smith joined Acme Corp.", "dataset": dataset}
        assert api.put(f"/{project}/documents/{name}", json=body).status_code == 201
        added = api.post(f"/{project}/documents/{name}/labels", json={"category": "Person", "offset": 0, "length": 11})
    assert server.container.runner.wait_for(int(added.headers["X-Log-Position"]), 10)  # training reads the view
    resource_id = server.container.app.authenticate(api.key).resource_id
    for label in ("m1", "m2"):
        install_model(server.container, resource_id, project, label, tiny_model)
    return project


def test_azure_client_deploys_swaps_and_deletes(server, api, project_with_models):
    project = project_with_models
    with TextAuthoringProjectClient(server.base_url, AzureKeyCredential(api.key), project_name=project,
                                    polling_interval=0, retry_total=0) as client:
        client.deployment.begin_deploy_project("production", {"trainedModelLabel": "m1"}).result()
        client.deployment.begin_deploy_project("staging", {"trainedModelLabel": "m2"}).result()
        production = client.deployment.get_deployment("production")
        assert production.deployment_name == "production" and production.model_id.startswith("m1-")
        assert production.last_deployed_on is not None
        assert [d.deployment_name for d in client.project.list_deployments()] == ["production", "staging"]

        client.project.begin_swap_deployments({"firstDeploymentName": "production",
                                               "secondDeploymentName": "staging"}).result()
        assert client.deployment.get_deployment("production").model_id.startswith("m2-")
        assert client.deployment.get_deployment("staging").model_id.startswith("m1-")

        client.deployment.begin_delete_deployment("staging").result()
        with pytest.raises(ResourceNotFoundError):
            client.deployment.get_deployment("staging")
        with pytest.raises(HttpResponseError) as missing_model:
            client.deployment.begin_deploy_project("other", {"trainedModelLabel": "nope"})
        assert missing_model.value.status_code == 404 and missing_model.value.error.target == "trainedModelLabel"

    kinds = [e["eventType"] for e in api.get(f"/{project}/events").json()["value"]]
    assert kinds.count("ModelDeployed") == 2 and "DeploymentsSwapped" in kinds and "DeploymentDeleted" in kinds


def test_deployment_jobs_belong_to_their_deployment_and_names_are_checked(api, project_with_models):
    project = project_with_models
    deployed = api.put(f"/{project}/deployments/a", json={"trainedModelLabel": "m1"})
    assert deployed.status_code == 202
    job = deployed.headers["Operation-Location"]
    assert api.get(job).json()["status"] == "succeeded"
    assert api.get(job.replace("/deployments/a/", "/deployments/b/")).status_code == 404
    assert api.put(f"/{project}/deployments/swap", json={"trainedModelLabel": "m1"}).status_code == 400
    refused = api.post(f"/{project}/deployments/:swap", json={"firstDeploymentName": "a",
                                                             "secondDeploymentName": "a"})
    assert refused.status_code == 400 and refused.json()["error"]["target"] == "secondDeploymentName"
    refused = api.post(f"/{project}/deployments/:swap", json={"firstDeploymentName": "a",
                                                             "secondDeploymentName": "zzz"})
    assert refused.status_code == 404 and refused.json()["error"]["target"] == "secondDeploymentName"
