"""Read-your-writes: writes answer their log position; reads wait for the positions they need."""

import time

import pytest

from spanledger.bootstrap import build
from tests.conftest import LiveServer, make_settings


def unfollowed_server(tmp_path, read_wait_seconds: float, **overrides):
    """A server whose projections do not follow the log unless the test says so."""
    for settings in make_settings("sqlite", tmp_path, read_wait_seconds=read_wait_seconds, **overrides):
        container = build(settings)
        live = LiveServer(container).start()
        yield live
        live.stop()
        container.close()


@pytest.fixture
def unfollowed(tmp_path):
    yield from unfollowed_server(tmp_path, 0.3)


def test_a_key_reads_its_own_writes_and_waits_for_them(unfollowed):
    with unfollowed.api() as api:
        project = api.new_project()  # the writes are in the log, not yet in the read model
        started = time.monotonic()
        waiting = api.get(f"/{project}")
        assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "1"
        assert waiting.json()["error"]["target"] == "X-Min-Log-Position"
        assert 0.3 <= time.monotonic() - started < 5
        with unfollowed.api() as stranger:  # no writes of its own: reads the read model as it is
            assert stranger.get(f"/{project}").status_code == 404
        unfollowed.container.runner.catch_up()
        assert api.get(f"/{project}").status_code == 200


def test_a_read_can_ask_for_any_position(unfollowed):
    with unfollowed.api() as api:
        project = api.new_project()
        position = int(api.put(f"/{project}/documents/d", json={"text": "Alice"}).headers["X-Log-Position"])
        assert position == unfollowed.container.app.recorder.max_notification_id()
        with unfollowed.api() as other:
            header = {"X-Min-Log-Position": str(position)}
            assert other.get("/anything", headers=header).status_code == 503
            unfollowed.container.runner.catch_up()
            assert other.get("/anything", headers=header).status_code == 404  # reached: an honest 404
            assert other.get("/anything", headers={"X-Min-Log-Position": "-1"}).status_code == 400


def test_health_needs_no_key(server):
    import httpx

    health = httpx.get(f"{server.base_url}/health").json()
    assert health["status"] == "ok" and health["readModelPosition"] >= 0


def test_ready_while_the_projections_keep_up_and_not_when_they_lag(tmp_path):
    import httpx

    for server in unfollowed_server(tmp_path, 0.3, ready_max_lag=3):
        server.container.runner.catch_up()
        ready = httpx.get(f"{server.base_url}/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert set(ready.json()["projections"]) == {"labeling", "audit", "training", "autolabel", "quota"}
        with server.api() as api:
            project = api.new_project(entities=("Person", "Org"))  # more events than the lag allowed
        lagging = httpx.get(f"{server.base_url}/ready")
        assert lagging.status_code == 503 and lagging.json()["status"] == "notReady"
        assert "labeling" in lagging.json()["reason"] and lagging.json()["projections"]["labeling"]["behind"] > 3
        server.container.runner.catch_up()
        assert httpx.get(f"{server.base_url}/ready").status_code == 200
        assert project


@pytest.fixture
def patient(tmp_path):
    yield from unfollowed_server(tmp_path, 4)


def test_reads_waiting_for_the_read_model_hold_no_thread_others_need(patient):
    """60 reads waiting for a position the read model has not reached (more than the server's
    thread pool has threads) leave another tenant's list as fast as ever."""
    import threading

    with patient.api() as writer, patient.api() as other:
        project = writer.new_project()
        other_project = other.new_project()
        patient.container.runner.catch_up()
        pending = int(writer.put(f"/{project}/documents/e", json={"text": "y"}).headers["X-Log-Position"])
        answers = []

        def wait() -> None:
            with patient.api(writer.key) as api:
                answers.append(api.get(f"/{project}", headers={"X-Min-Log-Position": str(pending)}).status_code)

        waiting = [threading.Thread(target=wait) for _ in range(60)]
        for thread in waiting:
            thread.start()
        time.sleep(0.5)  # all of them waiting now
        started = time.monotonic()
        assert other.get(f"/{other_project}").status_code == 200
        # A held thread would make it wait out the 4 s; well under that, on a busy machine too.
        assert time.monotonic() - started < 2.0
        for thread in waiting:
            thread.join()
        assert answers == [503] * 60
