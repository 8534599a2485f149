"""The `spanledger` command as a newcomer runs it: serve (first start prints a key), resources,
projections status, rebuild and verify."""

import contextlib
import os
import re
import subprocess
import sys

import httpx
import pytest

from tests.conftest import API_VERSION, KEY_HEADER, PROJECTS, free_port, make_settings


@pytest.fixture
def env(backend, tmp_path):
    for settings in make_settings(backend, tmp_path / "data"):
        env = {**os.environ, "SPANLEDGER_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
        if settings.database_url:
            env["SPANLEDGER_DATABASE_URL"] = settings.database_url
        yield env


def spanledger(env, *args, timeout=120):
    done = subprocess.run([sys.executable, "-m", "spanledger.api.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def serving(env, port):
    """`spanledger serve` in its own process; yields what it printed up to "Uvicorn running"."""
    server = subprocess.Popen([sys.executable, "-m", "spanledger.api.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = ""
        while "Uvicorn running" not in output:
            line = server.stdout.readline()
            assert line, f"server exited: {output}"
            output += line
        yield output
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_creates_a_default_resource_and_answers_over_http(env):
    port = free_port()
    with serving(env, port) as output:
        key = re.search(r"(sl-\S+)", output).group(1)
        base = f"http://127.0.0.1:{port}{PROJECTS}"
        with httpx.Client(headers={KEY_HEADER: key}, params={"api-version": API_VERSION}) as http:
            assert http.patch(f"{base}/demo", json={"language": "en"}).status_code == 201
            assert http.put(f"{base}/demo/documents/d", json={"text": "Alice"}).status_code == 201
            assert http.get(f"{base}/demo/documents/d").json()["text"] == "Alice"
    with serving(env, port) as output:  # a second start keeps the resource and prints no new key
        assert "sl-" not in output


def test_resources_keys_and_projections_from_the_command_line(env):
    key = spanledger(env, "resources", "create", "acme").strip()
    assert key.startswith("sl-")
    second = spanledger(env, "resources", "issue-key", "acme", "--name", "alice").strip()
    assert second.startswith("sl-") and second != key
    status = spanledger(env, "projections", "status")  # nothing follows the log in these commands
    assert re.search(r"labeling\s+at 0 of 3  \(3 behind\)", status), status
    rebuilt = spanledger(env, "projections", "rebuild")
    assert "Rebuilt the read model from 3 events" in rebuilt
    assert re.search(r"labeling\s+at 3 of 3", rebuilt) and re.search(r"audit\s+at 3 of 3", rebuilt), rebuilt
    assert "matches a replay of the log up to position 3" in spanledger(env, "projections", "verify")
    corrupt_audit_row(env, position=1)
    differs = subprocess.run([sys.executable, "-m", "spanledger.api.cli", "projections", "verify"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert differs.returncode != 0 and "differs from a replay" in differs.stderr, differs.stderr
    assert "audit_events: 1 row(s) differ" in differs.stdout and "'position': 1" in differs.stdout
    key_id = second.split("-")[2]
    assert f"Revoked key {key_id}" in spanledger(env, "resources", "revoke-key", "acme", key_id)
    failed = subprocess.run([sys.executable, "-m", "spanledger.api.cli", "resources", "create", "acme"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode != 0 and "already exists" in failed.stderr
    unnamed = subprocess.run([sys.executable, "-m", "spanledger.api.cli", "resources", "issue-key", "acme", "--name", "al\tice"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert unnamed.returncode != 0 and "Key name" in unnamed.stderr


def corrupt_audit_row(env, position):
    from sqlalchemy import delete

    from spanledger.bootstrap import read_model_engine
    from spanledger.bootstrap.settings import Settings
    from spanledger.projections.tables import audit_events

    engine = read_model_engine(Settings(data_dir=env["SPANLEDGER_DATA_DIR"],
                                        database_url=env.get("SPANLEDGER_DATABASE_URL")))
    with engine.begin() as conn:
        assert conn.execute(delete(audit_events).where(audit_events.c.position == position)).rowcount == 1
    engine.dispose()


def test_commands_that_need_no_model_do_not_load_flair_or_torch():
    """flair and torch take seconds to import: only processes that train or predict pay that."""
    probe = ("import sys\nfrom spanledger.api import app, cli\nfrom spanledger.bootstrap import build\n"
             "print(sorted({'flair', 'torch', 'transformers'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_projects_import_and_export_folders_and_zips_byte_for_byte(env, tmp_path):
    """As Azure ships a project: the file naming locations, the texts beside it."""
    import json
    import zipfile

    texts = {"loan1.txt": "Borrower: Ana \U0001F600 Silva\r\nLender: Acme Bank\r\n".encode(),
             "loan2.txt": "Bob Jones owes \U0001D49C Corp.\n".encode()}
    file = {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
            "metadata": {"projectKind": "CustomEntityRecognition", "projectName": "loans", "language": "en",
                         "storageInputContainerName": "loans", "multilingual": False, "description": "",
                         "settings": {}},
            "assets": {"projectKind": "CustomEntityRecognition",
                       "entities": [{"category": "Org"}, {"category": "Person"}],
                       "documents": [
                           {"location": "loan1.txt", "language": "en", "dataset": "Train", "entities": [
                               {"regionOffset": 0, "regionLength": 43, "labels": [
                                   {"category": "Person", "offset": 10, "length": 12},
                                   {"category": "Org", "offset": 32, "length": 9}]}]},
                           {"location": "loan2.txt", "language": "en", "dataset": "Test", "entities": [
                               {"regionOffset": 0, "regionLength": 24, "labels": [
                                   {"category": "Person", "offset": 0, "length": 9},
                                   {"category": "Org", "offset": 15, "length": 7}]}]}]}}
    for doc in file["assets"]["documents"]:  # UTF-16 code units, as Azure counts
        assert doc["entities"][0]["regionLength"] == len(texts[doc["location"]].decode().encode("utf-16-le")) // 2
    source = tmp_path / "azure-export"
    source.mkdir()
    (source / "loans.json").write_text(json.dumps(file))
    for name, data in texts.items():
        (source / name).write_bytes(data)

    spanledger(env, "resources", "create", "team")
    assert "2 documents" in spanledger(env, "projects", "import", str(source), "--resource", "team")
    spanledger(env, "projects", "export", "loans", str(tmp_path / "out.zip"), "--resource", "team")
    with zipfile.ZipFile(tmp_path / "out.zip") as z:
        assert {n: z.read(n) for n in texts} == texts  # CRLF and astral characters kept
        assert json.loads(z.read("loans.json")) == file
    spanledger(env, "projects", "import", str(tmp_path / "out.zip"), "--resource", "team", "--project", "copy")
    spanledger(env, "projects", "export", "copy", str(tmp_path / "copy"), "--resource", "team")
    copied = json.loads((tmp_path / "copy" / "copy.json").read_text())
    assert copied == {**file, "metadata": {**file["metadata"], "projectName": "copy"}}
    assert {n: (tmp_path / "copy" / n).read_bytes() for n in texts} == texts

    (source / "loan2.txt").unlink()  # a text missing: refused with the field's pointer, nothing written
    refused = subprocess.run([sys.executable, "-m", "spanledger.api.cli", "projects", "import", str(source), "--resource",
                              "team", "--project", "third"], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "/assets/documents/1/location" in refused.stderr
