"""The difference between two states of a project or a document (replay.steps.Replay.state),
as a list of changes, each a JSON-ready dict with a `change` kind."""

from __future__ import annotations

from typing import Any


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    if "project" in after:
        changes += _project(before["project"], after["project"])
        old, new = before["documents"], after["documents"]
        for name in sorted(old.keys() | new.keys()):
            changes += _document(old.get(name, {"exists": False}), new.get(name, {"exists": False}), name)
    else:
        name = after["document"].get("name") or before["document"].get("name")
        changes += _document(before["document"], after["document"], name)
    return changes


def _project(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    if not new["exists"]:
        return [{"change": "projectDeleted"}] if old["exists"] else []
    changes: list[dict[str, Any]] = []
    if not old["exists"] or old["incarnation"] != new["incarnation"]:
        changes.append({"change": "projectCreated", "name": new["name"], "language": new["language"],
                        "overlapPolicy": new["overlapPolicy"]})
        old = {"entities": [], "language": new["language"], "overlapPolicy": new["overlapPolicy"]}
    changes += [{"change": "entityAdded", "category": e} for e in new.get("entities", [])
               if e not in old.get("entities", [])]
    changes += [{"change": "entityRemoved", "category": e} for e in old.get("entities", [])
                if e not in new.get("entities", [])]
    for field in ("language", "overlapPolicy"):
        if old.get(field) != new.get(field):
            changes.append({"change": "projectChanged", "field": field, "from": old.get(field), "to": new.get(field)})
    return changes


def _document(old: dict[str, Any], new: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if not old["exists"] and not new["exists"]:
        return []
    if not new["exists"]:
        return [{"change": "documentRemoved", "document": name}]
    changes = []
    if not old["exists"]:
        changes.append({"change": "documentAdded", "document": name, "dataset": new["dataset"]})
        old = {"labels": {}, "suggestions": {}, "dataset": new["dataset"]}
    if old["dataset"] != new["dataset"]:
        changes.append({"change": "datasetChanged", "document": name, "from": old["dataset"], "to": new["dataset"]})
    for i, label in new["labels"].items():
        if old["labels"].get(i) != label:
            changes.append({"change": "labelAdded", "document": name, "id": i, **label})
    changes += [{"change": "labelRemoved", "document": name, "id": i, **label}
                for i, label in old["labels"].items() if i not in new["labels"]]
    for i, s in new["suggestions"].items():
        was = old["suggestions"].get(i)
        if was is None:
            changes.append({"change": "suggested", "document": name, "id": i, **s})
        elif was["state"] != s["state"]:
            changes.append({"change": "suggestionState", "document": name, "id": i, "from": was["state"],
                            "to": s["state"]})
    changes += [{"change": "suggestionGone", "document": name, "id": i, **s}
                for i, s in old["suggestions"].items() if i not in new["suggestions"]]
    return changes
