"""Audit rows as the API shows them: one entry per event, camelCase, offsets in the caller's
unit; a page of them as JSON or all of them streamed as NDJSON."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any

import orjson
from pydantic.alias_generators import to_camel

from spanledger.api.errors import ApiError
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.projections.audit_queries import AuditFilter, audit_stream

# Recorded on every event and shown as columns of the entry, so left out of its data.
_ENVELOPE = {"timestamp", "actor", "project_id", "document", "originator_topic", "incarnation", "request_id",
             "acting_for"}


def utc(value: str | None, target: str) -> str | None:
    """A client's time filter, in the form the events' own timestamps are stored in."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    except ValueError:
        raise ApiError(400, "InvalidArgument", f"{target} must be an ISO 8601 date-time.", target) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, which is before year 1 in UTC
        raise ApiError(400, "InvalidArgument", f"{target} is out of the range of dates.", target) from None


_camel_key = cache(to_camel)  # an export converts the same few dozen keys millions of times


def _camel(value: Any) -> Any:
    """Event payloads are recorded snake_case; the API speaks camelCase (settings stay as given)."""
    if isinstance(value, dict):
        return {_camel_key(k): v if k == "settings" else _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


_NESTED = frozenset((dict, list))


@cache
def _plan(keys: tuple[str, ...]) -> tuple[Any, tuple[str, ...], tuple[tuple[int, str], ...]]:
    """For a payload with these keys (events of one type and version share them): a getter of
    the values the entry's data shows (as a tuple), their camelCase names, and where a
    nested value would need its own keys camelCased (settings stay as given)."""
    shown = tuple(k for k in keys if k not in _ENVELOPE)
    get = itemgetter(*shown) if len(shown) > 1 else (lambda d: (d[shown[0]],)) if shown else (lambda d: ())
    camels = tuple(_camel_key(k) for k in shown)
    return get, camels, tuple((i, camel) for i, (k, camel) in enumerate(zip(shown, camels, strict=True))
                              if k != "settings")


def _data(recorded: dict[str, Any]) -> dict[str, Any]:
    get, camels, deep = _plan(tuple(recorded))
    values = get(recorded)
    data = dict(zip(camels, values, strict=True))
    if not _NESTED.isdisjoint(map(type, values)):  # most events hold no list or object
        for i, camel in deep:
            if type(values[i]) in _NESTED:
                data[camel] = _camel(values[i])
    return data


def entry(row: Any, offsets: OffsetMap | None, unit: StringIndexType) -> dict[str, Any]:
    """The entry of a row selected as projections.audit_queries.ENTRY_COLUMNS."""
    position, occurred_at, actor, event_type, version, document, project, job, model, payload = row[:10]
    recorded = orjson.loads(payload)
    data = _data(recorded)
    if offsets is not None and "offset" in data:
        data["offset"], data["length"] = offsets.span_from_code_points(data["offset"], data["length"], unit)
    result = {"position": position, "occurredDateTime": occurred_at.replace("+00:00", "Z"), "actor": actor,
              "eventType": event_type, "version": version, "data": data}
    # Unrolled: this runs once per event of an export.
    if document is not None:
        result["documentName"] = document
    if project is not None:
        result["projectName"] = project
    if job is not None:
        result["jobId"] = job
    if model is not None:
        result["modelLabel"] = model
    if (request_id := recorded.get("request_id")) is not None:
        result["requestId"] = request_id
    if (acting_for := recorded.get("acting_for")) is not None:
        result["actingFor"] = acting_for
    return result


def entries(rows: list[Any], maps: dict[int, OffsetMap], unit: StringIndexType,
            lives: list[int] | None) -> list[dict[str, Any]]:
    """The rows' entries; with `lives` (where each life began), each numbered with its life."""
    found = [entry(r, maps.get(r[0]), unit) for r in rows]
    if lives is not None:
        for e in found:
            e["life"] = bisect_right(lives, e["position"])
    return found


def ndjson(engine: Any, where: AuditFilter, skip: int, top: int | None, unit: StringIndexType,
           lives: list[int] | None) -> Iterator[bytes]:
    """Every matching entry, one JSON object a line, a keyset page of rows read at a time."""
    for rows, maps in audit_stream(engine, where, skip, top):
        yield b"".join([orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE) for e in entries(rows, maps, unit, lives)])
