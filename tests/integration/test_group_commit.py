"""Group commit (domain.group_commit): saves arriving while another is being written are
written together in one transaction, each answered its own positions and recording its own
request; a conflict fails only the save that conflicted, and any other failure reaches every
save of the batch without wedging the next ones."""

from __future__ import annotations

import threading
import time

import orjson

from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.domain.errors import ConcurrentModification
from spanledger.observability.request_context import RequestContext, current_request
from tests.support import wait

ACTOR = "key:test"


def project(app) -> object:
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    app.add_documents(resource_id, "p", [NewDocument(f"d{i}", "Alice met Bob. " * 4) for i in range(4)], ACTOR)
    return resource_id


class HeldFirstWrite:
    """The group commit's next write waits until released, so that saves queue behind it."""

    def __init__(self, commits, fail_batch: Exception | None = None):
        self.commits, self.entered, self.release = commits, threading.Event(), threading.Event()
        save, calls = commits._save, []

        def held(*objs):
            calls.append(len(objs))
            if len(calls) == 1:
                self.entered.set()
                assert self.release.wait(10)
            elif len(calls) == 2 and fail_batch is not None:
                raise fail_batch
            return save(*objs)

        commits._save = held


def labels_in_thread(app, resource_id, name: str, request_id: str, outcome: dict) -> threading.Thread:
    def run() -> None:
        current_request.set(RequestContext(request_id))  # as the API's middleware does
        try:
            outcome[request_id] = app.save_labels(resource_id, "p", name, add=[LabelSpec("Person", 0, 5)],
                                                  actor=ACTOR)
        except Exception as error:
            outcome[request_id] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def queue_behind_a_held_write(container, writes: list[tuple[str, str]], fail_batch: Exception | None = None):
    """The first write is held while the others queue; then all go on. Answers the resource,
    each outcome (LabelsSaved or the error raised) by request id, and the saves a transaction."""
    app = container.app
    resource_id = project(app)
    batches: list[int] = []  # saves a transaction, from here on
    app.commits.on_batch.append(batches.append)
    held = HeldFirstWrite(app.commits, fail_batch)
    outcome: dict[str, object] = {}
    (first_doc, first_request), *rest = writes
    threads = [labels_in_thread(app, resource_id, first_doc, first_request, outcome)]
    assert held.entered.wait(10)
    threads += [labels_in_thread(app, resource_id, doc, request, outcome) for doc, request in rest]
    wait(lambda: app.commits.waiting == len(rest), 10, "the saves to queue", poll=0.01)
    held.release.set()
    for thread in threads:
        thread.join(10)
    return resource_id, outcome, batches


def stored(app, position: int) -> tuple[str, dict]:
    (notification,) = app.recorder.select_notifications(start=position, limit=1)
    return str(notification.originator_id), orjson.loads(notification.state)


def test_queued_saves_are_written_in_one_transaction_each_with_its_positions_and_request(container):
    app = container.app
    resource_id, outcome, batches = queue_behind_a_held_write(container, [(f"d{i}", f"r{i}") for i in range(4)])
    assert batches == [1, 3]
    positions = [outcome[f"r{i}"].position for i in range(4)]
    assert len(set(positions)) == 4
    for i, position in enumerate(positions):
        originator, state = stored(app, position)
        _, document = app.get_document(resource_id, "p", f"d{i}")
        assert originator == str(document.id)  # the position of this save's own event
        assert state["request_id"] == f"r{i}"  # recorded by its own request, not the batch writer's
        assert len(app.label_view(resource_id, "p", f"d{i}")) == 1


def test_a_conflict_in_a_batch_fails_only_the_save_that_conflicted(container):
    app = container.app
    # r1 and r2 both loaded d1 at the same version while r0's write was held.
    resource_id, outcome, batches = queue_behind_a_held_write(container, [("d0", "r0"), ("d1", "r1"), ("d1", "r2"),
                                                                          ("d2", "r3")])
    assert batches == [1, 3]  # tried together, then each alone
    failed = [r for r in ("r1", "r2") if isinstance(outcome[r], ConcurrentModification)]
    assert len(failed) == 1, outcome
    assert len(app.label_view(resource_id, "p", "d1")) == 1  # the winner's label, once
    assert not isinstance(outcome["r3"], Exception) and len(app.label_view(resource_id, "p", "d2")) == 1
    assert outcome["r3"].position > outcome["r0"].position


def test_a_failed_batch_reaches_each_of_its_saves_and_the_next_save_is_written(container):
    app = container.app
    failure = RuntimeError("the database went away")
    resource_id, outcome, _ = queue_behind_a_held_write(container, [("d0", "r0"), ("d1", "r1"), ("d2", "r2")],
                                                        fail_batch=failure)
    assert outcome["r1"] is failure and outcome["r2"] is failure
    assert app.label_view(resource_id, "p", "d1") == {} and app.label_view(resource_id, "p", "d2") == {}
    started = time.monotonic()
    saved = app.save_labels(resource_id, "p", "d3", add=[LabelSpec("Person", 0, 5)], actor=ACTOR)
    assert saved.position and time.monotonic() - started < 5


def test_concurrent_writers_all_land_once(container):
    app, writers = container.app, 8
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    names = [f"w{n}-{i}" for n in range(writers) for i in range(10)]
    app.add_documents(resource_id, "p", [NewDocument(name, "Alice met Bob. " * 4) for name in names], ACTOR)
    positions: list[int] = []

    def write(n: int) -> None:
        for i in range(10):
            positions.append(app.save_labels(resource_id, "p", f"w{n}-{i}", add=[LabelSpec("Person", 0, 5)],
                                             actor=ACTOR).position)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(set(positions)) == len(names)
    for name in names:
        assert len(app.label_view(resource_id, "p", name)) == 1


def test_a_large_save_is_written_at_once_beside_a_batch(container):
    app = container.app
    resource_id = project(app)
    held = HeldFirstWrite(app.commits)
    outcome: dict[str, object] = {}
    first = labels_in_thread(app, resource_id, "d0", "r0", outcome)
    assert held.entered.wait(10)
    app.commits.alone_from_events = 4  # "large" here: four labels, four events
    every_name = [LabelSpec("Person", 15 * k, 5) for k in range(4)]  # "Alice met Bob. " four times
    saved = app.save_labels(resource_id, "p", "d1", add=every_name, actor=ACTOR)  # not queued behind d0's write
    assert saved.position and app.commits.waiting == 0
    held.release.set()
    first.join(10)
    assert outcome["r0"].position > 0 and len(app.label_view(resource_id, "p", "d1")) == 4
