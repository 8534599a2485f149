"""Group commit (domain.group_commit): saves arriving while another is being written are
written together in one transaction, each answered its own positions and recording its own
request; a conflict fails only the save that conflicted, any other failure only the saves it
reached, and none wedges the next ones."""

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
    """The group commit's first call of the store waits until released, so that saves queue
    behind it; `failing` maps a call's number (1 first) to what that call raises instead.
    `calls` counts the aggregates and events each call was given."""

    def __init__(self, commits, failing: dict[int, Exception] | None = None):
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls: list[int] = []
        save = commits._save

        def held(*objs):
            self.calls.append(len(objs))
            if len(self.calls) == 1:
                self.entered.set()
                assert self.release.wait(10)
            if (failure := (failing or {}).get(len(self.calls))) is not None:
                raise failure
            return save(*objs)

        commits._save = held


def labels_in_thread(app, resource_id, name: str, request_id: str, outcome: dict,
                     labels: list[LabelSpec] | None = None) -> threading.Thread:
    def run() -> None:
        current_request.set(RequestContext(request_id))  # as the API's middleware does
        try:
            outcome[request_id] = app.save_labels(resource_id, "p", name, add=labels or [LabelSpec("Person", 0, 5)],
                                                  actor=ACTOR)
        except Exception as error:
            outcome[request_id] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def joined(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive(), "a save never returned"


def queue_behind_a_held_write(container, writes: list[tuple[str, str]], failing: dict[int, Exception] | None = None):
    """The first write is held while the others queue, in the order given; then all go on.
    Answers the resource, each outcome (LabelsSaved or the error raised) by request id, the
    saves each written transaction held, and the store's calls."""
    app = container.app
    resource_id = project(app)
    batches: list[int] = []  # from here on
    app.commits.on_batch.append(batches.append)
    held = HeldFirstWrite(app.commits, failing)
    outcome: dict[str, object] = {}
    (first_doc, first_request), *rest = writes
    threads = [labels_in_thread(app, resource_id, first_doc, first_request, outcome)]
    assert held.entered.wait(10)
    for n, (doc, request) in enumerate(rest, start=1):
        threads.append(labels_in_thread(app, resource_id, doc, request, outcome))
        wait(lambda n=n: app.commits.waiting == n, 10, "the save to queue", poll=0.01)  # the queue's order
    held.release.set()
    joined(threads)
    return resource_id, outcome, batches, held.calls


def stored(app, position: int) -> tuple[str, dict]:
    (notification,) = app.recorder.select_notifications(start=position, limit=1)
    return str(notification.originator_id), orjson.loads(notification.state)


def test_queued_saves_are_written_in_one_transaction_each_with_its_positions_and_request(container):
    app = container.app
    resource_id, outcome, batches, _ = queue_behind_a_held_write(container, [(f"d{i}", f"r{i}") for i in range(4)])
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
    resource_id, outcome, batches, calls = queue_behind_a_held_write(
        container, [("d0", "r0"), ("d1", "r1"), ("d1", "r2"), ("d2", "r3")])
    assert calls[1] == 3  # the three queued saves were tried together (their three documents) ...
    assert batches == [1, 1, 1]  # ... refused, and written one by one: r0, r1, r3
    assert isinstance(outcome["r2"], ConcurrentModification)  # the queue's order: r1 came first
    assert outcome["r1"].position < outcome["r3"].position
    assert len(app.label_view(resource_id, "p", "d1")) == 1 and len(app.label_view(resource_id, "p", "d2")) == 1


def test_a_failure_after_a_refused_batch_reaches_only_the_save_it_hit(container):
    """r1 writes the batch (the queue's oldest): its own save is written before r3's fails,
    so r1 is answered its position, not r3's error."""
    app = container.app
    failure = RuntimeError("the database went away")
    # Calls: r0 alone, the batch (refused: r1 and r2 both write d1), r1, r2 (refused), r3.
    resource_id, outcome, batches, _ = queue_behind_a_held_write(
        container, [("d0", "r0"), ("d1", "r1"), ("d1", "r2"), ("d2", "r3")], failing={5: failure})
    assert outcome["r1"].position > outcome["r0"].position
    assert isinstance(outcome["r2"], ConcurrentModification)
    assert outcome["r3"] is failure and app.label_view(resource_id, "p", "d2") == {}
    assert batches == [1, 1]


def test_a_failed_batch_reaches_each_of_its_saves_and_the_next_save_is_written(container):
    app = container.app
    failure = RuntimeError("the database went away")
    resource_id, outcome, _, _ = queue_behind_a_held_write(container, [("d0", "r0"), ("d1", "r1"), ("d2", "r2")],
                                                           failing={2: failure})
    assert outcome["r1"] is failure and outcome["r2"] is failure
    assert app.label_view(resource_id, "p", "d1") == {} and app.label_view(resource_id, "p", "d2") == {}
    started = time.monotonic()
    saved = app.save_labels(resource_id, "p", "d3", add=[LabelSpec("Person", 0, 5)], actor=ACTOR)
    assert saved.position and time.monotonic() - started < 5


def test_a_batch_holds_at_most_max_events(container):
    app = container.app
    app.commits.max_events = 2  # one label a save: two saves a batch
    _, outcome, batches, _ = queue_behind_a_held_write(container, [(f"d{i}", f"r{i}") for i in range(4)])
    assert batches == [1, 2, 1]
    assert sorted(outcome[f"r{i}"].position for i in range(4)) == [outcome[f"r{i}"].position for i in range(4)]


def test_a_large_save_is_written_at_once_beside_a_batch(container):
    app = container.app
    resource_id = project(app)
    held = HeldFirstWrite(app.commits)
    outcome: dict[str, object] = {}
    first = labels_in_thread(app, resource_id, "d0", "r0", outcome)
    assert held.entered.wait(10)
    app.commits.max_events = 4  # "large" here: four labels, four events
    every_name = [LabelSpec("Person", 15 * k, 5) for k in range(4)]  # "Alice met Bob. " four times
    large = labels_in_thread(app, resource_id, "d1", "r1", outcome, every_name)
    large.join(5)
    assert not large.is_alive(), "the large save waited for the held one"
    held.release.set()
    joined([first])
    assert outcome["r1"].position > 0 and len(app.label_view(resource_id, "p", "d1")) == 4
    assert outcome["r0"].position > outcome["r1"].position


def test_one_aggregate_given_twice_is_saved_once_and_its_batch_is_answered_rightly(container):
    app = container.app
    resource_id = project(app)
    held = HeldFirstWrite(app.commits)
    outcome: dict[str, object] = {}
    threads = [labels_in_thread(app, resource_id, "d0", "r0", outcome)]
    assert held.entered.wait(10)
    project_aggregate, document = app.get_document(resource_id, "p", "d1")
    document.add_label(project_aggregate, "Person", 0, 5, ACTOR)
    threads.append(threading.Thread(target=lambda: outcome.update(twice=app._save(document, document))))
    threads[-1].start()
    wait(lambda: app.commits.waiting == 1, 10, "the save to queue", poll=0.01)
    threads.append(labels_in_thread(app, resource_id, "d2", "r2", outcome))  # in the same batch, after it
    wait(lambda: app.commits.waiting == 2, 10, "the save to queue", poll=0.01)
    held.release.set()
    joined(threads)
    assert held.calls[1] == 2  # d1 and d2 together
    assert stored(app, outcome["twice"])[0] == str(document.id)
    _, d2 = app.get_document(resource_id, "p", "d2")
    assert stored(app, outcome["r2"].position)[0] == str(d2.id)
    assert len(app.label_view(resource_id, "p", "d1")) == 1


def test_concurrent_writers_all_land_once_each_answered_its_own_position(container):
    app, writers = container.app, 8
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    app.put_entity(resource_id, "p", "Person", ACTOR)
    names = [f"w{n}-{i}" for n in range(writers) for i in range(10)]
    app.add_documents(resource_id, "p", [NewDocument(name, "Alice met Bob. " * 4) for name in names], ACTOR)
    answered: dict[str, int] = {}

    def write(n: int) -> None:
        for i in range(10):
            answered[f"w{n}-{i}"] = app.save_labels(resource_id, "p", f"w{n}-{i}", add=[LabelSpec("Person", 0, 5)],
                                                    actor=ACTOR).position

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    joined(threads)
    assert len(set(answered.values())) == len(names)
    for name, position in answered.items():
        _, document = app.get_document(resource_id, "p", name)
        assert stored(app, position)[0] == str(document.id)
        assert len(app.label_view(resource_id, "p", name)) == 1
