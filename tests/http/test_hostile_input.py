"""Hostile input is refused where it enters, with a 4xx naming the field, on both backends:
NUL and encoded slashes in paths, control characters in queries and JSON, names that are not
what they look like, bodies too large or sent without a key, links built from a forged Host,
positions beyond the log, dates out of range, unsupported api-versions."""

import socket
import time
import unicodedata

import pytest

from tests.conftest import API_VERSION, KEY_HEADER, PROJECTS


def raw_request(server, head: str) -> str:
    """Sends request headers only (no body) and answers the status line and headers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.decode("latin-1")


@pytest.fixture
def project(api):
    name = api.new_project(entities=("Person",))
    assert api.put(f"/{name}/documents/d", json={"text": "Alice and Bob"}).status_code == 201
    return name


def _error(response, status: int, target: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["target"] == target, response.text


def test_the_key_is_checked_before_the_body_is_read_and_large_bodies_are_refused(server, api, project):
    # 50 MB announced, none sent: the answer comes from the headers alone.
    path = f"{PROJECTS}/{project}/documents/:batch?api-version={API_VERSION}"
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n"
    assert raw_request(server, head + "\r\n").startswith("HTTP/1.1 401")
    assert raw_request(server, head + f"{KEY_HEADER}: {api.key}\r\n\r\n").startswith("HTTP/1.1 413")
    # Streamed without a length, it is cut off at the limit too.
    limit = server.container.settings.max_body_bytes
    chunks = (b"x" * 65536 for _ in range(limit // 65536 + 2))
    _error(api.post(f"/{project}/documents/:batch", content=chunks,
                    headers={"Content-Type": "application/json"}), 413, "body")


def test_nul_anywhere_is_a_400_naming_the_field(api, project):
    _error(api.get(f"/{project}/documents/a%00b"), 400, "documentName")
    _error(api.get(f"/{project}/models/m%00/evaluation/summary-result"), 400, "trainedModelLabel")
    _error(api.get(f"/{project}/train/jobs/x%00"), 400, "jobId")
    _error(api.get(f"/{project}/documents", params={"entity": "Per\x00son"}), 400, "entity")
    _error(api.post(f"/{project}/autolabel/:preview", json={"modelLabel": "m\x00"}), 400, "modelLabel")
    _error(api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m", "documents": ["d", "e\x00"]}), 400,
           "documents[1]")
    _error(api.post(f"/{project}/documents/:batch", json={"documents": [{"name": "n\x00", "text": "t"}]}), 400,
           "documents[0].name")


def test_names_are_refused_when_they_are_not_what_they_look_like(server, api, project):
    _error(api.get(f"/{project}/documents/d%2Fevents"), 400, "path")
    body = '{"text": "x"}'
    for method, path in [("PUT", f"{project}/documents/%2E%2E"), ("PUT", f"{project}/documents/%2e"),
                         ("PATCH", "%2E%2E")]:
        # sent as is: a client library would resolve the dots away
        head = (f"{method} {PROJECTS}/{path}?api-version={API_VERSION} HTTP/1.1\r\nHost: x\r\n{KEY_HEADER}: {api.key}"
                f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        answer = raw_request(server, head)
        assert answer.startswith("HTTP/1.1 400"), answer
    for name in ["evil\u202etxt.exe", "zero\u200bwidth", "\ufeffbom", " padded "]:
        _error(api.put(f"/{project}/documents/{name}", json={"text": "x"}), 400, "documentName")
    nfd = unicodedata.normalize("NFD", "café")
    _error(api.put(f"/{project}/documents/{nfd}", json={"text": "x"}), 400, "documentName")
    assert api.put(f"/{project}/documents/{unicodedata.normalize('NFC', 'café')}", json={"text": "x"}).status_code == 201
    body = {"projectName": "global", "projectKind": "CustomEntityRecognition", "language": "en"}
    _error(api.patch("/global", json=body), 400, "projectName")
    batch = {"documents": [{"name": "ok", "text": "t"}, {"name": "bad\u202e", "text": "t"}]}
    _error(api.post(f"/{project}/documents/:batch", json=batch), 400, "documents[1].name")
    assert api.get(f"/{project}/documents/ok").status_code == 404  # all or nothing


def test_links_come_from_the_configured_base_not_the_host_header(server, api, project):
    deleted = api.delete(f"/{project}", headers={"Host": "evil.example"})
    assert deleted.status_code == 202
    assert deleted.headers["Operation-Location"].startswith(server.base_url + PROJECTS)
    for _ in range(2):
        api.new_project()
    listed = api.get(server.base_url + PROJECTS, params={"maxpagesize": 1}, headers={"Host": "evil.example"})
    assert listed.json()["nextLink"].startswith(server.base_url + PROJECTS)


def test_positions_beyond_the_log_dates_out_of_range_and_unknown_versions_are_refused(api, project):
    started = time.monotonic()
    _error(api.get(f"/{project}", headers={"X-Min-Log-Position": str(10**12)}), 400, "X-Min-Log-Position")
    assert time.monotonic() - started < 2  # refused at once, not after the read wait
    _error(api.get(f"/{project}/events", params={"since": "0001-01-01T00:00:00+01:00"}), 400, "since")
    _error(api.get(f"/{project}/events", params={"until": "9999-12-31T23:59:59-01:00"}), 400, "until")
    refused = api.get(f"/{project}", params={"api-version": "2031-01-01"})
    _error(refused, 400, "api-version")
    assert refused.json()["error"]["code"] == "UnsupportedApiVersion"
    assert api.get(f"/{project}", params={"api-version": "2023-04-01"}).status_code == 200


def test_the_same_id_twice_in_one_save_is_named(api, project):
    added = api.post(f"/{project}/documents/d/:save-labels",
                     json={"add": [{"category": "Person", "offset": 0, "length": 5}]})
    assert added.status_code == 200, added.text
    labels = api.get(f"/{project}/documents/d").json()["labels"]
    label = labels[0]["id"]
    _error(api.post(f"/{project}/documents/d/:save-labels", json={"remove": [label, label]}), 400, "remove[1]")
    assert [entry["id"] for entry in api.get(f"/{project}/documents/d").json()["labels"]] == [label]
