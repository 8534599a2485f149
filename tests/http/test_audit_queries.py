"""The audit log over the whole resource and its filters (actor, several event types, time and
position ranges, job, model), paged in Azure's style or exported whole as NDJSON."""

import threading

import httpx
import orjson

from spanledger.projections import audit_queries
from tests.http.test_review_queue import suggest

EVENTS = "/language/authoring/analyze-text/events"
NDJSON = {"Accept": "application/x-ndjson"}


def _resource(server, api, **params):
    answer = api.get(server.base_url + EVENTS, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _types(entries):
    return [e["eventType"] for e in entries]


def test_the_resource_log_keeps_deleted_projects_and_hides_other_resources(server, api):
    gone = api.new_project(entities=("Person",))
    api.put(f"/{gone}/documents/d", json={"text": "Alice"})
    kept = api.new_project(entities=())
    assert api.delete(f"/{gone}").status_code == 202
    stranger = server.api()
    stranger.new_project(entities=())

    entries = _resource(server, api)["value"]
    assert _types(entries)[:2] == ["ResourceCreated", "ApiKeyIssued"]  # the resource's own events
    of_gone = [e for e in entries if e.get("projectName") == gone]
    assert _types(of_gone) == ["ProjectCreated", "EntityAdded", "DocumentAdded", "ProjectDeleted"]
    assert of_gone[2]["documentName"] == "d"
    assert [e["projectName"] for e in entries if e["eventType"] == "ProjectCreated"] == [gone, kept]
    assert _types(_resource(server, api, projectName=gone)["value"]) == _types(of_gone)
    # The deletion's job is the job of its event.
    deleted = of_gone[-1]
    assert _types(_resource(server, api, job=deleted["jobId"])["value"]) == ["ProjectDeleted"]


def test_filters_by_actor_types_times_and_positions(server, api):
    alice = server.api(key=server.another_key(api.key, name="alice"))
    project = api.new_project(entities=("Person",))
    written = alice.put(f"/{project}/documents/d", json={"text": "Alice met Bob"})
    seen = {"X-Min-Log-Position": written.headers["X-Log-Position"]}
    api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 0, "length": 5}, headers=seen)
    api.delete(f"/{project}/documents/d/labels/L1")

    alice_id = f"key:{alice.key.split('-')[2]}"
    by_alice = _resource(server, api, actor=alice_id)["value"]  # the key id alone matches "key:ID (alice)"
    assert _types(by_alice) == ["DocumentAdded"] and by_alice[0]["actor"] == f"{alice_id} (alice)"
    assert _types(_resource(server, api, actor=f"{alice_id} (alice)")["value"]) == ["DocumentAdded"]
    assert _resource(server, api, actor=alice_id[:-1])["value"] == []

    both = ["LabelAdded", "LabelRemoved"]
    assert _types(_resource(server, api, eventType="LabelAdded,LabelRemoved")["value"]) == both
    assert _types(api.get(f"/{project}/events", params=[("eventType", t) for t in both]).json()["value"]) == both
    bad = api.get(f"/{project}/events", params={"eventType": "LabelAdd"})
    assert bad.status_code == 400 and bad.json()["error"]["target"] == "eventType"

    entries = api.get(f"/{project}/documents/d/events").json()["value"]
    first, last = entries[0]["position"], entries[-1]["position"]
    window = {"afterPosition": first, "toPosition": last - 1}
    assert _types(api.get(f"/{project}/documents/d/events", params=window).json()["value"]) == ["LabelAdded"]
    assert _types(_resource(server, api, toPosition=first, since=entries[0]["occurredDateTime"])["value"]) == [
        "DocumentAdded"]
    assert api.get(server.base_url + EVENTS, params={"toPosition": -1}).status_code == 400

    # A key's id alone also finds what it wrote acting for someone (X-Acting-For).
    acted = alice.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 10, "length": 3},
                       headers={"X-Acting-For": "bob"})
    assert acted.status_code == 201
    found = _resource(server, alice, actor=alice_id, eventType="LabelAdded")["value"]
    assert len(found) == 1 and found[0]["actor"].startswith(alice_id + " ")


