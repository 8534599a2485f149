"""Operations over real HTTP: Prometheus metrics at /metrics, request ids (answered, logged as
JSON, recorded on the events a request writes), and X-Acting-For recorded as the actor."""

from __future__ import annotations

import io
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import orjson
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from spanledger.observability import logs
from spanledger.observability.request_context import RequestContext, current_request
from tests import conformance
from tests.conftest import live_server

LABEL = "/{projectName}/documents/{documentName}/labels"
DOCUMENT = "/language/authoring/analyze-text/projects/{projectName}/documents/{documentName}"
MISSING_RECIPE = {"name": "not-on-this-server"}  # a worker refuses it at once: a job that ends quickly


def scrape(server, **headers: str) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, event_hooks={"response": [conformance.check]}) as client:
        return client.get("/metrics", headers=headers)


def samples(server) -> dict[str, dict[tuple, float]]:
    """metric sample name -> labels (sorted items) -> value, as Prometheus would read the scrape."""
    answer = scrape(server)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            found.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return found


def resource_of(key: str) -> UUID:
    return UUID(hex=key.split("-")[1])


def key_id(key: str) -> str:
    return key.split("-")[2]


def labeled_project(api) -> str:
    """A project that can train: a labeled Train and Test document, and one unlabeled ('c')."""
    project = api.new_project(entities=("Person",))
    for name, dataset in (("a", "Train"), ("b", "Test")):
        assert api.put(f"/{project}/documents/{name}", json={"text": "Alice met Bob.", "dataset": dataset}).status_code == 201
        assert api.post(f"/{project}/documents/{name}/labels",
                        json={"category": "Person", "offset": 0, "length": 5}).status_code == 201
    written = api.put(f"/{project}/documents/c", json={"text": "Carol " * 300})  # 1,800 characters: 2 text records
    assert written.status_code == 201
    return project


def record_model(server, key: str, project: str, label: str) -> None:
    """A model whose file this server does not hold: auto-labeling with it fails at once. Its
    training job is claimed here, before a worker can (a worker that wins fails it: try again)."""
    app = caught_up(server)
    for _ in range(5):
        job, _ = app.request_training(resource_of(key), project, model_label=label, config_version="onehot-char",
                                      evaluation={"kind": "manual"}, recipe=MISSING_RECIPE, actor="key:test")
        claimed = app.claim_training(job.id, "test", datetime.now(UTC), timedelta(minutes=5))
        if claimed is None:
            wait_until(lambda: app.training_job(job.id).status == "failed")  # noqa: B023
            continue
        app.complete_training(
            job.id, claimed.attempt, artifact="0" * 64, evaluation_artifact=server.container.artifacts.put_json([]),
            fingerprint="0" * 64, duration_seconds=1.0, recipe=MISSING_RECIPE, evaluation={"kind": "manual"},
            entity_types=["Person"], metrics={"entities": {}, "micro": {}, "macro": {}, "confusion": {}})
        return
    pytest.fail("a worker claimed every training job first")


def caught_up(server):
    """The server's application, once its read model holds every write so far (commands
    called directly read it, as the routes do with the caller's own writes)."""
    app = server.container.app
    assert server.container.runner.wait_for(app.recorder.max_notification_id(), 10)
    return app


def wait_until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- metrics ------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_and_read_the_read_model(server, api):
    project = labeled_project(api)
    assert api.get(f"/{project}/documents/nope").status_code == 404
    record_model(server, api.key, project, "m")
    started = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m"})  # no worker here: it waits
    assert started.status_code == 202, started.text

    caught_up(server)  # the read-model figures are read as they stand
    metrics = samples(server)
    requests = metrics["spanledger_http_requests_total"]
    route = (("method", "PUT"), ("route", DOCUMENT), ("status", "201"))
    assert requests[route] >= 3  # a, b and c: one series for every document name
    assert requests[(("method", "GET"), ("route", DOCUMENT), ("status", "404"))] >= 1
    assert metrics["spanledger_http_request_duration_seconds_count"][route] == requests[route]
    assert metrics["spanledger_read_model_up"][()] == 1
    lags = metrics["spanledger_projection_lag_events"]
    assert {dict(labels)["projection"] for labels in lags} == set(server.container.runner.positions())
    assert all(lag >= 0 for lag in lags.values())
    jobs = metrics["spanledger_jobs"]
    assert jobs[(("kind", "auto-labeling"), ("state", "notStarted"))] >= 1
    assert jobs[(("kind", "training"), ("state", "succeeded"))] >= 1
    resource = (("resource", str(resource_of(api.key))),)
    assert metrics["spanledger_quota_used_text_records"][resource] == 2  # reserved by the waiting job
    assert metrics["spanledger_quota_limit_text_records"][resource] == 5000
    assert "process_cpu_seconds_total" in metrics
    saves = metrics["spanledger_saves_per_transaction_sum"][()]  # the writes above, through the group commit
    assert metrics["spanledger_saves_per_transaction_count"][()] >= 1 and saves >= 5

    text = scrape(server).text  # no tenant's names: the route templates and ids only
    assert project not in text and "documents/c" not in text and "nope" not in text


