"""Read-your-writes: writes answer their log position; reads wait for the positions they need."""

import time


def test_writes_answer_their_log_position_and_reads_can_wait_for_it(server, api):
    project = api.new_project()
    response = api.put(f"/{project}/documents/d", json={"text": "Alice"})
    position = int(response.headers["X-Log-Position"])
    assert position == server.container.app.recorder.max_notification_id()
    with server.api() as stranger:  # another resource: no own writes, so it asks for a position
        assert stranger.get("/whatever", headers={"X-Min-Log-Position": str(position)}).status_code == 404
    assert server.container.runner.position() >= position


def test_a_read_for_a_position_the_log_never_reached_times_out_with_503(server, api, monkeypatch):
    monkeypatch.setattr(server.container.settings, "read_wait_seconds", 0.2)
    project = api.new_project()
    started = time.monotonic()
    response = api.get(f"/{project}", headers={"X-Min-Log-Position": "999999999"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["error"]["target"] == "X-Min-Log-Position"
    assert 0.2 <= time.monotonic() - started < 5
    assert api.get(f"/{project}", headers={"X-Min-Log-Position": "-1"}).status_code == 400
