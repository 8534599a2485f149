"""Random bytes, sizes and Unicode in every name and filter: never a 5xx, and a refused
request never changes the log (on both backends: PostgreSQL text cannot hold NUL, SQLite can)."""

from urllib.parse import quote, quote_from_bytes

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

names = st.one_of(
    st.text(max_size=300),  # any code point but surrogates, any length around the limits
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8).map(lambda s: s + "\u202e\u200b\x00"),
    st.sampled_from([".", "..", "global", " x", "x ", "a/b", "a%2Fb", "\ufeff", "é", "é"]),
)
raw_bytes = st.binary(min_size=1, max_size=40)

ROUTES = [  # (method, path template with {n} for the name, JSON body)
    ("PUT", "/{p}/documents/{n}", {"text": "Alice"}),
    ("GET", "/{p}/documents/{n}", None),
    ("DELETE", "/{p}/documents/{n}", None),
    ("GET", "/{p}/documents/{n}/events", None),
    ("POST", "/{p}/documents/{n}/:save-labels", {"add": [{"category": "Person", "offset": 0, "length": 1}]}),
    ("PUT", "/{p}/entities/{n}", None),
    ("DELETE", "/{p}/entities/{n}", None),
    ("PATCH", "/{n}", {"language": "en", "projectKind": "CustomEntityRecognition"}),
    ("GET", "/{p}/models/{n}", None),
    ("GET", "/{p}/train/jobs/{n}", None),
    ("POST", "/{p}/autolabel/jobs/{n}/:cancel", None),
]
FILTERS = [("/{p}/documents", "entity"), ("/{p}/documents", "job"), ("/{p}/events", "actor"),
           ("/{p}/events", "eventType"), ("/{p}/documents", "dataset")]


def _project(api) -> str:
    project = getattr(api, "_fuzz_project", None)
    if project is None:
        project = api._fuzz_project = api.new_project(entities=("Person",))
        api.put(f"/{project}/documents/d", json={"text": "Alice and Bob"})
    return project


def _check(server, api, method: str, path: str, body) -> None:
    head = server.container.app.recorder.max_notification_id()
    response = api.request(method, path, json=body) if body is not None else api.request(method, path)
    assert response.status_code < 500, (method, path, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]["code"]
        assert server.container.app.recorder.max_notification_id() == head, (method, path, response.text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), name=names)
def test_any_name_in_a_path_is_answered_below_500_and_refusals_write_nothing(server, api, route, name):
    method, template, body = route
    path = template.format(p=_project(api), n=quote(name, safe=""))
    if path.rstrip("/").endswith(("/documents", "/entities", "/models", "/jobs")) or not name:
        return  # an empty name is another route
    _check(server, api, method, path, body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), raw=raw_bytes)
def test_any_bytes_in_a_path_are_answered_below_500(server, api, route, raw):
    method, template, body = route
    _check(server, api, method, template.format(p=_project(api), n=quote_from_bytes(raw, safe="")), body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(FILTERS), value=names)
def test_any_filter_value_is_answered_below_500(server, api, target, value):
    path, parameter = target
    response = api.get(path.format(p=_project(api)), params={parameter: value})
    assert response.status_code < 500, response.text
