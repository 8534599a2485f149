"""The scenario spanledger exists for, with real text: label a few whole documents, train the
default recipe, auto-label documents the model never saw, and get suggestions that are right.

Ten GUM documents of up to 2,000 characters with six entity types (tests/data) train the
default recipe through the API, seeded, with threads sized to the free cores as a worker's
are (a fixed two threads beside another CPU-bound process, another test run say, spin against
it and train ten times slower: bench/README.md); an auto-labeling job then runs on ten held-out documents and its suggestions are scored
against their gold labels (exact spans). Measured on this data: the recipe before issue 9
(mini-batch 16, 30 epochs: one optimizer step per epoch, loss still 0.43 at the end) scored
F1 0.06 on the held-out documents; the data-derived schedule about 0.3. A model that suggests
next to nothing right fails here instead of reaching a user.
"""

from pathlib import Path

import orjson
import pytest

from tests.conftest import live_server
from tests.http.test_training_api import wait_for_job

DATA = Path(__file__).resolve().parents[1] / "data" / "gum_documents.jsonl"
F1_FLOOR = 0.2
TRAINING_TIMEOUT = 900


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from live_server("sqlite", tmp_path_factory.mktemp("quality"), work=True)


def test_ten_labeled_documents_train_a_model_whose_suggestions_are_right(server):
    docs = [orjson.loads(line) for line in DATA.read_bytes().splitlines()]
    labeled = [d for d in docs if d["dataset"] in ("Train", "Test")]
    held_out = {d["name"]: d for d in docs if d["dataset"] == "HeldOut"}
    unit = {"stringIndexType": "UnicodeCodePoint"}
    entities = sorted({c for d in docs for _, _, c in d["labels"]})
    with server.api() as api:
        api.timeout = 60
        project = api.new_project(entities=tuple(entities))
        batch = [{"name": d["name"], "text": d["text"], "dataset": d["dataset"] if d in labeled else "Train"}
                 for d in docs]
        assert api.post(f"/{project}/documents/:batch", json={"documents": batch}).status_code == 200
        for d in labeled:
            add = [{"category": c, "offset": o, "length": n} for o, n, c in d["labels"]]
            saved = api.post(f"/{project}/documents/{d['name']}/:save-labels", json={"add": add}, params=unit)
            assert saved.status_code == 200, saved.text

        started = api.post(f"/{project}/:train", json={"modelLabel": "m", "trainingConfigVersion": "latest",
                                                        "evaluationOptions": {"kind": "manual"}})
        assert started.status_code == 202, started.text
        job = wait_for_job(api, started.headers["Operation-Location"], timeout=TRAINING_TIMEOUT)
        assert job["status"] == "succeeded", job

        model = api.get(f"/{project}/models/m").json()
        run = model["trainingRun"]  # the plan derived from ten long documents, recorded
        assert run["mini_batch_size"] == 1 and run["steps_per_epoch"] == run["sequences"] >= 10
        assert run["epochs"] <= run["max_epochs"] and run["stoppedBecause"] in ("converged", "maxEpochs")
        summary = api.get(f"/{project}/models/m/evaluation/summary-result").json()
        calibration = summary["postprocessing"]["calibration"]
        assert calibration["heldOutSpans"] > 0 and calibration["method"] == "platt"

        started = api.post(f"/{project}/autolabel/jobs", json={"modelLabel": "m"})
        assert started.status_code == 202, started.text
        job = wait_for_job(api, started.headers["Operation-Location"])
        assert job["status"] == "succeeded" and job["result"]["documents"] == len(held_out), job

        suggested, right, expected = 0, 0, 0
        confident = []  # (confidence, right) of every suggestion
        for name, doc in held_out.items():
            gold = {(o, n, c) for o, n, c in doc["labels"]}
            got = api.get(f"/{project}/documents/{name}", params=unit).json()["suggestions"]
            for s in got:
                ok = (s["offset"], s["length"], s["category"]) in gold
                right += ok
                confident.append((s["confidence"], ok))
            suggested += len(got)
            expected += len(gold)
    precision, recall = right / suggested, right / expected
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 > F1_FLOOR, f"held-out exact-span F1 {f1:.3f} (P {precision:.3f}, R {recall:.3f}, {suggested} suggested)"
    sure = [ok for c, ok in confident if c >= 0.5]
    assert sure and sum(sure) / len(sure) >= 0.5  # minConfidence=0.5 keeps suggestions right half the time or more
