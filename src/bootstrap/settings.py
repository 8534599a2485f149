"""Configuration, from the environment (SPANLEDGER_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPANLEDGER_")

    # SQLite files (events.sqlite, views.sqlite) live here when no database URL is given.
    data_dir: Path = Path("spanledger-data")
    # postgresql://user:password@host:port/dbname puts the events and the read model there.
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    # The address clients reach the API at (behind a proxy, the proxy's): links the API hands
    # out (Operation-Location, nextLink, resultUrl) start with it, never with a request's Host.
    # Unset: http://{host}:{port}.
    public_url: str | None = None
    # Request bodies over this many bytes are refused (413) without being read whole.
    max_body_bytes: int = 16 * 1024 * 1024
    # How long a read waits for the projections to reach a position it asked for.
    read_wait_seconds: float = 10.0
    projection_batch_size: int = 2000
    # GET /ready answers 503 while a projection is more than this many events behind the log.
    ready_max_lag: int = 10_000
    # A training worker holds a job this long between progress reports; a job whose worker
    # died is taken up again when its lease runs out.
    training_lease_seconds: float = 60.0
    # Overrides the epochs a training derives from its data (small, quick models for tests
    # and trials); training still stops earlier once its loss has converged.
    training_max_epochs: int | None = None
    # A training stops before an epoch that would take it past this many seconds.
    training_max_seconds: float = 1800.0
    # torch threads of a training: unset, sized to the cores other processes leave free,
    # epoch by epoch; a number fixes them, so that the same events train the same model.
    training_threads: int | None = None
    # The same for auto-labeling jobs, whose worker reports after every batch of documents.
    autolabel_lease_seconds: float = 60.0
    autolabel_batch_documents: int = 512
    autolabel_batch_characters: int = 64_000
    # `spanledger serve` runs the training and auto-labeling workers too; false on machines
    # that only serve the API (the workers run as `spanledger worker` elsewhere, on GPUs say).
    serve_workers: bool = True

    # Log lines as JSON objects, one a line (for a log shipper), or as text (for a terminal).
    log_format: Literal["json", "text"] = "text"
    # GET /metrics answers without an API key (a Prometheus scraper has none, and the metrics
    # name no project or document); set a token to require `Authorization: Bearer TOKEN`.
    metrics_token: str | None = None

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: str | None) -> str | None:
        if url and not url.startswith(("postgresql:", "postgres:", "postgresql+")):
            raise ValueError("SPANLEDGER_DATABASE_URL must be a postgresql:// URL (leave it unset for SQLite)")
        return url or None

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None
