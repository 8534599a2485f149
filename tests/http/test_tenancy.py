"""Tenancy: a key of another resource sees none of a project, on every route."""

import uuid

from tests.conftest import PROJECTS

VALID_BODIES = {
    ("PATCH", "/{projectName}"): {"language": "en", "projectKind": "CustomEntityRecognition"},
    ("PUT", "/{projectName}/entities/{category}"): {},
    ("PUT", "/{projectName}/documents/{documentName}"): {"text": "Mallory was here"},
    ("POST", "/{projectName}/documents/:batch"): {"documents": [{"name": "m", "text": "Mallory"}]},
    ("PATCH", "/{projectName}/documents/{documentName}"): {"dataset": "Test"},
    ("POST", "/{projectName}/documents/{documentName}/labels"): {"category": "Person", "offset": 0, "length": 5},
    ("POST", "/{projectName}/documents/{documentName}/:save-labels"): {"remove": ["L1"]},
    ("POST", "/{projectName}/:train"): {"modelLabel": "m", "trainingConfigVersion": "onehot-char"},
    ("POST", "/{projectName}/autolabel/:preview"): {"modelLabel": "m"},
    ("POST", "/{projectName}/autolabel/jobs"): {"modelLabel": "m"},
    ("POST", "/{projectName}/autolabel/:review"): {"decision": "reject"},
    ("POST", "/{projectName}/documents/:import"): b'{"text": "Mallory", "spans": []}',
    ("PUT", "/{projectName}/deployments/{deploymentName}"): {"trainedModelLabel": "m"},
    ("POST", "/{projectName}/deployments/:swap"): {"firstDeploymentName": "a", "secondDeploymentName": "b"},
}
QUERIES = {
    ("POST", "/{projectName}/documents/:import"): {"format": "jsonl"},
    ("GET", "/{projectName}/documents/:export"): {"format": "jsonl"},
}
# Routes that make a project of the caller's own under the name: checked apart, below.
OWN_PROJECT = {("PATCH", "/{projectName}"), ("POST", "/{projectName}/:import")}


def routes(app):
    """Every (method, path) the API serves, as its OpenAPI document lists them."""
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            yield method.upper(), path.removeprefix(PROJECTS)


def test_every_route_hides_another_resources_project(server, api):
    victim = api.new_project()
    api.put(f"/{victim}/documents/d", json={"text": "Alice and Bob"})
    api.post(f"/{victim}/documents/d/labels", json={"category": "Person", "offset": 0, "length": 5})
    doomed = api.new_project()
    job_id = api.delete(f"/{doomed}").headers["Operation-Location"].split("/")[-1].split("?")[0]
    before = {path: api.get(f"/{victim}{path}").json() for path in ("", "/documents/d", "/events", "/entities")}

    params = {"projectName": victim, "documentName": "d", "category": "Person", "labelId": "L1", "jobId": job_id,
              "trainedModelLabel": "m", "suggestionId": "S1", "deploymentName": "prod"}
    with server.api() as mallory:
        checked = set()
        for method, template in routes(server.app):
            checked.add((method, template))
            if (method, template) in OWN_PROJECT:
                continue
            if template == "":
                assert mallory.list_projects().json()["value"] == []
                continue
            if "{" not in template:  # not about any project (the training config versions, say)
                assert victim not in mallory.request(method, template).text
                continue
            if template.startswith("/language/analyze-text"):
                continue  # the runtime API names projects in its body: checked below
            body = VALID_BODIES.get((method, template))
            sent = {"content": body} if isinstance(body, bytes) else {"json": body}
            response = mallory.request(method, template.format(**params), params=QUERIES.get((method, template)),
                                       **sent)
            assert response.status_code == 404, (method, template, response.text)
        runtime = mallory.post(f"{server.base_url}/language/analyze-text/jobs", json={
            "analysisInput": {"documents": [{"id": "1", "text": "Alice"}]},
            "tasks": [{"kind": "CustomEntityRecognition", "parameters": {"projectName": victim,
                                                                         "deploymentName": "prod"}}]})
        assert runtime.status_code == 404 and runtime.json()["error"]["code"] == "ProjectNotFound"
        own = mallory.patch(f"/{victim}", json=VALID_BODIES[("PATCH", "/{projectName}")])
        assert own.status_code == 201  # the same name, in Mallory's resource: another project
        assert mallory.get(f"/{victim}/documents").json()["value"] == []
    assert {(m, t) for m, t in checked if t} >= set(VALID_BODIES)
    assert len(checked) >= 29
    after = {path: api.get(f"/{victim}{path}").json() for path in before}
    assert after == before  # nothing of the victim's changed


def test_keys_are_stored_hashed(server, api):
    recorder = server.container.app.recorder
    states = b"".join(n.state for n in recorder.select_notifications(start=1, limit=100_000))
    assert api.key.encode() not in states
    assert uuid.UUID(api.key.split("-")[1])  # the key names its resource; the secret part is hashed
