"""Read-your-writes: writes answer their log position; reads wait for the positions they need."""

import time

import pytest

from bootstrap import build
from tests.conftest import LiveServer, make_settings


@pytest.fixture
def unfollowed(tmp_path):
    """A server whose projections do not follow the log unless the test says so."""
    for settings in make_settings("sqlite", tmp_path, read_wait_seconds=0.3):
        container = build(settings)
        live = LiveServer(container).start()
        yield live
        live.stop()
        container.close()


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
