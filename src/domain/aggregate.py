"""What every spanledger aggregate shares: explicit, stable topics, an actor on every
event, snapshots, and a "created" event that may re-create a deleted aggregate.

Aggregates are addressed by deterministic ids (see `domain.ids`), so re-adding a deleted
document or project reuses its aggregate: the new life is appended to the old history
instead of starting a new stream, and the audit trail of that name stays in one place.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.domain import Snapshot as _Snapshot
from eventsourcing.utils import get_topic, register_topic


class Recreatable(Aggregate.Created):
    """A created event that can also bring a deleted aggregate back to life."""

    def mutate(self, aggregate: Any) -> Any:
        if aggregate is None:
            return super().mutate(None)
        aggregate = CanMutateAggregate.mutate(self, aggregate)
        aggregate._created_on = self.timestamp  # this life began now
        return aggregate


def snapshot_class(topic: str) -> type[_Snapshot]:
    """A snapshot class with an explicit topic (registered so it resolves before first use)."""
    cls = type(topic, (_Snapshot,), {"TOPIC": topic, "__qualname__": topic})
    register_topic(topic, cls)
    return cls


def recreate(aggregate: Aggregate, event_class: type[Recreatable], **kwargs: Any) -> None:
    """Triggers a created event on an existing (deleted) aggregate."""
    aggregate.trigger_event(event_class, originator_topic=get_topic(type(aggregate)), **kwargs)
