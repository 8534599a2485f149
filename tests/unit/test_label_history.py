"""Where a label came from, for events recorded without a request id (older logs, the CLI):
a label written with its document (an import) is told from one added by a later request."""

from types import SimpleNamespace

import orjson

from spanledger.projections.label_history import label_history


def _row(position, version, event_type, at, actor="key:a", **data):
    payload = orjson.dumps({"actor": actor, **data}).decode()
    return SimpleNamespace(position=position, aggregate_version=version, event_type=event_type, actor=actor,
                           occurred_at=f"2026-12-02T10:00:{at:09.6f}+00:00", payload=payload)


def _label(label_id, offset):
    return {"label_id": label_id, "entity": "Person", "entity_id": "E1", "offset": offset, "length": 3}


def test_labels_written_with_their_document_are_imported_later_ones_by_hand():
    rows = [
        _row(10, 1, "DocumentAdded", 0.0, text_length=20),
        _row(11, 2, "LabelAdded", 0.0001, **_label("L1", 0)),
        _row(12, 3, "LabelAdded", 0.0002, **_label("L2", 4)),
        _row(13, 4, "LabelAdded", 0.2, **_label("L3", 8)),  # a request of its own, moments later
        _row(15, 5, "LabelAdded", 0.2001, **_label("L4", 12)),  # another write came in between
    ]
    labels, _ = label_history(rows)
    assert [label["origin"]["kind"] for label in labels] == ["import", "import", "hand", "hand"]


def test_with_request_ids_the_request_decides():
    rows = [
        _row(10, 1, "DocumentAdded", 0.0, request_id="r1"),
        _row(11, 2, "LabelAdded", 0.0001, request_id="r2", **_label("L1", 0)),
        _row(20, 3, "LabelAdded", 9.0, request_id="r1", **_label("L2", 4)),
    ]
    labels, _ = label_history(rows)
    assert [label["origin"]["kind"] for label in labels] == ["hand", "import"]
    assert labels[0]["history"][0]["requestId"] == "r2"
