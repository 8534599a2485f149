"""Metrics read from the log and the read model when Prometheus scrapes: how far each
projection lags the log, how many jobs are in each state, and each resource's quota use.

Only counts and ids are exposed, never a project's or a document's name: /metrics may be
open to a scraper that holds no API key. Resources are labelled by their id (a UUID derived
from the name, see domain.ids), not by their name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Connection, Engine, func, select

from spanledger.projections.tables import autolabel_jobs, quota_limits, quota_usage, training_jobs

log = logging.getLogger(__name__)

JOB_STATES = ("notStarted", "running", "cancelling", "succeeded", "failed", "cancelled", "partiallyCompleted")


class ReadModelCollector:
    def __init__(self, head: Callable[[], int | None], positions: Callable[[], dict[str, int]], reads: Engine):
        self.head, self.positions, self.reads = head, positions, reads

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("spanledger_read_model_up",
                               "1 if the log and the read model answered this scrape, else 0.")
        try:
            head, positions = self.head() or 0, self.positions()
            with self.reads.connect() as conn:
                jobs, quota = _jobs(conn), _quota(conn)
        except Exception as error:  # a store that does not answer is a reading, not a failed scrape
            log.warning("metrics: the log or the read model does not answer: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("spanledger_log_position", "The log's last position.", value=head)
        lag = GaugeMetricFamily("spanledger_projection_lag_events",
                                "Events of the log a projection has not applied yet.", labels=["projection"])
        for name, position in sorted(positions.items()):
            lag.add_metric([name], max(head - position, 0))
        yield lag
        by_state = GaugeMetricFamily("spanledger_jobs", "Jobs in the read model, by kind and state.",
                                     labels=["kind", "state"])
        for (kind, state), count in sorted(jobs.items()):
            by_state.add_metric([kind, state], count)
        yield by_state
        used = GaugeMetricFamily("spanledger_quota_used_text_records",
                                 "Text records reserved this month (UTC) and not refunded, by resource id.",
                                 labels=["resource"])
        limit = GaugeMetricFamily("spanledger_quota_limit_text_records",
                                  "The monthly text-record limit, by resource id.", labels=["resource"])
        for resource, (monthly_limit, records) in sorted(quota.items()):
            used.add_metric([resource], records)
            limit.add_metric([resource], monthly_limit)
        yield used
        yield limit


def _jobs(conn: Connection) -> dict[tuple[str, str], int]:
    """Every known state of each kind (0 when none), so that a series does not vanish."""
    counts = {(kind, state): 0 for kind in ("training", "auto-labeling") for state in JOB_STATES}
    t, a = training_jobs.c, autolabel_jobs.c
    for kind, query in (("training", select(t.status, func.count()).group_by(t.status)),
                        ("auto-labeling", select(a.status, func.count()).where(a.live).group_by(a.status))):
        for state, count in conn.execute(query):
            counts[(kind, state)] = count
    return counts


def _quota(conn: Connection) -> dict[str, tuple[int, int]]:
    """resource id -> (monthly limit, records used this month)."""
    q = quota_usage.c
    month = datetime.now(UTC).strftime("%Y-%m")
    used = dict(conn.execute(select(q.resource_id, func.sum(q.reserved) - func.sum(q.refunded))
                             .where(q.month == month).group_by(q.resource_id)).all())
    limits = conn.execute(select(quota_limits.c.resource_id, quota_limits.c.monthly_text_records))
    return {str(resource): (limit, int(used.get(resource) or 0)) for resource, limit in limits}
