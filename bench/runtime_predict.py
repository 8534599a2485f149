"""Prediction through the runtime API (Azure's `analyze-text/jobs` on a deployment) against
flair's own `predict` on the same texts and model, in the same run.

The model and project are made as in autolabel_throughput.py and deployed as "prod"; the
texts go to `spanledger serve` (its own process) 25 documents a job, Azure's limit, each job
submitted and read back (it has finished when its 202 comes). The server has loaded the model
in a warm-up job first; flair's runs and the API's take turns, best of each. Ratio = flair time / API time (1.0: serving costs nothing beyond
prediction; target >= 0.9).
"""

from __future__ import annotations

import http.client
import logging
import time
from urllib.parse import urlsplit

import orjson

from autolabel_throughput import DATA, flair_predictor, project_with_model, train_model
from common import backends, machine, parser, served, store
from spanledger.ner.conll import read_conll

BATCH = 25


def predict_all(base: str, key: str, texts: list[str]) -> tuple[float, int]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    headers = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/json"}
    entities = 0
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        body = {"analysisInput": {"documents": [{"id": str(i), "text": t}
                                                for i, t in enumerate(texts[start:start + BATCH], start)]},
                "tasks": [{"kind": "CustomEntityRecognition", "parameters": {
                    "projectName": "run", "deploymentName": "prod", "stringIndexType": "UnicodeCodePoint"}}]}
        conn.request("POST", "/language/analyze-text/jobs?api-version=2025-05-15-preview", orjson.dumps(body), headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 202
        location = urlsplit(response.headers["Operation-Location"])
        conn.request("GET", f"{location.path}?{location.query}", headers=headers)
        job = orjson.loads(conn.getresponse().read())
        entities += sum(len(d["entities"]) for d in job["tasks"]["items"][0]["results"]["documents"])
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, entities


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=1000, help="test sentences to predict")
    p.add_argument("--recipe", choices=["onehot-char", "minilm-char"], default="minilm-char")
    p.add_argument("--train-sentences", type=int, default=300)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    logging.getLogger("flair").setLevel(logging.WARNING)
    texts = [d.text for d in read_conll(DATA / "test.tsv", args.documents)]
    print(f"# {machine()}; {len(texts)} NCBI-disease test sentences, recipe {args.recipe}")
    model_file = train_model(args.recipe, args.train_sentences, args.epochs)
    for backend in backends(args.backend):
        with store(backend) as container:
            resource_id, key, _ = container.app.create_resource("bench", "bench")
            project_with_model(container, resource_id, "run", model_file, texts[:2])
            container.app.deploy(resource_id, "run", "prod", "m", "key:bench")
            with served(container) as server:
                base = server.url.split("/language/")[0]
                predict_all(base, key, texts[:BATCH])  # loads the model into the server
                # Baseline and API runs take turns, so that a change in the machine's speed
                # during the run moves both (the idle server holds the model meanwhile).
                flair = flair_predictor(model_file)
                baselines, runs = [], []
                for _ in range(args.repeat):
                    baselines.append(flair(texts))
                    runs.append(predict_all(base, key, texts))
                baseline, (best, entities) = min(baselines), min(runs)
        print(f"[{backend}] flair predict: {baseline:.2f}s; runtime API: {best:.2f}s ({len(texts) / best:.0f} docs/s, "
              f"{entities} entities); ratio (flair time / API time): {baseline / best:.2f}", flush=True)


if __name__ == "__main__":
    main()
