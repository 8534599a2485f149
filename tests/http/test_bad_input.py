"""Bad input of any shape gets a 4xx in Azure's error format, never a 500."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.request(method, template.format(p="fuzz"), content=raw, headers=headers)
    assert 400 <= response.status_code < 500, response.text
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