def test_metrics_speak_openmetrics_when_asked_and_a_token_can_guard_them(server):
    answer = scrape(server, accept="application/openmetrics-text; version=1.0.0")
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    names = {family.name for family in openmetrics_families(answer.text)}
    assert {"spanledger_http_requests", "spanledger_projection_lag_events", "spanledger_jobs"} <= names

    settings = server.container.settings
    settings.metrics_token = "s3cret"
    try:
        refused = scrape(server)
        assert refused.status_code == 401 and refused.json()["error"]["target"] == "Authorization"
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert scrape(server, authorization="Bearer wrong").status_code == 401
        assert scrape(server, authorization="Bearer s3cret").status_code == 200
    finally:
        settings.metrics_token = None


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def worker_server(request, tmp_path_factory):
    yield from live_server(request.param, tmp_path_factory.mktemp("operations"), work=True)


def test_job_durations_are_observed_where_jobs_end(worker_server):
    with worker_server.api() as api:
        project = labeled_project(api)
        app = caught_up(worker_server)
        failing, _ = app.request_training(resource_of(api.key), project, model_label="x", config_version="v",
                                          evaluation={"kind": "manual"}, recipe=MISSING_RECIPE, actor="key:test")
        wait_until(lambda: app.training_job(failing.id).status == "failed")
        record_model(worker_server, api.key, project, "m")
        started = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m"})
        assert started.status_code == 202, started.text
        job = started.headers["Operation-Location"].split("?")[0].rsplit("/", 1)[1]
        wait_until(lambda: app.autolabel_job(UUID(job)).status == "failed")  # the model's file is not here

        def observed() -> dict:
            return samples(worker_server)["spanledger_job_duration_seconds_count"]

        wait_until(lambda: (("kind", "auto-labeling"), ("status", "failed")) in observed(), 5)
        counts = observed()
        assert counts[(("kind", "training"), ("status", "failed"))] >= 1
        assert counts[(("kind", "auto-labeling"), ("status", "failed"))] == 1
        # The jobs gauge is the read model's: it shows the failure once the follower applied it.
        wait_until(lambda: samples(worker_server)["spanledger_jobs"].get(
            (("kind", "auto-labeling"), ("state", "failed"))) == 1, 5)


# -- request ids and logs -----------------------------------------------------------------


def test_a_request_id_is_answered_and_recorded_on_every_event_the_request_writes(server, api):
    project = api.new_project(entities=("Person",))
    rid = f"ops-{uuid.uuid4()}"
    written = api.put(f"/{project}/documents/d", json={"text": "Alice met Bob."}, headers={"X-Request-Id": rid})
    assert written.status_code == 201 and written.headers["X-Request-Id"] == rid
    position = int(written.headers["X-Log-Position"])
    (stored,) = server.container.app.recorder.select_notifications(start=position, limit=1)
    assert orjson.loads(stored.state)["request_id"] == rid and stored.topic.endswith("DocumentAdded")
    entry = api.get(f"/{project}/documents/d/events").json()["value"][0]
    assert entry["requestId"] == rid and "requestId" not in entry["data"]  # the audit shows it beside the event

    for junk in ("has spaces", "x" * 129, "ünïcode"):
        answer = api.get(f"/{project}", headers={"X-Request-Id": junk.encode()})
        assert answer.status_code == 200 and len(answer.headers["X-Request-Id"]) == 32  # a new one, not the junk
    assert api.get(f"/{project}").headers["X-Request-Id"] != api.get(f"/{project}").headers["X-Request-Id"]


def test_an_unexpected_error_is_answered_with_its_request_id_and_counted(server):
    async def broken() -> None:
        raise RuntimeError("a bug, on purpose")

    server.app.add_api_route("/broken-for-this-test", broken, include_in_schema=False)
    with httpx.Client(base_url=server.base_url) as client:
        answer = client.get("/broken-for-this-test", headers={"X-Request-Id": "broken-1"})
    assert answer.status_code == 500 and answer.headers["X-Request-Id"] == "broken-1"
    series = (("method", "GET"), ("route", "/broken-for-this-test"), ("status", "500"))
    wait_until(lambda: samples(server)["spanledger_http_requests_total"].get(series) == 1, 5)


