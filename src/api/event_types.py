"""The event types the log can hold (their stable topics), for checking a filter: a
misspelt type would otherwise match nothing, silently."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, Snapshot

import spanledger.domain.application  # noqa: F401  (imports every aggregate, so that their events are defined)


def _topics(cls: type) -> set[str]:
    found = set()
    for sub in cls.__subclasses__():
        topic = sub.__dict__.get("TOPIC")
        if topic and not issubclass(sub, Snapshot):
            found.add(topic)
        found |= _topics(sub)
    return found


EVENT_TYPES = frozenset(_topics(Aggregate.Event))
