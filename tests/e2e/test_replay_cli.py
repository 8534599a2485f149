"""`spanledger replay` as a user runs it (a real subprocess on each backend): a document's
or project's events with the state after each, the changes between two positions, --json."""

import json
import os
import subprocess
import sys

import pytest

from spanledger.bootstrap import build
from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.domain.offsets import StringIndexType
from tests.conftest import make_settings
from tests.e2e.test_cli import spanledger

ACTOR = "key:test"


@pytest.fixture
def written(backend, tmp_path):
    """A project with two documents, labels added and removed, one document deleted; the
    positions of interest, and the environment the command runs in."""
    for settings in make_settings(backend, tmp_path / "data"):
        container = build(settings)
        app = container.app
        resource_id, _, _ = app.create_resource("acme", ACTOR)
        app.put_project(resource_id, "p", {"language": "en"}, ACTOR)
        app.put_entity(resource_id, "p", "Person", ACTOR)
        _, added = app.add_documents(resource_id, "p", [NewDocument("d", "\U0001F600 Ana met Bob."),
                                                          NewDocument("e", "Nothing.")], ACTOR)
        first = app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 2, 3)], actor=ACTOR,
                                unit=StringIndexType.CODE_POINT).position
        second = app.save_labels(resource_id, "p", "d", add=[LabelSpec("Person", 10, 3)], remove=["L1"],
                                 actor=ACTOR, unit=StringIndexType.CODE_POINT).position
        gone = app.delete_document(resource_id, "p", "e", ACTOR)
        container.close()
        env = {**os.environ, "SPANLEDGER_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
        if settings.database_url:
            env["SPANLEDGER_DATABASE_URL"] = settings.database_url
        yield env, {"added": added, "first": first, "second": second, "gone": gone}


def test_a_documents_events_with_the_state_after_each(written):
    env, at = written
    out = spanledger(env, "replay", "p", "d", "--resource", "acme")
    assert f"#{at['first']}  LabelAdded  document 'd' v2" in out
    assert "label L1 Person 3+3 'Ana'" in out  # UTF-16: the emoji counts 2
    assert out.rstrip().endswith("label L2 Person 11+3 'Bob'"), out
    lines = spanledger(env, "replay", "p", "d", "--resource", "acme", "--json", "--to", str(at["first"]),
                       "--string-index-type", "UnicodeCodePoint").splitlines()
    steps = [json.loads(line) for line in lines]
    assert [s["event"] for s in steps] == ["DocumentAdded", "LabelAdded"]
    assert steps[-1]["state"]["labels"] == {"L1": {"category": "Person", "offset": 2, "length": 3, "text": "Ana"}}
    assert steps[-1]["position"] == at["first"] and steps[-1]["actor"] == ACTOR


def test_the_changes_between_two_positions_of_a_project(written):
    env, at = written
    changes = [json.loads(line) for line in spanledger(
        env, "replay", "p", "--resource", "acme", "--json", "--from", str(at["first"])).splitlines()]
    assert changes == [
        {"change": "labelAdded", "document": "d", "id": "L2", "category": "Person", "offset": 11, "length": 3,
         "text": "Bob"},
        {"change": "labelRemoved", "document": "d", "id": "L1", "category": "Person", "offset": 3, "length": 3,
         "text": "Ana"},
        {"change": "documentRemoved", "document": "e"},
    ]
    text = spanledger(env, "replay", "p", "--resource", "acme", "--from", "0", "--to", str(at["added"]))
    assert "Project 'p': 4 change(s) from position 0 to" in text and "entityAdded category='Person'" in text
    for args, message in [(["--to", "999999"], "--to 999999 is outside the log"),
                          (["--from", str(at["gone"]), "--to", str(at["first"])], "--from")]:
        failed = subprocess.run([sys.executable, "-m", "spanledger.api.cli", "replay", "p", "--resource", "acme", *args],
                                env=env, capture_output=True, text=True, timeout=60)
        assert failed.returncode != 0 and message in failed.stderr, (args, failed.stderr)
