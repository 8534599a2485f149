"""Projects over HTTP, in Azure's shapes."""

import time
import uuid

import httpx


def body(name: str, **fields):
    return {"projectName": name, "projectKind": "CustomEntityRecognition", "language": "en-us",
            "storageInputContainerName": "docs", **fields}


def test_create_update_get_list_and_delete_a_project(api):
    name = f"p{uuid.uuid4().hex[:8]}"
    created = api.patch(f"/{name}", json=body(name, description="contracts"),
                        headers={"Content-Type": "application/merge-patch+json"})
    assert created.status_code == 201, created.text
    assert int(created.headers["X-Log-Position"]) > 0
    project = created.json()
    assert project["projectName"] == name and project["language"] == "en-us"
    assert project["createdDateTime"].endswith("Z") and project["overlapPolicy"] == "reject"

    updated = api.patch(f"/{name}", json={"description": "NDAs", "overlapPolicy": "allow"})
    assert updated.status_code == 200
    assert updated.json()["description"] == "NDAs" and updated.json()["language"] == "en-us"

    got = api.get(f"/{name}").json()  # read-your-writes: no position header needed
    assert got["description"] == "NDAs" and got["overlapPolicy"] == "allow"
    assert [p["projectName"] for p in api.list_projects().json()["value"]] == [name]

    deleted = api.delete(f"/{name}")
    assert deleted.status_code == 202
    job_url = deleted.headers["Operation-Location"]
    assert job_url.startswith("http://") and "/projects/global/deletion-jobs/" in job_url
    job = httpx.get(job_url, headers={"Ocp-Apim-Subscription-Key": api.key}).json()
    assert job["status"] == "succeeded" and job["jobId"] in job_url
    assert api.get(f"/{name}").status_code == 404
    assert api.list_projects().json()["value"] == []


def test_listing_pages_with_top_skip_and_next_link(api):
    names = sorted(api.new_project(entities=()) for _ in range(5))
    first = api.list_projects(maxpagesize=2).json()
    assert [p["projectName"] for p in first["value"]] == names[:2]
    seen = [p["projectName"] for p in first["value"]]
    link = first["nextLink"]
    while link:
        page = httpx.get(link, headers={"Ocp-Apim-Subscription-Key": api.key}).json()
        seen += [p["projectName"] for p in page["value"]]
        link = page.get("nextLink")
    assert seen == names
    limited = api.list_projects(top=3, skip=1, maxpagesize=2).json()
    assert [p["projectName"] for p in limited["value"]] == names[1:3]
    rest = httpx.get(limited["nextLink"], headers={"Ocp-Apim-Subscription-Key": api.key}).json()
    assert [p["projectName"] for p in rest["value"]] == names[3:4] and "nextLink" not in rest


def test_a_deleted_project_can_be_created_again_empty(api):
    name = api.new_project()
    assert api.put(f"/{name}/documents/d", json={"text": "Alice"}).status_code == 201
    first_life = api.get(f"/{name}").json()["createdDateTime"]
    assert api.delete(f"/{name}").status_code == 202
    time.sleep(1)  # Azure's times have whole seconds
    again = api.patch(f"/{name}", json=body(name))
    assert again.status_code == 201
    assert again.json()["createdDateTime"] == api.get(f"/{name}").json()["createdDateTime"] > first_life
    assert api.get(f"/{name}/documents").json()["value"] == []
    assert api.get(f"/{name}/entities").json()["value"] == []


def test_bad_project_requests_name_the_field(api):
    name = f"p{uuid.uuid4().hex[:8]}"
    cases = [
        (f"/{name}", body(name, projectKind="CustomSingleLabelClassification"), "projectKind"),
        (f"/{name}", body("other"), "projectName"),
        ("/bad%20name", body("bad name"), "projectName"),
        (f"/{'x' * 51}", body("x" * 51), "projectName"),
        (f"/{name}", body(name, colour="blue"), "colour"),
        (f"/{name}", body(name, language=None), "language"),
        (f"/{name}", body(name, language="english!"), "language"),
        (f"/{name}", body(name, multilingual="yes"), "multilingual"),
        (f"/{name}", body(name, overlapPolicy="sometimes"), "overlapPolicy"),
        (f"/{name}", body(name, settings=[1]), "settings"),
    ]
    for path, payload, target in cases:
        response = api.patch(path, json=payload)
        assert response.status_code == 400, (payload, response.text)
        assert response.json()["error"]["target"] == target, (payload, response.text)
    assert api.get(f"/{name}").status_code == 404  # nothing half-written


def test_requests_without_key_or_version_are_refused(server, api):
    name = api.new_project()
    anonymous = httpx.get(f"{server.base_url}/language/authoring/analyze-text/projects/{name}",
                          params={"api-version": "2025-05-15-preview"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["target"] == "Ocp-Apim-Subscription-Key"
    wrong_key = httpx.get(anonymous.request.url, headers={"Ocp-Apim-Subscription-Key": api.key + "x"})
    assert wrong_key.status_code == 401
    no_version = httpx.get(f"{server.base_url}/language/authoring/analyze-text/projects/{name}",
                           headers={"Ocp-Apim-Subscription-Key": api.key})
    assert no_version.status_code == 400 and no_version.json()["error"]["target"] == "api-version"


def test_a_revoked_key_stops_working_within_a_second(server, api):
    project = api.new_project()
    app = server.container.app
    principal = app.authenticate(api.key)
    assert api.get(f"/{project}").status_code == 200
    app.revoke_api_key(app.get_resource(principal.resource_id).name, principal.key_id, "test")
    time.sleep(1.1)
    assert api.get(f"/{project}").status_code == 401


def test_the_api_docs_page_loads_nothing_from_the_internet(server):
    import re

    import httpx

    page = httpx.get(f"{server.base_url}/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    for url in urls:
        assert httpx.get(server.base_url + url).status_code == 200, url
    assert httpx.get(f"{server.base_url}/redoc").status_code == 404


def test_the_openapi_document_tells_what_the_routes_answer(server):
    import httpx

    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "Ocp-Apim-Subscription-Key"
    error = {"$ref": "#/components/schemas/ErrorBody"}
    operations = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
                  if path.startswith("/language/")]
    assert len(operations) > 40
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("description"), where
        assert op["security"] == [{"APIKeyHeader": []}], where
        for status in ("400", "401", "404", "422"):  # 422: a route's own (a reused Idempotency-Key) only
            if status in op["responses"]:
                assert op["responses"][status]["content"]["application/json"]["schema"] == error, (where, status)
        answers = [s for s in op["responses"] if s.startswith("2")]
        assert answers, where
        for status in answers:  # a typed body, none (202, 204), or a file (JSONL, CoNLL)
            content = op["responses"][status].get("content")
            files = set(content or {}) == {"application/x-ndjson", "text/plain; charset=utf-8"}
            assert status in ("202", "204") or files or content["application/json"]["schema"]["$ref"], (where, status)
        assert ("409" in op["responses"]) == (method != "get"), where
    documents = spec["paths"]["/language/authoring/analyze-text/projects/{projectName}/documents/{documentName}"]
    assert {"200", "201"} <= set(documents["put"]["responses"])
    assert "412" in spec["paths"]["/language/authoring/analyze-text/projects/{projectName}/documents/"
                                   "{documentName}/:save-labels"]["post"]["responses"]


def test_a_method_a_path_does_not_take_gets_405_with_every_method_it_takes(api):
    project = api.new_project()
    refused = api.put(f"/{project}", json={})
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "DELETE, GET, PATCH"
