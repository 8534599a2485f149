"""Azure's own Python client (azure-ai-textanalytics-authoring) against spanledger, over HTTP."""

import uuid

import pytest
from azure.ai.textanalytics.authoring import TextAuthoringClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError


@pytest.fixture
def client(server):
    key = server.new_key()
    with TextAuthoringClient(server.base_url, AzureKeyCredential(key), polling_interval=0, retry_total=0) as c:
        yield c


def test_azure_client_creates_lists_gets_and_deletes_projects(client):
    names = sorted(f"az{uuid.uuid4().hex[:8]}" for _ in range(3))
    for name in names:
        created = client.create_project(name, {
            "projectName": name, "projectKind": "CustomEntityRecognition", "language": "en",
            "storageInputContainerName": "container", "description": "from the Azure client"})
        assert created.project_name == name and created.language == "en"
        assert created.created_on is not None and created.created_on.tzinfo is not None

    updated = client.create_project(names[0], {"description": "updated"})
    assert updated.description == "updated"
    assert [p.project_name for p in client.list_projects(maxpagesize=2)] == names  # follows nextLink

    project = client.get_project(names[1])
    assert project.project_kind == "CustomEntityRecognition" and project.last_modified_on is not None

    assert client.begin_delete_project(names[1]).result() is None  # polls the deletion job
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_project(names[1])
    assert missing.value.error.code == "NotFound"
    assert [p.project_name for p in client.list_projects()] == [names[0], names[2]]


def test_azure_client_sees_4xx_errors_with_their_target(client, server):
    with pytest.raises(HttpResponseError) as bad:
        client.create_project("az-bad", {"projectName": "az-bad", "projectKind": "CustomEntityRecognition",
                                         "language": "not a language", "storageInputContainerName": "c"})
    assert bad.value.status_code == 400 and bad.value.error.target == "language"
    with TextAuthoringClient(server.base_url, AzureKeyCredential("sl-wrong"), retry_total=0) as anonymous:
        with pytest.raises(ClientAuthenticationError):
            anonymous.get_project("anything")


def test_azure_client_imports_and_exports_a_project_file(server):
    """begin_import with a file as Azure's samples write it (plus spanledger's `text` field),
    begin_export polled to its job, whose resultUrl serves the file."""
    from azure.ai.textanalytics.authoring import TextAuthoringProjectClient

    name, key = f"az{uuid.uuid4().hex[:8]}", server.new_key()
    text = "Loan from Contoso Bank to \U0001F600 Ana Silva, signed in Lisbon.\r\n"
    file = {
        "projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectKind": "CustomEntityRecognition", "storageInputContainerName": "loans",
                     "projectName": name, "language": "en", "multilingual": False, "description": "loans"},
        "assets": {"projectKind": "CustomEntityRecognition",
                   "entities": [{"category": "Lender"}, {"category": "Borrower"}],
                   "documents": [{"location": "loan1.txt", "language": "en-us", "dataset": "Train", "text": text,
                                  "entities": [{"regionOffset": 0, "regionLength": len(text) + 1, "labels": [
                                      {"category": "Lender", "offset": 10, "length": 12},
                                      {"category": "Borrower", "offset": 29, "length": 9}]}]}]},
    }
    with TextAuthoringProjectClient(server.base_url, AzureKeyCredential(key), project_name=name,
                                    polling_interval=0, retry_total=0) as project:
        assert project.project.begin_import(body=file, format="json").result() is None
        job = project.project.begin_export(string_index_type="Utf16CodeUnit",
                                           cls=lambda response, _, __: response.http_response.json()).result()
    assert job["status"] == "succeeded"
    import httpx

    exported = httpx.get(job["resultUrl"], headers={"Ocp-Apim-Subscription-Key": key}).json()
    document = exported["assets"]["documents"][0]
    assert document["text"] == text and document["language"] == "en-us"
    assert document["entities"][0]["labels"] == [{"category": "Lender", "offset": 10, "length": 12},
                                                 {"category": "Borrower", "offset": 29, "length": 9}]
    assert exported["metadata"]["description"] == "loans"
    assert [e["category"] for e in exported["assets"]["entities"]] == ["Borrower", "Lender"]
