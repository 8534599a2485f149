"""The read-model tables (SQLAlchemy Core). Only projections write them; queries read them.

Timestamps are the events' own RFC 3339 UTC strings: they sort as text on both databases.
Ids are strings (UUIDs as text), so rows need no conversion on the hot path.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

ID = String(36)
TIME = String(40)

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# Each projection's table definitions as last built (runner.schema_fingerprint): a projection
# whose tables changed shape is dropped and rebuilt from the log at startup.
schemas = Table(
    "projection_schemas",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("resource_id", ID, nullable=False),
    Column("name", String(50), nullable=False),
    # The version of its latest ProjectCreated: documents of an older incarnation are dead.
    Column("incarnation", Integer, nullable=False),
    Column("language", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("multilingual", Boolean, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("storage_input_container_name", Text, nullable=False),
    Column("overlap_policy", String(16), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("modified_at", TIME, nullable=False),
    UniqueConstraint("resource_id", "name"),
)

entities = Table(
    "entities",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("name", String(50), primary_key=True),
    Column("entity_id", String(24), nullable=False),
    Column("created_at", TIME, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("name", String(128), nullable=False),
    Column("language", String(32), nullable=False),
    Column("dataset", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("characters", Integer, nullable=False),
    Column("text_records", Integer, nullable=False),
    Column("label_count", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("modified_at", TIME, nullable=False),
    UniqueConstraint("project_id", "name"),
    Index("ix_documents_project_dataset", "project_id", "dataset"),
)

labels = Table(
    "labels",
    metadata,
    Column("document_id", ID, primary_key=True),
    Column("label_id", String(16), primary_key=True),
    Column("entity", String(50), nullable=False),
    Column("dataset", String(8), nullable=False),
    Column("offset", Integer, nullable=False),
    Column("length", Integer, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("actor", String(64), nullable=False),
    # An accepted suggestion's origin; a label the user drew has none.
    Column("origin_job", ID),
    Column("origin_model", String(50)),
    # One B-tree on SQLite; queries reach labels through their document.
    sqlite_with_rowid=False,
)

entity_stats = Table(
    "entity_stats",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("entity", String(50), primary_key=True),
    Column("dataset", String(8), primary_key=True),
    Column("label_count", Integer, nullable=False),
)

deletion_jobs = Table(
    "deletion_jobs",
    metadata,
    Column("job_id", ID, primary_key=True),
    Column("resource_id", ID, nullable=False),
    Column("project_name", String(50), nullable=False),
    Column("created_at", TIME, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    # INTEGER PRIMARY KEY on SQLite makes the position the rowid: one B-tree less to write.
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("occurred_at", TIME, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("aggregate_id", ID, nullable=False),
    Column("aggregate_version", Integer, nullable=False),
    Column("project_id", ID),
    Column("document_name", String(128)),
    Column("payload", Text, nullable=False),
    # DocumentAdded only: where the text has characters outside the BMP (code point
    # indexes), so label offsets in later rows can be shown in UTF-16 code units.
    Column("astral", JSON),
    # Who owns the event (kept when its project is deleted), and the job and model it concerns
    # (looked up through audit_refs where the event itself does not name them).
    Column("resource_id", ID),
    Column("project_name", String(50)),
    Column("job_id", ID),
    Column("model_label", String(50)),
    Index("ix_audit_project", "project_id", "document_name", "position"),
    Index("ix_audit_resource", "resource_id", "position"),
)
# Partial: most events concern no job, and offset maps need only the documents' additions.
Index("ix_audit_job", audit_events.c.job_id, audit_events.c.position,
      sqlite_where=audit_events.c.job_id.isnot(None), postgresql_where=audit_events.c.job_id.isnot(None))
_ADDED = audit_events.c.event_type == text("'DocumentAdded'")
Index("ix_audit_document_added", audit_events.c.aggregate_id, audit_events.c.position,
      sqlite_where=_ADDED, postgresql_where=_ADDED)

# What the audit projection must remember to fill those columns: a project's resource and
# name ("p:" + id), a job's model ("j:" + id), a suggestion's job and model ("s:" + document
# id + ":" + suggestion id). All of it is fixed once recorded.
audit_refs = Table(
    "audit_refs",
    metadata,
    Column("ref", String(64), primary_key=True),
    Column("resource_id", ID),
    Column("project_name", String(50)),
    Column("job_id", ID),
    Column("model_label", String(50)),
)

# The training views' own record of each project's current incarnation (see training.py).
training_projects = Table(
    "training_projects",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("incarnation", Integer, nullable=False),
)

training_jobs = Table(
    "training_jobs",
    metadata,
    Column("job_id", ID, primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("model_label", String(50), nullable=False),
    Column("training_config_version", String(64), nullable=False),
    Column("evaluation", JSON, nullable=False),
    Column("log_position", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("percent", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(64)),
    Column("lease_expires", TIME),
    Column("warnings", JSON, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("started_at", TIME),
    Column("ended_at", TIME),
    Index("ix_training_jobs_project", "project_id", "sequence"),
    Index("ix_training_jobs_status", "status"),
)

models = Table(
    "models",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("label", String(50), primary_key=True),
    Column("job_id", ID, nullable=False),
    Column("artifact", String(64), nullable=False),
    Column("evaluation_artifact", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("log_position", BigInteger, nullable=False),
    Column("duration_seconds", Float, nullable=False),
    Column("recipe", JSON, nullable=False),
    Column("training_config_version", String(64), nullable=False),
    Column("evaluation", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("entity_types", JSON, nullable=False),
    Column("trained_at", TIME, nullable=False),
)

autolabel_projects = Table(
    "autolabel_projects",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("incarnation", Integer, nullable=False),
)

autolabel_jobs = Table(
    "autolabel_jobs",
    metadata,
    Column("job_id", ID, primary_key=True),
    Column("project_id", ID, nullable=False),
    # False once its project is deleted: hidden from the API, yet still a worker's to end
    # (and so to settle its quota reservation).
    Column("live", Boolean, nullable=False),
    Column("model_label", String(50), nullable=False),
    Column("entities", JSON, nullable=False),
    Column("documents", Integer, nullable=False),
    Column("text_records", Integer, nullable=False),
    Column("min_confidence", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(64)),
    Column("lease_expires", TIME),
    Column("documents_done", Integer, nullable=False),
    Column("suggestions", Integer, nullable=False),
    Column("records_processed", Integer, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("started_at", TIME),
    Column("ended_at", TIME),
    Index("ix_autolabel_jobs_project", "project_id", "created_at"),
    Index("ix_autolabel_jobs_status", "status"),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("document_id", ID, primary_key=True),
    Column("suggestion_id", String(16), primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("entity", String(50), nullable=False),
    Column("offset", Integer, nullable=False),
    Column("length", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("model_label", String(50), nullable=False),
    Column("job_id", ID, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", TIME, nullable=False),
    Index("ix_suggestions_project", "project_id", "state"),
)

quota_limits = Table(
    "quota_limits",
    metadata,
    Column("resource_id", ID, primary_key=True),
    Column("monthly_text_records", Integer, nullable=False),
)

quota_usage = Table(
    "quota_usage",
    metadata,
    Column("resource_id", ID, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("project_id", ID, primary_key=True),
    Column("reserved", Integer, nullable=False),
    Column("charged", Integer, nullable=False),
    Column("refunded", Integer, nullable=False),
)