def test_job_and_model_reach_the_decisions_on_their_suggestions(server, api):
    project = api.new_project(entities=("Person",))
    api.put(f"/{project}/documents/d", json={"text": "Ana met Bob and Rui"})
    suggest(server, api, project, "d", [("Person", 0, 3, 0.9, "j1"), ("Person", 8, 3, 0.5, "j2")])
    assert api.post(f"/{project}/documents/d/suggestions/S1/:reject").status_code == 200
    assert api.post(f"/{project}/documents/d/suggestions/S2/:accept").status_code == 200
    assert api.post(f"/{project}/documents/d/:undo").status_code == 200

    of_j1 = api.get(f"/{project}/events", params={"job": "j1"}).json()["value"]
    assert _types(of_j1) == ["AutoLabelSuggested", "AutoLabelRejected"]
    assert all((e["jobId"], e["modelLabel"]) == ("j1", "m1") for e in of_j1)
    of_j2 = api.get(f"/{project}/documents/d/events", params={"job": "j2"}).json()["value"]
    assert _types(of_j2) == ["AutoLabelSuggested", "AutoLabelAccepted", "AutoLabelDecisionUndone"]
    assert len(_resource(server, api, model="m1")["value"]) == 5
    assert _resource(server, api, model="m2")["value"] == []


def test_pages_in_azure_style_and_exports_everything_as_ndjson(server, api):
    project = api.new_project(entities=("Person",))
    for i in range(4):
        api.put(f"/{project}/documents/d{i}", json={"text": "\U0001F600 Alice"})
        api.post(f"/{project}/documents/d{i}/labels", json={"category": "Person", "offset": 3, "length": 5})
    everything = api.get(f"/{project}/events", params={"maxpagesize": 1000}).json()["value"]
    assert len(everything) == 10

    first = api.get(f"/{project}/events", params={"maxpagesize": 4}).json()
    assert len(first["value"]) == 4 and "skip=4" in first["nextLink"]
    second = httpx.get(first["nextLink"], headers={"Ocp-Apim-Subscription-Key": api.key}).json()  # as it is
    assert second["value"] == everything[4:8]

    exported = api.get(f"/{project}/events", headers=NDJSON)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-ndjson")
    assert [orjson.loads(line) for line in exported.text.splitlines()] == everything
    topped = api.get(f"/{project}/events", params={"skip": 2, "top": 3}, headers=NDJSON).text.splitlines()
    assert [orjson.loads(line) for line in topped] == everything[2:5]
    labels = [orjson.loads(line) for line in api.get(
        server.base_url + EVENTS, params={"eventType": "LabelAdded", "stringIndexType": "UnicodeCodePoint"},
        headers=NDJSON).text.splitlines()]
    assert [(e["data"]["offset"], e["projectName"]) for e in labels] == [(2, project)] * 4


def test_an_export_streams_in_pages_and_stops_when_the_client_goes(server, api, monkeypatch):
    project = api.new_project(entities=())
    api.post(f"/{project}/documents/:batch", json={"documents": [{"name": f"d{i}", "text": "x"} for i in range(30)]})
    pages, gate = [], threading.Event()
    stream = audit_queries.audit_stream

    def small_pages(*args, **kwargs):
        for rows in stream(*args, **{**kwargs, "page_size": 2}):
            pages.append(len(rows[0]))
            yield rows
            if len(pages) == 2:
                gate.wait(5)  # read on only once the client has gone

    monkeypatch.setattr("spanledger.api.audit_entries.audit_stream", small_pages)
    with httpx.Client() as client, client.stream(
            "GET", f"{server.base_url}/language/authoring/analyze-text/projects/{project}/events",
            params={"api-version": "2025-05-15-preview"},
            headers={**NDJSON, "Ocp-Apim-Subscription-Key": api.key}) as answer:
        assert answer.status_code == 200
        assert orjson.loads(next(answer.iter_lines()))["eventType"] == "ProjectCreated"
    threading.Event().wait(0.3)  # the server sees the connection close
    gate.set()
    threading.Event().wait(0.3)
    assert len(pages) <= 3, pages  # 31 events in pages of 2: 16 reads had it read on
