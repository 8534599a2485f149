"""JSONL with character spans, one document a line, as Prodigy and doccano write it:

- Prodigy: `{"text": ..., "spans": [{"start": 0, "end": 5, "label": "Person"}], "meta": {...}}`
- doccano: `{"text": ..., "label": [[0, 5, "Person"]]}` (older exports: `"entities"`)

Offsets are in the unit the caller states (both tools count code points, the default);
a document's name is `meta.name`, `name` or `id`, else its line number. Exports write
Prodigy's form, stating the unit, name and dataset in `meta`; pending suggestions, when
asked for, go in `suggestions` (`{start, end, label, confidence, jobId, modelLabel}`), apart
from the labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from spanledger.domain.errors import DomainError, InvalidArgument
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.formats import FormatDocument, FormatLabel


def _span(item: Any, where: str) -> tuple[Any, Any, Any]:
    if isinstance(item, dict):
        return item.get("start"), item.get("end"), item.get("label")
    if isinstance(item, list) and len(item) == 3:
        return item[0], item[1], item[2]
    raise InvalidArgument("A span is {start, end, label} or [start, end, label].", where)


def read(data: bytes, unit: StringIndexType = StringIndexType.CODE_POINT, name_prefix: str = "line") -> list[FormatDocument]:
    documents = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        where = f"lines/{number}"
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise InvalidArgument(f"Line {number} is not JSON: {error}.", where) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise InvalidArgument(f"Line {number} must be an object with a text.", f"{where}/text")
        text, meta = obj["text"], obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
        name = next((v for v in (meta.get("name"), obj.get("name"), obj.get("id")) if v is not None),
                    f"{name_prefix}{number}")
        key = next((k for k in ("spans", "label", "entities") if k in obj), "spans")
        items = obj.get(key) or []
        if not isinstance(items, list):
            raise InvalidArgument(f"{key} must be an array.", f"{where}/{key}")
        offsets = OffsetMap(text)
        labels = []
        for k, item in enumerate(items):
            at = f"{where}/{key}/{k}"
            start, end, label = _span(item, at)
            if not isinstance(label, str) or not label:
                raise InvalidArgument("A span needs a label.", f"{at}/label")
            for field, value in (("start", start), ("end", end)):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise InvalidArgument(f"{field} must be an integer.", f"{at}/{field}")
            try:
                offset, length = offsets.span_to_code_points(start, end - start, unit)
            except DomainError as error:
                error.target = f"{at}/{'start' if (error.target or '').endswith('offset') else 'end'}"
                raise
            labels.append(FormatLabel(label, offset, offset + length, at))
        dataset = meta.get("dataset") if meta.get("dataset") in ("Train", "Test") else "Train"
        documents.append(FormatDocument(str(name), text, tuple(labels), dataset, where))
    return documents


def write(documents: Iterable[Mapping[str, Any]], unit: StringIndexType = StringIndexType.CODE_POINT) -> Iterable[bytes]:
    """One line per document (name, text, dataset, labels as code-point (category, offset,
    length), optional suggestions as (category, offset, length, confidence, job, model))."""
    def span(offsets: OffsetMap, category: str, offset: int, length: int) -> dict[str, Any]:
        start, size = offsets.span_from_code_points(offset, length, unit)
        return {"start": start, "end": start + size, "label": category}

    for doc in documents:
        offsets = OffsetMap(doc["text"])
        line: dict[str, Any] = {
            "text": doc["text"],
            "spans": [span(offsets, c, o, n) for c, o, n in sorted(doc["labels"], key=lambda l: (l[1], l[2], l[0]))],
            "meta": {"name": doc["name"], "dataset": doc["dataset"], "stringIndexType": unit.value},
        }
        if "suggestions" in doc:
            line["suggestions"] = [{**span(offsets, c, o, n), "confidence": p, "jobId": job, "modelLabel": model}
                                   for c, o, n, p, job, model in doc["suggestions"]]
        yield orjson.dumps(line) + b"\n"
