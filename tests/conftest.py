"""Shared fixtures: a store on each backend, a live HTTP server, and an API client.

Integration and API tests run once on SQLite and once on PostgreSQL. PostgreSQL is skipped
only when CI is unset and no server answers on SPANLEDGER_TEST_POSTGRES (the skip reason
is printed in the summary); under CI its absence fails the run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from spanledger.api.app import create_app
from spanledger.bootstrap import Container, build
from spanledger.bootstrap.databases import drop_database, ensure_database
from spanledger.bootstrap.settings import Settings
from tests import conformance

POSTGRES = os.environ.get("SPANLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
API_VERSION = "2025-05-15-preview"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
PROJECTS = "/language/authoring/analyze-text/projects"


# The longest modules first: with `-n 2 --dist loadscope --no-loadscope-reorder` (xdist would
# otherwise order modules by their number of tests) a worker takes modules in this order,
# so the model-quality training (2 min on a quiet machine, 3 beside a CPU-bound process, 7-8
# on a loaded one) overlaps the rest of the suite instead of running alone at its end.
SLOWEST_FIRST = ("tests/e2e/test_model_quality.py", "tests/e2e/test_worker_restart.py",
                 "tests/http/test_autolabel_api.py", "tests/integration/test_rebuild_equivalence.py",
                 "tests/http/test_openapi_fuzz.py", "tests/integration/test_ner_model.py",
                 "tests/e2e/test_multi_process.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


def _postgres_answers() -> bool:
    try:
        psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


POSTGRES_UP = _postgres_answers()


def require_backend(backend: str) -> None:
    if backend == "postgres" and not POSTGRES_UP:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL does not answer at {POSTGRES}")
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES} and CI is unset: PostgreSQL cases skipped")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return request.param


def make_settings(backend: str, data_dir: Path, **overrides: object) -> Iterator[Settings]:
    """Settings for a store on `backend`; a server started with them listens on a free port
    (the links the API hands out name it)."""
    overrides.setdefault("port", free_port())
    url = None
    if backend == "postgres":
        url = f"{POSTGRES}/test_{uuid.uuid4().hex[:16]}"
        ensure_database(url)
    try:
        yield Settings(data_dir=data_dir, database_url=url, **overrides)
    finally:
        if url:
            drop_database(url)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    yield from make_settings(backend, tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings)
    yield c
    c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """spanledger served over real HTTP on a free port, with its projections following."""

    def __init__(self, container: Container):
        self.container = container
        self.port = container.settings.port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(container)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def new_key(self, resource: str | None = None) -> str:
        _, key, _ = self.container.app.create_resource(resource or f"r{uuid.uuid4().hex[:12]}", "test")
        return key

    def another_key(self, key: str, name: str | None = None) -> str:
        """A second API key of the resource `key` belongs to (held by `name`)."""
        app = self.container.app
        resource = app.get_resource(app.authenticate(key).resource_id)
        return app.issue_api_key(resource.name, "test", name)[0]

    def api(self, key: str | None = None) -> Api:
        return Api(self.base_url, key or self.new_key())


class Api(httpx.Client):
    """An HTTP client for the authoring routes: api-version and key already set; each answer
    checked against the served OpenAPI document (tests.conformance)."""

    def __init__(self, base_url: str, key: str | None):
        headers = {KEY_HEADER: key} if key else {}
        super().__init__(base_url=base_url + PROJECTS, headers=headers, params={"api-version": API_VERSION},
                         timeout=30, event_hooks={"response": [conformance.check]})
        self.key = key

    def list_projects(self, **params: object) -> httpx.Response:
        """GET on the collection itself (httpx would add a trailing slash to a relative '')."""
        return self.get(str(self.base_url).rstrip("/"), params=params)

    def new_project(self, entities: tuple[str, ...] = ("Person", "Org"), **fields: object) -> str:
        name = f"p{uuid.uuid4().hex[:10]}"
        body = {"projectName": name, "projectKind": "CustomEntityRecognition", "language": "en",
                "storageInputContainerName": "container", **fields}
        assert self.patch(f"/{name}", json=body).status_code == 201
        for entity in entities:
            assert self.put(f"/{name}/entities/{entity}").status_code == 201
        return name


def live_server(backend: str, data_dir: Path, *, work: bool = False, **overrides: object) -> Iterator[LiveServer]:
    """spanledger on `backend` over real HTTP (with its workers if `work`), for one module."""
    require_backend(backend)
    for settings in make_settings(backend, data_dir, read_wait_seconds=10, **overrides):
        container = build(settings, follow=True, work=work)
        live = LiveServer(container).start()
        try:
            yield live
        finally:
            live.stop()
            container.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from live_server(request.param, tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def training_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server that also runs a training worker, training tiny models (3 epochs)."""
    yield from live_server(request.param, tmp_path_factory.mktemp("trainer"), work=True, training_max_epochs=3,
                           training_lease_seconds=20)


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    with server.api() as client:
        yield client


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real flair model (Person, Org) trained once for the session on tests.training_data."""
    from spanledger.ner.model import train
    from spanledger.ner.recipes import onehot_char
    from spanledger.ner.spans import LabeledText, Span
    from tests.training_data import documents

    texts = [LabeledText(d.text, tuple(Span(l.offset, l.offset + l.length, l.category) for l in labels), d.name)
             for d, labels in documents(30)]
    recipe = onehot_char(max_epochs=20, hidden_size=32, mini_batch_size=4)
    return train(texts, recipe, tmp_path_factory.mktemp("tiny-model")).path