@pytest.fixture
def request_log():
    """The API's request lines, as the JSON formatter writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("spanledger.api.requests")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_each_request_is_logged_as_one_json_object_with_its_id(api, request_log):
    project = api.new_project(entities=("Person",))
    answer = api.get(f"/{project}/documents/missing", headers={"X-Request-Id": "log-test-1"})
    assert answer.status_code == 404

    def line() -> dict | None:
        found = [orjson.loads(text) for text in request_log.getvalue().splitlines()]
        return next((entry for entry in found if entry.get("request_id") == "log-test-1"), None)

    wait_until(lambda: line() is not None, 5)  # written once the answer has gone
    entry = line()
    assert entry["level"] == "INFO" and entry["logger"] == "spanledger.api.requests"
    assert (entry["method"], entry["route"], entry["status"]) == ("GET", DOCUMENT, 404)
    assert entry["path"].endswith(f"/{project}/documents/missing") and entry["duration_ms"] >= 0
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None and "404" in entry["message"]


def test_log_lines_carry_the_request_id_and_the_format_is_chosen_by_setting():
    stream = io.StringIO()
    root = logging.getLogger()
    console = logging.StreamHandler(stream)  # what `spanledger serve` sets up before uvicorn starts
    root.addHandler(console)
    token = current_request.set(RequestContext("rid-7"))
    try:
        logs.configure("json")
        logging.getLogger("spanledger.test").warning("inside a request")
        logs.configure("text")
        logging.getLogger("spanledger.test").warning("as text")
    finally:
        current_request.reset(token)
        root.removeHandler(console)
    as_json, as_text = stream.getvalue().splitlines()
    assert orjson.loads(as_json) | {"time": None} == {"time": None, "level": "WARNING", "logger": "spanledger.test",
                                                       "message": "inside a request", "request_id": "rid-7"}
    assert as_text.endswith("WARNING spanledger.test: as text [request rid-7]")


# -- acting for ---------------------------------------------------------------------------


def test_acting_for_is_recorded_as_the_actor_and_the_audit_filters_by_it(server, api):
    project = api.new_project(entities=("Person",))
    person = "José Müller"  # UTF-8 in the header
    acting = {"X-Acting-For": person.encode()}
    assert api.put(f"/{project}/documents/d", json={"text": "Alice met Bob."}, headers=acting).status_code == 201
    added = api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 0, "length": 5},
                     headers=acting)
    assert added.status_code == 201
    (stored,) = server.container.app.recorder.select_notifications(start=int(added.headers["X-Log-Position"]),
                                                                   limit=1)
    assert orjson.loads(stored.state)["acting_for"] == person

    actor = f"key:{key_id(api.key)} for {person}"
    assert len(f"key:{key_id(api.key)} for {'x' * 40}") <= 64  # the longest name fits the audit's actor column
    events = api.get(f"/{project}/events", params={"actor": actor}).json()["value"]
    assert [e["eventType"] for e in events] == ["DocumentAdded", "LabelAdded"]
    assert all(e["actor"] == actor and e["actingFor"] == person for e in events)
    # The key's id alone: its own events and those it wrote for someone.
    mine = api.get(f"/{project}/events", params={"actor": f"key:{key_id(api.key)}"}).json()["value"]
    assert [e["eventType"] for e in mine] == ["ProjectCreated", "EntityAdded", "DocumentAdded", "LabelAdded"]


@pytest.mark.parametrize("value, problem", [
    ("x" * 41, "1-40 characters"),
    ("bad\u202ename", "format"),  # a bidi override
    ("zero\u200bwidth", "format"),
    ("e\u0301", "NFC"),
    (".", "'.'"),
])
def test_a_bad_acting_for_is_refused_naming_the_header_and_writes_nothing(api, value, problem):
    project = api.new_project(entities=("Person",))
    refused = api.put(f"/{project}/documents/d", json={"text": "Alice"}, headers={"X-Acting-For": value.encode()})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["target"] == "X-Acting-For" and problem in error["message"] and "64" in error["message"]
    assert "X-Log-Position" not in refused.headers
    assert api.get(f"/{project}/documents/d").status_code == 404


def test_acting_for_must_be_utf8_and_sent_once(api):
    project = api.new_project(entities=("Person",))
    not_utf8 = api.put(f"/{project}/documents/d", json={"text": "Alice"}, headers={"X-Acting-For": b"\xff\xfe"})
    assert not_utf8.status_code == 400 and not_utf8.json()["error"]["target"] == "X-Acting-For"
    twice = api.put(f"/{project}/documents/d", json={"text": "Alice"},
                    headers=[("X-Acting-For", "a"), ("X-Acting-For", "b")])
    assert twice.status_code == 400 and "once" in twice.json()["error"]["message"]
