"""Runners of several processes on one PostgreSQL read model take turns (ProjectionRunner._turn):
while one applies a batch, another waits, then reads on from where the first got, instead of
reading and decoding the same batch only to throw it away at the positions' compare-and-set."""

import contextlib
import threading
import time
from pathlib import Path

from spanledger.bootstrap import build
from spanledger.domain.application import LabelSpec, NewDocument
from tests.conftest import make_settings, require_backend

ACTOR = "key:test"


def test_a_second_runner_waits_for_the_first_and_reads_on_from_where_it_got(tmp_path: Path):
    require_backend("postgres")
    with contextlib.contextmanager(make_settings)("postgres", tmp_path) as settings:
        first, second = build(settings), build(settings)  # as two processes: a runner each, not following
        applying, release = threading.Event(), threading.Event()
        try:
            app = first.app
            resource_id, _, _ = app.create_resource("acme", "cli:test")
            app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
            app.put_entity(resource_id, "p", "Person", ACTOR)
            app.add_documents(resource_id, "p", [NewDocument(f"d{i}", "Alice met Bob. " * 5) for i in range(5)], ACTOR)
            for i in range(5):
                app.save_labels(resource_id, "p", f"d{i}", add=[LabelSpec("Person", 0, 5)], actor=ACTOR)
            head = app.recorder.max_notification_id()

            labeling = first.runner.projections[0]
            apply = labeling.apply

            def held(conn, events):  # the first runner stops in the middle of its batch
                apply(conn, events)
                applying.set()
                release.wait(10)

            labeling.apply = held
            reads: list[int] = []
            read = second.runner.read
            second.runner.read = lambda after: (reads.append(after), read(after))[1]

            applied = threading.Thread(target=first.runner.run_batch)
            applied.start()
            assert applying.wait(10)
            found: list[int] = []
            waiting = threading.Thread(target=lambda: found.append(second.runner.run_batch()))
            waiting.start()
            time.sleep(0.5)
            assert reads == [], "the second runner read the log while the first was applying it"
            release.set()
            applied.join(10)
            waiting.join(10)
            assert reads == [head] and found == [0]  # it read on from the first one's position: nothing left
            assert second.runner.position() == first.runner.position() == head
        finally:
            release.set()
            second.close()
            first.close()
