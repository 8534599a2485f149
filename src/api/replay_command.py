"""`spanledger replay`: a project's or a document's events up to a log position with the
state after each, or the changes between two positions; `--json` writes one object a line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import orjson

from spanledger.bootstrap import Container
from spanledger.domain import ids
from spanledger.domain.errors import DomainError
from spanledger.domain.offsets import StringIndexType
from spanledger.replay.changes import differences
from spanledger.replay.positions import head
from spanledger.replay.steps import Replay, Step


def add_parser(sub: Any, default_resource: str) -> None:
    p = sub.add_parser("replay", help="a project's or document's events with the state after each, or the changes "
                                      "between two log positions (--from, --to), replayed from the log")
    p.add_argument("project")
    p.add_argument("document", nargs="?", help="only this document's events (default: the project's and all its "
                                               "documents')")
    p.add_argument("--resource", default=default_resource)
    p.add_argument("--from", dest="from_position", type=int, help="show the changes since this position instead")
    p.add_argument("--to", dest="to_position", type=int, help="up to this position (default: the log's last)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, for tools")
    p.add_argument("--string-index-type", default="Utf16CodeUnit", choices=["Utf16CodeUnit", "UnicodeCodePoint"])


def run(container: Container, args: argparse.Namespace, write: Callable[[str], None] = print) -> None:
    app = container.app
    if not app.has_resource(args.resource):
        raise DomainError(f"No resource {args.resource!r}.", "--resource")
    last = head(app.recorder)
    to = last if args.to_position is None else args.to_position
    if not 0 <= to <= last:
        raise DomainError(f"--to {to} is outside the log, which ends at position {last}.", "--to")
    since = args.from_position
    if since is not None and not 0 <= since <= to:
        raise DomainError(f"--from {since} must lie between 0 and --to ({to}).", "--from")
    replay = Replay(app, ids.resource_id(args.resource), args.project, args.document,
                    StringIndexType(args.string_index_type))
    if since is None:
        shown = 0
        for step in replay.steps(to):
            shown += 1
            write(orjson.dumps(step.as_json()).decode() if args.json else _text(step))
        if not shown:
            raise DomainError(f"{_what(args)} has no events up to position {to}.", args.document and "document"
                              or "project")
        return
    for _ in replay.steps(since):
        pass
    before = replay.state()
    for _ in replay.steps(to, after=since):
        pass
    changes = differences(before, replay.state())
    if args.json:
        for change in changes:
            write(orjson.dumps(change).decode())
    else:
        write(f"{_what(args)}: {len(changes)} change(s) from position {since} to {to}")
        for change in changes:
            write("  " + _change_text(change))


def _what(args: argparse.Namespace) -> str:
    return f"Document {args.document!r} of project {args.project!r}" if args.document else f"Project {args.project!r}"


def _span(i: str, s: dict[str, Any]) -> str:
    return f"{i} {s['category']} {s['offset']}+{s['length']} {s['text']!r}"


def _text(step: Step) -> str:
    subject = f"document {step.document!r}" if step.document is not None else "project"
    lines = [f"#{step.position}  {step.event}  {subject} v{step.version}  {step.timestamp}  {step.actor}"]
    state = step.state
    if not state["exists"]:
        lines.append("    (deleted)")
    elif step.document is None:
        lines.append(f"    entities: {', '.join(state['entities']) or '-'}; language {state['language']}; "
                     f"overlapPolicy {state['overlapPolicy']}")
    else:
        lines.append(f"    dataset {state['dataset']}; {len(state['labels'])} label(s)")
        lines += [f"    label {_span(i, label)}" for i, label in state["labels"].items()]
        lines += [f"    suggestion {_span(i, s)} {s['state']} {s['confidence']:.2f} {s['modelLabel']}"
                  for i, s in state["suggestions"].items()]
    return "\n".join(lines)


def _change_text(change: dict[str, Any]) -> str:
    rest = {k: v for k, v in change.items() if k not in ("change", "document", "id")}
    head_ = [change["change"], *(f"{change[k]}" for k in ("document", "id") if k in change)]
    return " ".join(head_ + [f"{k}={v!r}" for k, v in rest.items()])
