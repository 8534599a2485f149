"""Wires the application: event store, read model, projections and their follower.

Which databases to use, and how to connect to them, is decided here; the domain and the
API never look at it (the projections only pick the fastest bulk statements per dialect).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from spanledger.bootstrap.databases import startup_lock
from spanledger.bootstrap.event_metadata import stamp_request
from spanledger.bootstrap.settings import Settings
from spanledger.domain.application import LabelStatistics, Spanledger
from spanledger.jobs.artifacts import ArtifactStore
from spanledger.jobs.pg_artifacts import PostgresArtifactStore
from spanledger.observability.metrics import Metrics
from spanledger.observability.read_model_metrics import ReadModelCollector
from spanledger.projections import queries
from spanledger.projections.audit import AuditProjection
from spanledger.projections.autolabel import AutoLabelProjection
from spanledger.projections.follow import Follower, postgres_listener
from spanledger.projections.labeling import LabelingProjection
from spanledger.projections.quota import QuotaProjection
from spanledger.projections.runner import ProjectionRunner
from spanledger.projections.training import TrainingProjection

if TYPE_CHECKING:  # the workers load flair and torch: only processes that work import them
    from spanledger.jobs.autolabel import AutoLabelWorker
    from spanledger.jobs.training import TrainingWorker


@dataclass
class Container:
    settings: Settings
    app: Spanledger
    engine: Engine
    runner: ProjectionRunner
    # The engine queries use. On PostgreSQL it runs each statement on its own, skipping the
    # BEGIN and ROLLBACK round trips: under READ COMMITTED a transaction gave each statement
    # its own snapshot anyway. Queries read what a response needs in an order that keeps this
    # safe (a document before its labels: an ETag is never newer than the labels it comes with).
    reads: Engine = field(init=False)
    artifacts: ArtifactStore = field(init=False)
    metrics: Metrics = field(init=False)
    follower: Follower | None = None
    worker: TrainingWorker | None = None
    autolabel_worker: AutoLabelWorker | None = None
    # The latest log position each API key wrote (in this process), so that its next
    # reads see its own writes.
    _written: dict[str, int] = field(default_factory=dict)
    _written_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        postgres = self.engine.dialect.name == "postgresql"
        self.reads = self.engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else self.engine
        # Model files and evaluation results: in PostgreSQL (the local folder caches them), so
        # that any machine can use them; with SQLite, in the local folder alone.
        cache = self.settings.data_dir / "artifacts"
        self.artifacts = PostgresArtifactStore(cache, self.engine) if postgres else ArtifactStore(cache)
        self.metrics = Metrics(ReadModelCollector(self.app.recorder.max_notification_id, self.runner.positions,
                                                  self.reads))

    def remember_write(self, key_id: str, position: int) -> None:
        with self._written_lock:
            if position > self._written.get(key_id, 0):
                self._written[key_id] = position

    def last_write(self, key_id: str) -> int:
        return self._written.get(key_id, 0)

    # -- the read model's answers to commands (domain.application.Views) -------------------

    def count_documents(self, project_id: UUID) -> int:
        """From the read model, as it stands: the limit is a soft one, which writes still
        on their way to the read model can pass by that many documents."""
        with self.reads.connect() as conn:
            return queries.count_documents(conn, str(project_id))

    def documents_with_entity(self, project_id: UUID, entity: str) -> list[str]:
        with self.reads.connect() as conn:
            return queries.documents_with_entity(conn, str(project_id), entity)

    def overlapping_labels(self, project_id: UUID) -> list[tuple[str, str, str]]:
        with self.reads.connect() as conn:
            return queries.overlapping_labels(conn, str(project_id))

    def label_statistics(self, project_id: UUID) -> LabelStatistics:
        with self.reads.connect() as conn:
            return queries.label_statistics(conn, str(project_id))

    def latest_training_sequence(self, project_id: UUID) -> int:
        with self.reads.connect() as conn:
            return queries.latest_training_sequence(conn, str(project_id))

    def close(self) -> None:
        for worker in (self.worker, self.autolabel_worker):
            if worker is not None:
                worker.stop()
        if self.follower is not None:
            self.follower.stop()
        self.app.close()
        self.engine.dispose()


def event_store_env(settings: Settings) -> dict[str, str]:
    if settings.uses_postgres:
        url = make_url(settings.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "spanledger.bootstrap.pg_recorder:UnpipelinedApplicationRecorder",
            "POSTGRES_DBNAME": url.database or "",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "",
            "POSTGRES_PASSWORD": url.password or "",
        }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite")}


def read_model_engine(settings: Settings) -> Engine:
    if settings.uses_postgres:
        url = make_url(settings.database_url).set(drivername="postgresql+psycopg")
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{settings.data_dir / 'views.sqlite'}",
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=10, max_overflow=20,
    )

    # pysqlite's own transaction handling defers BEGIN; take it over so transactions (DDL
    # included) are real ones (as the SQLAlchemy docs recommend), and use WAL so that
    # readers never wait for the projection's writes.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: catch-up rewrites many index pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def build(settings: Settings | None = None, *, follow: bool = False, work: bool = False) -> Container:
    """The application and its read model; `follow` keeps the read model following the
    log, `work` runs the training and auto-labeling workers too (threads of this process)."""
    settings = settings or Settings()
    with startup_lock(settings):  # the tables, once, when several processes start together
        app = Spanledger(event_store_env(settings))
        app.on_saving.append(stamp_request)  # events record the request that wrote them
        engine = read_model_engine(settings)
        runner = ProjectionRunner(
            app.recorder, engine,
            [LabelingProjection(), AuditProjection(), TrainingProjection(), AutoLabelProjection(), QuotaProjection()],
            settings.projection_batch_size,
        )
        runner.create_tables()
        container = Container(settings, app, engine, runner)
    app.views = container
    app.commits.on_batch.append(container.metrics.saves_per_transaction.observe)
    if follow:
        listen = None
        if settings.uses_postgres:
            url = make_url(settings.database_url).set(drivername="postgresql")
            listen = postgres_listener(url.render_as_string(hide_password=False), f"{app.name}_events")
        container.follower = Follower(runner, idle_seconds=1.0 if listen else 0.1, listen=listen)
        app.on_saved.append(container.follower.poke)
        container.follower.start()
    if work:
        from spanledger.jobs.autolabel import AutoLabelWorker
        from spanledger.jobs.training import TrainingWorker

        container.worker = TrainingWorker(
            app, container.reads, container.artifacts, settings.data_dir / "work",
            lease=timedelta(seconds=settings.training_lease_seconds), max_epochs=settings.training_max_epochs,
            max_seconds=settings.training_max_seconds, threads=settings.training_threads,
        )
        container.worker.on_ended.append(container.metrics.job_ended)
        container.worker.start()
        container.autolabel_worker = AutoLabelWorker(
            app, container.reads, container.artifacts, lease=timedelta(seconds=settings.autolabel_lease_seconds),
            batch_documents=settings.autolabel_batch_documents, batch_characters=settings.autolabel_batch_characters,
        )
        container.autolabel_worker.on_ended.append(container.metrics.job_ended)
        container.autolabel_worker.start()
        if container.follower is not None:
            container.follower.on_applied += [container.worker.wake, container.autolabel_worker.wake]
    return container
