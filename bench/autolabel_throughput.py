"""Auto-labeling throughput, end to end, against flair's own `predict` in the same run.

A model is trained once (few epochs: its quality does not matter here, its size does). Then,
for each recipe and backend:
- baseline: flair's `SequenceTagger.predict` on the texts (flair's own `Sentence` tokenizer,
  mini-batches of 32), the model already loaded;
- measured: `spanledger serve` in its own process; from the POST that starts the job (the
  quota reserved, the job recorded) to a GET of the job answering succeeded: the worker
  claiming it, reading the documents, predicting in batches, recording suggestions and
  progress, and the projections applying them (the job's end is its last event, and all
  views move in one transaction per batch, so every suggestion is visible by then).
The server's worker has loaded the model in a warm-up job first, as a running server would.
Ratio = baseline time / end-to-end time (1.0: the pipeline costs nothing beyond prediction).

The baseline runs in this process and the server in its own: torch in a second thread of a
process whose main thread already ran torch predicted 2x slower here (two OpenMP pools on two
cores), which would be a measurement of the benchmark, not of spanledger.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from common import Http, backends, machine, parser, served, store
from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.domain.offsets import StringIndexType
from spanledger.ner.conll import read_conll
from spanledger.ner.model import Tagger, train
from spanledger.ner.recipes import default_recipe, onehot_char

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ncbi-disease"
ACTOR = "key:bench"


def train_model(recipe_name: str, sentences: int, epochs: int) -> Path:
    docs = read_conll(DATA / "train.tsv", sentences)
    recipe = (default_recipe if recipe_name == "minilm-char" else onehot_char)(max_epochs=epochs)
    assert recipe.name == recipe_name, "the MiniLM package is not installed"
    return train(docs, recipe, Path(tempfile.mkdtemp(prefix="autolabel-bench-"))).path


def flair_predictor(model_file: Path) -> Callable[[list[str]], float]:
    """flair's own `predict` with the model loaded and warmed up: a function that answers the
    seconds of one run over the texts (flair's `Sentence` tokenizer, mini-batches of 32)."""
    from flair.data import Sentence
    from flair.models import SequenceTagger

    model = SequenceTagger.load(model_file)
    model.predict([Sentence("A warm-up sentence .")], mini_batch_size=32)

    def run(texts: list[str]) -> float:
        started = time.perf_counter()
        model.predict([Sentence(text) for text in texts], mini_batch_size=32)
        return time.perf_counter() - started

    return run


def flair_predict(model_file: Path, texts: list[str], repeat: int) -> float:
    run = flair_predictor(model_file)
    return min(run(texts) for _ in range(repeat))


def project_with_model(container, resource_id, name: str, model_file: Path, texts: list[str]) -> None:
    """A project with two labeled documents, `texts` as unlabeled ones, and the model recorded
    as trained on it (the training itself is not what is measured)."""
    app = container.app
    app.put_project(resource_id, name, {"language": "en"}, ACTOR)
    app.put_entity(resource_id, name, "Disease", ACTOR)
    seed = [NewDocument("seed-train", "Acute leukemia was found."), NewDocument("seed-test", "Acute leukemia.",
                                                                                  dataset="Test")]
    app.add_documents(resource_id, name, seed, ACTOR)
    for doc in seed:
        app.save_labels(resource_id, name, doc.name, add=[LabelSpec("Disease", 0, 14)],
                        unit=StringIndexType.CODE_POINT, actor=ACTOR)
    for start in range(0, len(texts), 1000):
        app.add_documents(resource_id, name, [NewDocument(f"d{i:05d}", t) for i, t in
                                              enumerate(texts[start:start + 1000], start)], ACTOR)
    container.runner.catch_up()
    job, _ = app.request_training(resource_id, name, model_label="m", config_version="latest",
                                  evaluation={"kind": "manual"}, recipe={"name": "onehot-char"}, actor=ACTOR)
    app.claim_training(job.id, "bench", datetime.now(UTC), timedelta(minutes=5))
    app.complete_training(job.id, 1, artifact=container.artifacts.put_file(model_file),
                          evaluation_artifact=container.artifacts.put_json([]), fingerprint="0" * 64,
                          duration_seconds=0.0, recipe={"name": "onehot-char"}, evaluation={"kind": "manual"},
                          entity_types=Tagger(model_file).entity_types, metrics={"entities": {}})
    container.runner.catch_up()


def run_job(http: Http, project: str) -> tuple[float, dict]:
    """Seconds from the start of a job on the project's unlabeled documents to the job read
    back as succeeded; the job."""
    started = time.perf_counter()
    status, body = http.request("POST", f"/{project}/autolabel/jobs", {"modelLabel": "m"})
    assert status == 202, body
    job_path = "/" + http.last_headers["Operation-Location"].split("/projects/", 1)[1].split("?")[0]
    while True:
        status, body = http.request("GET", job_path)
        job = orjson.loads(body)
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)  # polling faster would take CPU from the server on these 2 cores
    elapsed = time.perf_counter() - started
    assert job["status"] == "succeeded", job
    return elapsed, job


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=1000, help="test sentences to auto-label")
    p.add_argument("--recipe", choices=["onehot-char", "minilm-char"], action="append")
    p.add_argument("--train-sentences", type=int, default=300)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    logging.getLogger("flair").setLevel(logging.WARNING)
    texts = [d.text for d in read_conll(DATA / "test.tsv", args.documents)]
    characters = sum(len(t) for t in texts)
    print(f"# {machine()}; {len(texts)} NCBI-disease test sentences ({characters:,} characters)")
    print("| recipe | backend | flair predict | docs/s | chars/s | end to end | docs/s | chars/s | suggestions "
          "| ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for recipe in args.recipe or ["minilm-char", "onehot-char"]:
        model_file = train_model(recipe, args.train_sentences, args.epochs)
        baseline = flair_predict(model_file, texts, args.repeat)
        for backend in backends(args.backend):
            with store(backend) as container:
                resource_id, key, _ = container.app.create_resource("bench", "bench", monthly_text_records=10**6)
                project_with_model(container, resource_id, "warm-up", model_file, texts[:10])
                for i in range(args.repeat):
                    project_with_model(container, resource_id, f"run{i}", model_file, texts)
                with served(container) as server:
                    http = Http(server.url, key)
                    run_job(http, "warm-up")  # loads the model into the server's worker
                    best, suggestions = float("inf"), 0
                    for i in range(args.repeat):
                        elapsed, job = run_job(http, f"run{i}")
                        best, suggestions = min(best, elapsed), job["result"]["suggestions"]
                    http.close()
            n = len(texts)
            print(f"| {recipe} | {backend} | {baseline:.2f} s | {n / baseline:.0f} | {characters / baseline:,.0f} "
                  f"| {best:.2f} s | {n / best:.0f} | {characters / best:,.0f} | {suggestions} "
                  f"| **{baseline / best:.2f}** |", flush=True)


if __name__ == "__main__":
    main()
