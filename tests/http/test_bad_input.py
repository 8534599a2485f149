"""Bad input of any shape gets a 4xx in Azure's error format, never a 500."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanledger.domain import ids

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["text", "name", "category", "offset", "length", "add", "remove", "documents",
                         "dataset", "language", "projectName", "settings", "x"]), children, max_size=4),
    max_leaves=12,
)

WRITES = [
    ("PATCH", "/{p}"),
    ("PUT", "/{p}/entities/E"),
    ("PUT", "/{p}/documents/d"),
    ("POST", "/{p}/documents/:batch"),
    ("PATCH", "/{p}/documents/d"),
    ("POST", "/{p}/documents/d/labels"),
    ("POST", "/{p}/documents/d/:save-labels"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(WRITES), body=json_values)
def test_random_json_bodies_never_cause_a_500(api, route, body):
    method, template = route
    project = getattr(api, "_fuzz_project", None)
    if project is None:
        project = api._fuzz_project = api.new_project()
        api.put(f"/{project}/documents/d", json={"text": "Alice and Bob"})
    response = api.request(method, template.format(p=project), json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(WRITES), raw=st.binary(max_size=40),
       content_type=st.sampled_from(["application/json", "text/plain", None]))
def test_malformed_bodies_and_content_types_get_400(api, route, raw, content_type):
    method, template = route
    project = getattr(api, "_fuzz_project", None)
    if project is None:
        project = api._fuzz_project = api.new_project()
        api.put(f"/{project}/documents/d", json={"text": "Alice and Bob"})
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.request(method, template.format(p=project), content=raw, headers=headers)
    if content_type != "application/json" and raw:
        assert response.status_code == 400, response.text  # not JSON: refused whatever it holds
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]["code"]


def test_query_parameters_are_checked(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": "Alice"})
    for path, params, target in [("/documents", {"top": -1}, "top"), ("/documents", {"maxpagesize": 0}, "maxpagesize"),
                                 ("/documents", {"skip": "x"}, "skip"), ("/documents", {"labeled": "maybe"}, "labeled"),
                                 ("/documents/d", {"stringIndexType": "Utf8"}, "stringIndexType"),
                                 ("/documents", {"api-version": "latest"}, "api-version")]:
        response = api.get(f"/{project}{path}", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["target"] == target


def test_json_that_the_event_store_could_not_hold_is_refused(api):
    project = api.new_project()
    raw_bodies = [
        (f"/{project}/documents/d", b'{"text": "lone \\ud800 surrogate"}', "body"),
        (f"/{project}", b'{"settings": {"threshold": NaN}}', "body"),
        (f"/{project}", b'{"settings": {"threshold": 1e999}}', "body"),
        (f"/{project}/documents/d", b'{"text": "nul \\u0000 inside"}', "text"),
        (f"/{project}", b'{"description": "nul \\u0000 inside"}', "description"),
        (f"/{project}", b'{"language": "' + b"en" + b"-abcdefgh" * 5 + b'"}', "language"),
    ]
    for path, raw, target in raw_bodies:
        method = "PATCH" if path == f"/{project}" else "PUT"
        response = api.request(method, path, content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (raw, response.text)
        assert response.json()["error"]["target"] == target, (raw, response.text)
    assert api.patch(f"/{project}", json={"settings": {"big": 2**70}}).status_code == 200
    assert api.get(f"/{project}").json()["settings"] == {"big": float(2**70)}


def test_huge_numbers_and_odd_headers_get_400(api):
    project = api.new_project()
    api.put(f"/{project}/documents/d", json={"text": "Alice"})
    for path, params in [("/documents", {"skip": 10**20}), ("/events", {"afterPosition": 10**20})]:
        assert api.get(f"/{project}{path}", params=params).status_code == 400
    for etag in [b"\xb2", b"9" * 5000, b'"1" "2"']:  # a latin-1 digit that str.isdigit() accepts
        response = api.post(f"/{project}/documents/d/:save-labels", json={}, headers={"If-Match": etag})
        assert response.status_code == 400, (etag, response.text)
    assert api.get(f"/{project}", headers={"X-Min-Log-Position": str(10**20)}).status_code == 400


def test_a_key_naming_something_other_than_a_resource_is_refused(api):
    """A key carries the id of its resource; one carrying a project's id must not get far."""
    project = api.new_project()
    project_id = ids.project_id(uuid.UUID(api.key.split("-")[1]), project)
    for forged in (f"sl-{project_id.hex}-00000000-xyz", f"sl-{uuid.uuid4().hex}-0-x", "sl-nothex-0-x"):
        response = api.get(f"/{project}", headers={"Ocp-Apim-Subscription-Key": forged})
        assert response.status_code == 401, (forged, response.text)
