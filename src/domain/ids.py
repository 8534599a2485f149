"""Deterministic aggregate ids.

Names are unique in their parent (resource names globally, project names per resource,
document names per project), so an aggregate's id is derived from its parent and its name.
The event store's optimistic concurrency then makes a duplicate name impossible, and a
project of another resource is simply not found: its id is a different one.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("2bc44aa9-35bb-4118-add6-b1a7f99bebfb")


# Resource and project ids are derived on every request (a SHA-1 each) from few distinct
# names: remembered. Documents are too many to be worth it.
@lru_cache(maxsize=4096)
def resource_id(name: str) -> UUID:
    return uuid5(NAMESPACE, f"resource:{name}")


@lru_cache(maxsize=4096)
def project_id(resource: UUID, name: str) -> UUID:
    return uuid5(resource, f"project:{name}")


def document_id(project: UUID, incarnation: int, name: str) -> UUID:
    # A deleted and re-created project starts with no documents: its documents live under
    # the new incarnation (the version of the project's latest ProjectCreated event).
    return uuid5(project, f"document:{incarnation}:{name}")


def quota_ledger_id(resource: UUID, month: str) -> UUID:
    """One ledger per resource and calendar month (UTC), "YYYY-MM"."""
    return uuid5(resource, f"quota:{month}")


def autolabel_job_id(project: UUID, incarnation: int, idempotency_key: str) -> UUID:
    """A start retried with the same Idempotency-Key finds the job the first one started."""
    return uuid5(project, f"autolabel:{incarnation}:{idempotency_key}")
