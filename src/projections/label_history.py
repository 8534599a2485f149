"""A label's life and a suggestion's life, told from a document's events (one life of the
document: from its DocumentAdded on).

Labels are never edited in place: an edit (`:save-labels`) removes one label and adds another,
and the history shows both. Offsets here are code points, as recorded.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import orjson

# Consecutive events of one write are triggered within microseconds of each other; separate
# requests are milliseconds apart at the very least.
_SAME_WRITE_SECONDS = 0.005


def _step(row: Any, data: dict[str, Any], action: str, **extra: Any) -> dict[str, Any]:
    step = {"action": action, "position": row.position, "occurredDateTime": row.occurred_at.replace("+00:00", "Z"),
            "actor": row.actor, "requestId": data.get("request_id")}
    step.update(extra)
    step = {k: v for k, v in step.items() if v is not None}
    return step


def _span(data: dict[str, Any]) -> dict[str, Any]:
    return {"category": data["entity"], "offset": data["offset"], "length": data["length"]}


class _Imports:
    """Whether a LabelAdded was written by the request that added its document: only imports
    write a document with its labels. Events record their request's id; for older ones (and
    the CLI's) it is the run of LabelAdded events right after the DocumentAdded, at
    consecutive log positions and versions, by the same actor, with no pause between them."""

    def __init__(self) -> None:
        self.added: tuple[Any, dict[str, Any]] | None = None  # the document's addition
        self.previous: Any = None  # the last row of the unbroken run after it

    def __call__(self, row: Any, data: dict[str, Any]) -> bool:
        if row.event_type == "DocumentAdded":
            self.added, self.previous = (row, data), row
            return False
        if row.event_type != "LabelAdded" or self.added is None:
            self.previous = None
            return False
        request = self.added[1].get("request_id")
        if request is not None:
            return data.get("request_id") == request
        previous, self.previous = self.previous, row
        same = (previous is not None and row.position == previous.position + 1
                and row.aggregate_version == previous.aggregate_version + 1 and row.actor == previous.actor
                and (datetime.fromisoformat(row.occurred_at) - datetime.fromisoformat(previous.occurred_at))
                .total_seconds() < _SAME_WRITE_SECONDS)
        if not same:
            self.previous = None
        return same


def label_history(rows: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(labels, suggestions), each with its history, in the order they came into being."""
    labels: dict[str, dict[str, Any]] = {}
    suggestions: dict[str, dict[str, Any]] = {}
    imported = _Imports()
    for row in rows:
        kind = row.event_type
        data = orjson.loads(row.payload)
        with_document = imported(row, data)
        step = partial(_step, row, data)
        if kind == "LabelAdded":
            labels[data["label_id"]] = {
                "labelId": data["label_id"], **_span(data), "state": "live",
                "origin": {"kind": "import" if with_document else "hand"}, "history": [step("added")]}
        elif kind == "LabelRemoved" and data["label_id"] in labels:
            label = labels[data["label_id"]]
            label["state"] = "gone"
            label["history"].append(step("removed", cause=data.get("cause")))
        elif kind == "AutoLabelSuggested":
            suggestions[data["suggestion_id"]] = {
                "suggestionId": data["suggestion_id"], **_span(data), "confidence": data["confidence"],
                "jobId": data["job_id"], "modelLabel": data["model_label"], "state": "pending",
                "history": [step("suggested")]}
        elif kind == "AutoLabelAccepted":
            origin = {"kind": "suggestion", "suggestionId": data["suggestion_id"], "jobId": data["job_id"],
                      "modelLabel": data["model_label"]}
            labels[data["label_id"]] = {"labelId": data["label_id"], **_span(data), "state": "live", "origin": origin,
                                        "history": [step("accepted")]}
            _decide(suggestions, data["suggestion_id"], "accepted", step("accepted", labelId=data["label_id"]))
        elif kind == "AutoLabelRejected":
            _decide(suggestions, data["suggestion_id"], "rejected", step("rejected"))
        elif kind == "AutoLabelSuperseded":
            _decide(suggestions, data["suggestion_id"], "superseded",
                    step("superseded", labelId=data["label_id"]))
        elif kind == "AutoLabelDecisionUndone":
            _decide(suggestions, data["suggestion_id"], "pending", step("undone"))
            label = labels.get(data.get("label_id") or "")
            if label is not None:
                label["state"] = "gone"
                label["history"].append(step("undone"))
        elif kind == "AutoLabelDiscarded":
            for suggestion_id in data["suggestion_ids"]:
                _decide(suggestions, suggestion_id, "discarded", step(
                    "discarded", trainingJobId=data["training_job_id"], trainingModelLabel=row.model_label,
                    reason=data.get("reason")))
        elif kind == "DocumentDeleted":
            for life in (*labels.values(), *suggestions.values()):
                if life["state"] in ("live", "pending"):
                    life["state"] = "gone"
                    life["history"].append(step("documentDeleted"))
    return list(labels.values()), list(suggestions.values())


def _decide(suggestions: dict[str, dict[str, Any]], suggestion_id: str, state: str, step: dict[str, Any]) -> None:
    suggestion = suggestions.get(suggestion_id)
    if suggestion is not None:
        suggestion["state"] = state
        suggestion["history"].append(step)
