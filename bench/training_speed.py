"""Training and prediction speed of a recipe on each device this machine has (the CPU, and a
GPU when there is one), with the CPU as the baseline measured in the same run.

Trains on the first N sentences of a CoNLL file for a few epochs and predicts another file;
prints seconds per epoch, sentences/s trained and predicted, and the GPU/CPU ratio. Needs only
the ner package, flair and torch (it runs on machines without the rest of spanledger).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import flair  # noqa: E402
import torch  # noqa: E402

from spanledger.ner.conll import read_conll  # noqa: E402
from spanledger.ner.model import Tagger, train  # noqa: E402
from spanledger.ner.recipes import by_name  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "wnut17"


def measure(device: str, recipe, train_docs, test_texts) -> tuple[float, float]:
    flair.device = torch.device(device)
    with tempfile.TemporaryDirectory() as work:
        trained = train(train_docs, recipe, Path(work))
        tagger = Tagger(trained.path)
        tagger.predict(test_texts[:50])  # warm up
        started = time.perf_counter()
        tagger.predict(test_texts)
        return trained.seconds, time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default=str(DATA / "wnut17train.conll"))
    p.add_argument("--test", default=str(DATA / "emerging.test.annotated"))
    p.add_argument("--sentences", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--recipe", default="onehot-char")
    args = p.parse_args()
    logging.getLogger("flair").setLevel(logging.WARNING)
    recipe = by_name(args.recipe, max_epochs=args.epochs)
    if recipe is None:
        sys.exit(f"recipe {args.recipe} is not available here")
    train_docs = read_conll(args.train, args.sentences)
    test_texts = [d.text for d in read_conll(args.test)]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, GPU: {gpu}; recipe "
          f"{recipe.name}, {len(train_docs)} sentences x {args.epochs} epochs; predict {len(test_texts)} sentences")
    results = {}
    for device in devices:
        trained, predicted = measure(device, recipe, train_docs, test_texts)
        results[device] = trained, predicted
        print(f"[{device}] training {trained:.1f} s ({trained / args.epochs:.2f} s/epoch, "
              f"{len(train_docs) * args.epochs / trained:,.0f} sentences/s); prediction {predicted:.2f} s "
              f"({len(test_texts) / predicted:,.0f} sentences/s)", flush=True)
    if "cuda" in results:
        (cpu_train, cpu_predict), (gpu_train, gpu_predict) = results["cpu"], results["cuda"]
        print(f"GPU vs CPU: training {cpu_train / gpu_train:.2f}x, prediction {cpu_predict / gpu_predict:.2f}x faster")


if __name__ == "__main__":
    main()
