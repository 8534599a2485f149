"""Scale-out on one PostgreSQL database: two `spanledger serve` processes (API only) and two
`spanledger worker` processes, each with an empty data directory of its own (nothing shared but
the database), as in the README's Deployment diagram.
Clients write labels through both servers at once while a model is trained and an
auto-labeling job runs; the job's holder and a process of the other kind are SIGKILLed in the
middle. Afterwards: every acknowledged write is in the log once, each job ended once, reads
saw their own writes through either server, and the read model equals a replay of the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from spanledger.bootstrap import build
from spanledger.domain import ids
from spanledger.domain.application import NewDocument
from spanledger.domain.quota import QuotaLedger
from tests.conftest import API_VERSION, KEY_HEADER, PROJECTS, free_port, make_settings, require_backend
from tests.support import dump_read_model, rebuilt, wait
from tests.training_data import add_labeled_project, documents

pytestmark = pytest.mark.postgres

ACTOR = "key:test"
CLIENTS = 4
LABELS = 400  # at most, a client: one a word of its document
TO_LABEL = 80  # documents the auto-labeling job covers, one a batch: long enough to be killed in
ENV = {"PYTHONUNBUFFERED": "1", "SPANLEDGER_TRAINING_MAX_EPOCHS": "1", "SPANLEDGER_TRAINING_THREADS": "1",
       "SPANLEDGER_TRAINING_LEASE_SECONDS": "5", "SPANLEDGER_AUTOLABEL_LEASE_SECONDS": "4",
       "SPANLEDGER_AUTOLABEL_BATCH_DOCUMENTS": "1", "SPANLEDGER_READ_WAIT_SECONDS": "20"}


class Process:
    """One `spanledger` process with its own data directory; its output goes to a file."""

    def __init__(self, kind: str, root: Path, database_url: str):
        self.kind, self.port = kind, free_port()
        self.data_dir = root / f"{kind}-{self.port}"
        self.output = root / f"{kind}-{self.port}.log"
        args = ["serve", "--port", str(self.port)] if kind == "serve" else ["worker"]
        env = {**os.environ, **ENV, "SPANLEDGER_DATA_DIR": str(self.data_dir), "SPANLEDGER_DATABASE_URL": database_url,
               "SPANLEDGER_SERVE_WORKERS": "false"}  # as on machines without GPUs: the workers work
        with self.output.open("wb") as out:  # its own session: a kill takes its training process along
            self.popen = subprocess.Popen([sys.executable, "-m", "spanledger.api.cli", *args], env=env,
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.killed = False

    def ready(self) -> bool:
        assert self.popen.poll() is None, f"{self.kind} exited:\n{self.output.read_text()[-3000:]}"
        if self.kind == "worker":
            return b"waiting for" in self.output.read_bytes()
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        self.killed = True
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


class Client(threading.Thread):
    """Adds labels to a document of its own, through the two servers in turn; after each
    acknowledged write it reads the document back through the same server (which remembers
    the key's writes) and through the other one (with X-Min-Log-Position)."""

    def __init__(self, n: int, key: str, servers: list[Process], stop: threading.Event):
        super().__init__(name=f"client-{n}", daemon=True)
        self.n, self.key, self.servers, self.stop_ = n, key, servers, stop
        self.document = f"client{n}"
        self.acknowledged: list[tuple[str, int]] = []  # (label id, log position)
        self.errors: list[str] = []
        self.reads = 0

    def _call(self, server: Process, method: str, path: str, **kwargs) -> httpx.Response | None:
        try:
            return httpx.request(method, f"{server.url}{PROJECTS}/p{path}", params={"api-version": API_VERSION},
                                 headers={KEY_HEADER: self.key, **kwargs.pop("headers", {})}, timeout=60, **kwargs)
        except httpx.TransportError as error:
            if not server.killed:
                self.errors.append(f"{server.kind} {server.port} {method} {path}: {error!r}")
            return None  # a write on its way to a killed server: not acknowledged

    def _sees(self, server: Process, label: str, headers: dict[str, str]) -> None:
        if server.killed:
            return
        read = self._call(server, "GET", f"/documents/{self.document}", headers=headers)
        if read is None:
            return
        self.reads += 1
        if read.status_code != 200 or label not in {l["id"] for l in read.json()["labels"]}:
            self.errors.append(f"{server.port} did not show {label} ({headers}): {read.status_code} {read.text[:300]}")

    def run(self) -> None:
        for j in range(LABELS):  # until stopped, as a rule
            if self.stop_.is_set():
                return
            live = [s for s in self.servers if not s.killed]
            server = live[j % len(live)]
            written = self._call(server, "POST", f"/documents/{self.document}/labels",
                                 json={"category": "Person", "offset": 5 * j, "length": 4})
            if written is None:
                continue
            if written.status_code != 201:
                self.errors.append(f"write {j} through {server.port}: {written.status_code} {written.text[:300]}")
                return
            label, position = written.json()["id"], int(written.headers["X-Log-Position"])
            self.acknowledged.append((label, position))
            self._sees(server, label, {})
            for other in self.servers:
                if other is not server:
                    self._sees(other, label, {"X-Min-Log-Position": str(position)})
            time.sleep(0.3)


def _pid(worker_name: str) -> int:
    return int(worker_name.split(":")[1])  # host:pid:random (jobs.worker.worker_name)


@pytest.fixture
def settings(tmp_path):
    require_backend("postgres")
    yield from make_settings("postgres", tmp_path / "test")


def test_two_servers_and_two_workers_on_one_database_survive_kills(settings, tmp_path):
    started = time.monotonic()
    container = build(settings)  # the tables, before four processes start on the database
    app = container.app
    resource_id, _, _ = app.create_resource("acme", ACTOR)
    add_labeled_project(app, resource_id, count=12)
    texts = [d.text for d, _ in documents(TO_LABEL, seed=11)]
    app.add_documents(resource_id, "p", [NewDocument(f"new{i:03d}", t) for i, t in enumerate(texts)], ACTOR)
    app.add_documents(resource_id, "p", [NewDocument(f"client{n}", "word " * LABELS) for n in range(CLIENTS)], ACTOR)
    keys = [app.issue_api_key("acme", ACTOR, f"client{n}")[0] for n in range(CLIENTS)]

    servers = [Process("serve", tmp_path, settings.database_url) for _ in range(2)]
    workers = [Process("worker", tmp_path, settings.database_url) for _ in range(2)]
    everyone = servers + workers
    stop = threading.Event()
    clients = [Client(n, keys[n], servers, stop) for n in range(CLIENTS)]
    try:
        wait(lambda: all(p.ready() for p in everyone), 120, "the four processes to start")
        created = [p for p in servers if b"Created resource 'default'" in p.output.read_bytes()]
        assert len(created) == 1  # the two servers started together and made it once
        phases = {"started": time.monotonic() - started}
        for client in clients:
            client.start()
        wait(lambda: all(c.acknowledged for c in clients), 60, "every client's first write")

        http = httpx.Client(base_url=f"{servers[0].url}{PROJECTS}/p", params={"api-version": API_VERSION},
                            headers={KEY_HEADER: keys[0]}, timeout=60)
        training = http.post("/:train", json={"modelLabel": "m", "trainingConfigVersion": "onehot-char",
                                              "evaluationOptions": {"kind": "manual"}})
        assert training.status_code == 202, training.text
        training_id = UUID(training.headers["Operation-Location"].split("?")[0].rsplit("/", 1)[1])
        wait(lambda: app.training_job(training_id).ended, 180, "the training")
        trained = app.training_job(training_id)
        assert trained.status == "succeeded", vars(trained)
        phases["trained"] = time.monotonic() - started

        started_job = http.post("/autolabel/jobs", json={"modelLabel": "m"},
                                headers={"X-Min-Log-Position": str(app.recorder.max_notification_id())})
        assert started_job.status_code == 202, started_job.text
        job_id = UUID(started_job.headers["Operation-Location"].split("?")[0].rsplit("/", 1)[1])
        http.close()
        wait(lambda: app.autolabel_job(job_id).documents_done >= 5, 120, "the auto-labeling job to get going")
        holder = next(p for p in everyone if p.popen.pid == _pid(app.autolabel_job(job_id).worker))
        other = workers[0] if holder.kind == "serve" else servers[1]
        for victim in (holder, other):
            victim.kill()
        phases["killed"] = time.monotonic() - started
        killed_at = app.recorder.max_notification_id()
        stopped_at = app.autolabel_job(job_id).documents_done
        assert stopped_at < TO_LABEL, "the job finished before the kill: make it longer"

        wait(lambda: app.autolabel_job(job_id).ended, 180, "a surviving process to finish the job")
        phases["labeled"] = time.monotonic() - started
        stop.set()
        for client in clients:
            client.join(timeout=120)
    finally:
        stop.set()
        for p in everyone:
            p.stop()
    finished = app.autolabel_job(job_id)
    taker = next(p for p in everyone if p.popen.pid == _pid(finished.worker))

    # Each job ended once; a process that had not trained the model labeled with it.
    assert (finished.status, finished.documents_done) == ("succeeded", TO_LABEL) and finished.attempt >= 2
    notifications = app.recorder.select_notifications(1, 10_000_000)
    topics = [n.topic for n in notifications]
    assert topics.count("ModelTrained") == 1 and topics.count("TrainingCompleted") == 1
    assert topics.count("QuotaSettled") == 1 and topics.count("AutoLabelJobCompleted") == 1
    assert topics.count("AutoLabelJobClaimed") == finished.attempt and "AutoLabelJobFailed" not in topics
    ledger = app._get(ids.quota_ledger_id(resource_id, finished.month), QuotaLedger)
    assert (ledger.reserved, ledger.charged, ledger.refunded) == (TO_LABEL, TO_LABEL, 0)
    model_digest = app.get_model(resource_id, "p", "m").artifact
    newcomers = [p for p in (holder, taker) if p.popen.pid != _pid(trained.worker)]
    assert newcomers, "one of the two that auto-labeled did not train: it had the model from the database"
    for p in newcomers:
        assert (p.data_dir / "artifacts" / model_digest[:2] / model_digest).exists()
    with container.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM spanledger_artifacts WHERE digest = :d"),
                           {"d": model_digest}) == 1

    # Every acknowledged write is in the log, once, at the position its answer named.
    errors = [e for c in clients for e in c.errors]
    assert not errors, errors
    by_position = {n.id: n for n in notifications}
    for n, client in enumerate(clients):
        _, doc = app.get_document(resource_id, "p", f"client{n}")
        added = [app.mapper.to_domain_event(x) for x in notifications
                 if x.topic == "LabelAdded" and x.originator_id == doc.id]
        ids_in_log = [e.label_id for e in added]
        assert len(ids_in_log) == len(set(ids_in_log))
        for label, position in client.acknowledged:
            assert ids_in_log.count(label) == 1
            event = app.mapper.to_domain_event(by_position[position])
            assert (event.originator_id, event.label_id) == (doc.id, label)
        assert set(doc.labels) >= {label for label, _ in client.acknowledged}
    writes = sum(len(c.acknowledged) for c in clients)
    assert writes >= 4 * CLIENTS and sum(c.reads for c in clients) >= writes
    assert all(len(c.acknowledged) < LABELS for c in clients), "a client ran out of words before the end"
    assert all(c.acknowledged[-1][1] > killed_at for c in clients), "every client kept writing after the kills"

    # The read model the four followers built together equals a replay of the log.
    container.runner.catch_up()
    assert dump_read_model(container.engine) == rebuilt(container)
    print(f"\n{writes} acknowledged writes, job stopped at {stopped_at}/{TO_LABEL} (killed {holder.kind} "
          f"{holder.port} and {other.kind} {other.port}), finished by {taker.kind} {taker.port} "
          f"in {time.monotonic() - started:.0f} s; " + ", ".join(f"{k} at {v:.0f} s" for k, v in phases.items()))
    container.close()
