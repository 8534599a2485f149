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
}


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
              "trainedModelLabel": "m", "suggestionId": "S1"}
    with server.api() as mallory:
        checked = set()
        for method, template in routes(server.app):
            checked.add((method, template))
            if (method, template) == ("PATCH", "/{projectName}"):
                continue  # creates a project of Mallory's own: checked last, below
            if template == "":
                assert mallory.list_projects().json()["value"] == []
                continue
            if "{" not in template:  # not about any project (the training config versions, say)
                assert victim not in mallory.request(method, template).text
                continue
            response = mallory.request(method, template.format(**params), json=VALID_BODIES.get((method, template)))
            assert response.status_code == 404, (method, template, response.text)
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
