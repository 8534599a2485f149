"""What the audit routes answer (spanledger extension), for the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from spanledger.api.response_bodies import Event, Page, Shape

NDJSON = "application/x-ndjson"


class AuditEvent(Event):
    project_name: str | None = Field(default=None, description="the project the event concerns (kept once it is "
                                     "deleted)")
    job_id: str | None = Field(default=None, description="the auto-labeling, training or other job it concerns")
    model_label: str | None = Field(default=None, description="the model it concerns")
    request_id: str | None = Field(default=None, description="the request that wrote it (X-Request-Id)")
    acting_for: str | None = Field(default=None, description="whom the caller acted for (X-Acting-For)")


def audit_responses() -> dict[int | str, dict[str, Any]]:
    """A page of entries as JSON, or every entry as NDJSON (one AuditEvent per line) when the
    request sends `Accept: application/x-ndjson`."""
    return {200: {"model": Page[AuditEvent], "description": "A page of entries, or (NDJSON) every matching entry.",
                  "content": {NDJSON: {"schema": {"type": "string", "description": "one AuditEvent per line"}}}}}


class Step(Shape):
    """One event in the life of a label or a suggestion."""

    action: str = Field(description="label: added, accepted, removed, undone, documentDeleted; suggestion: "
                        "suggested, accepted, rejected, superseded, undone, discarded, documentDeleted")
    position: int
    occurred_date_time: str
    actor: str | None
    request_id: str | None = Field(default=None, description="the request that wrote it (X-Request-Id)")
    cause: str | None = Field(default=None, description="why a label went without a user removing it alone "
                              "(entityRemoved)")
    label_id: str | None = Field(default=None, description="the label an acceptance made, or that superseded it")
    training_job_id: str | None = Field(default=None, description="the training that discarded the suggestion")
    training_model_label: str | None = Field(default=None, description="the model label that training trains")
    reason: str | None = None


class LabelOrigin(Shape):
    kind: Literal["hand", "import", "suggestion"] = Field(
        description="hand: added by a request of its own; import: written by the request that added its "
                    "document (a project or documents import); suggestion: an accepted suggestion")
    suggestion_id: str | None = None
    job_id: str | None = None
    model_label: str | None = None


class LabelLife(Shape):
    label_id: str
    category: str
    offset: int
    length: int
    state: Literal["live", "gone"]
    origin: LabelOrigin
    history: list[Step]


class SuggestionLife(Shape):
    suggestion_id: str
    category: str
    offset: int
    length: int
    confidence: float
    job_id: str
    model_label: str
    state: Literal["pending", "accepted", "rejected", "superseded", "discarded", "gone"]
    history: list[Step]


class LabelHistory(Shape):
    document_name: str
    labels: list[LabelLife]
    suggestions: list[SuggestionLife]
