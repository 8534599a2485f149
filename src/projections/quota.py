"""The quota view: each resource's monthly limit, and per month and project what was
reserved, charged and refunded. It is for reading; the QuotaLedger aggregate decides."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, insert, select, update

from spanledger.projections.runner import Event
from spanledger.projections.tables import quota_limits, quota_usage


class QuotaProjection:
    name = "quota"
    tables = (quota_limits, quota_usage)

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        for event in events:
            handler = _HANDLERS.get(event.topic)
            if handler is not None:
                handler(conn, event)


def _resource_created(conn: Connection, e: Event) -> None:
    conn.execute(insert(quota_limits).values(resource_id=e.aggregate_id,
                                             monthly_text_records=e.data["monthly_text_records"]))


def _add(conn: Connection, e: Event, reserved: int = 0, charged: int = 0, refunded: int = 0) -> None:
    d = e.data
    # The ledger's own id is derived from these; its Opened event named them.
    key = ((quota_usage.c.resource_id == d["resource_id"]) & (quota_usage.c.month == d["month"])
           & (quota_usage.c.project_id == d["project_id"]))
    if conn.scalar(select(quota_usage.c.reserved).where(key)) is None:
        conn.execute(insert(quota_usage).values(resource_id=d["resource_id"], month=d["month"],
                                                project_id=d["project_id"], reserved=0, charged=0, refunded=0))
    conn.execute(update(quota_usage).where(key).values(
        reserved=quota_usage.c.reserved + reserved, charged=quota_usage.c.charged + charged,
        refunded=quota_usage.c.refunded + refunded))


def _reserved(conn: Connection, e: Event) -> None:
    _add(conn, e, reserved=e.data["text_records"])


def _settled(conn: Connection, e: Event) -> None:
    _add(conn, e, charged=e.data["charged"], refunded=e.data["refunded"])


_HANDLERS: dict[str, Callable[[Connection, Event], None]] = {
    "ResourceCreated": _resource_created,
    "QuotaReserved": _reserved,
    "QuotaSettled": _settled,
}
