"""The projection follower: writes that land while it rests are applied together; a read that
waits for a position makes it apply at once, and every read waiting is woken by the batch."""

import threading
import time

from spanledger.domain.application import NewDocument
from spanledger.projections.follow import Follower

ACTOR = "key:test"


def test_writes_gather_while_the_follower_rests_and_a_waiting_read_ends_the_rest(container):
    app, runner = container.app, container.runner
    resource_id, _, _ = app.create_resource("acme", "cli:test")
    app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
    runner.catch_up()
    batches = []
    run_batch = runner.run_batch

    def counted() -> int:
        count = run_batch()
        if count:
            batches.append(count)
        return count

    runner.run_batch = counted
    follower = Follower(runner, idle_seconds=30, coalesce_seconds=30)
    app.on_saved.append(follower.poke)
    follower._rest_until = time.monotonic() + 30  # as if it had just applied a batch
    follower.start()
    try:
        positions = [app.add_documents(resource_id, "p", [NewDocument(f"d{i}", "Alice")], ACTOR)[1] for i in range(5)]
        time.sleep(0.3)
        assert runner.position() < positions[0] and not batches  # resting: the writes wait

        waiting = [threading.Event() for _ in positions]
        for position, event in zip(positions, waiting, strict=True):
            assert runner.when_reached(position, event.set) is not None
        started = time.monotonic()
        assert runner.wait_for(positions[-1], timeout=10)  # demands: the rest ends now
        assert time.monotonic() - started < 5
        assert all(event.wait(5) for event in waiting)  # woken together by that batch
        assert len(batches) == 1 and sum(batches) >= len(positions)  # one batch held all five writes
        assert runner.when_reached(positions[-1], lambda: None) is None  # reached already
    finally:
        follower.stop()


def test_an_idle_follower_applies_a_write_at_once(container):
    app, runner = container.app, container.runner
    follower = Follower(runner, idle_seconds=30, coalesce_seconds=30)
    app.on_saved.append(follower.poke)
    follower.start()
    try:
        _, _, position = app.create_resource("acme", "cli:test")
        deadline = time.monotonic() + 5
        while runner.position() < position and time.monotonic() < deadline:
            time.sleep(0.01)
        assert runner.position() >= position
    finally:
        follower.stop()
