"""Errors the domain raises when it refuses a command.

Each names the offending field (`target`) so the edge can answer with a precise 4xx;
the HTTP status for each kind is decided in the API layer, not here.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "InvalidArgument"

    def __init__(self, message: str, target: str | None = None, details: list[Any] | None = None):
        super().__init__(message)
        self.message = message
        self.target = target
        self.details = details or []


class InvalidArgument(DomainError):
    code = "InvalidArgument"


class NotFound(DomainError):
    code = "NotFound"


class QuotaExceeded(DomainError):
    """The monthly text-record quota has no room for what was asked."""

    code = "QuotaExceeded"


class Conflict(DomainError):
    code = "Conflict"


class ConcurrentModification(Conflict):
    """Someone else wrote the same aggregate first: the command was refused, not merged."""

    code = "ConcurrentModification"


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key sent again with another request than the one it first came with."""

    code = "IdempotencyKeyReused"


class PreconditionFailed(DomainError):
    """An If-Match version did not match the aggregate's current version."""

    code = "PreconditionFailed"
