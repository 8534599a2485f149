"""Small projects, as users have them: a few labeled whole documents, then auto-labeling.

For each corpus (bench/corpora.py: GUM whole documents; NCBI-disease sentences joined into
documents of ~1,500 characters), size N (10, 25, 50 documents) and seed: a project of N
training documents plus a test split of ceil(N / 4) (the product's 80/20), drawn from the
corpus's training pool with the seed. spanledger trains on the N as a training job does
(schedule derived from the data, convergence, CPU sharing), chooses its post-processing
(merging, calibration) on the test split, and predicts the held-out documents; spaCy's blank
English NER (the peer) trains on the same N for 30 epochs. Both are scored on the same
held-out documents (never in any pool) with exact-span micro F1.

Also reported for spanledger: training time, epochs and why training stopped, the held-out
F1 with and without merging, the calibration error (ECE) of its confidences before and after
calibration on the held-out documents, and the precision of what minConfidence 0.5 / 0.7 /
0.9 keeps. `--recipe-before` adds the recipe as it was before issue 9 (mini-batch 16, 30
epochs, no calibration) at the smallest size, as the reference this work started from.

Needs spaCy (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import machine
from corpora import CORPORA
from ner_quality import spacy_system
from spanledger.ner import calibration
from spanledger.ner.evaluation import evaluate
from spanledger.ner.model import Tagger, train
from spanledger.ner.postprocess import choose, merge_adjacent
from spanledger.ner.recipes import default_recipe
from spanledger.ner.spans import Span

SIZES = (10, 25, 50)
SEEDS = (13, 14, 15)
HELD_OUT = 100
THRESHOLDS = (0.5, 0.7, 0.9)


def split(corpus: str, size: int, seed: int, largest: int = max(SIZES),
          characters: int | None = None) -> tuple[list, list, list]:
    """(train, test split, held-out): the pool is the first `largest` + ceil(largest / 4)
    documents of the corpus's training pool, so held-out documents are never trained on and
    are the same whichever sizes one run asks for."""
    pool, held_out = CORPORA[corpus](characters) if characters else CORPORA[corpus]()
    reserved = largest + math.ceil(largest / 4)
    pool, held_out = pool[:reserved], (held_out + pool[reserved:])[:HELD_OUT]
    chosen = random.Random(seed).sample(pool, size + math.ceil(size / 4))
    return chosen[:size], chosen[size:], held_out


def scored(predicted: list[list[Span]], gold: list[tuple[Span, ...]]) -> tuple[list[float], list[bool]]:
    scores, right = [], []
    for spans, expected in zip(predicted, gold, strict=True):
        wanted = {(s.start, s.end, s.label) for s in expected}
        for s in spans:
            scores.append(s.score)
            right.append((s.start, s.end, s.label) in wanted)
    return scores, right


def spanledger_run(recipe, train_docs, test_docs, held_out) -> dict:
    gold = [d.spans for d in held_out]
    texts = [d.text for d in held_out]
    with tempfile.TemporaryDirectory() as work:
        trained = train(train_docs, recipe, Path(work))
        tagger = Tagger(trained.path)
        postprocessing, report = choose(tagger.predict([d.text for d in test_docs], raw=True), test_docs, train_docs)
        raw = tagger.predict(texts, raw=True)
    merged = [merge_adjacent(s, t) for s, t in zip(raw, texts, strict=True)]
    final = [postprocessing.apply(s, t) for s, t in zip(raw, texts, strict=True)]
    uncalibrated = [replace(postprocessing, calibration=calibration.IDENTITY).apply(s, t)
                    for s, t in zip(raw, texts, strict=True)]
    micro = evaluate(gold, final).micro
    confidences, right = scored(final, gold)
    raw_confidences, raw_right = scored(uncalibrated, gold)
    kept = {}
    for t in THRESHOLDS:
        keep = [ok for c, ok in zip(confidences, right, strict=True) if c >= t]
        kept[t] = (sum(keep) / len(keep) if keep else None, len(keep))
    run = trained.run()
    return {
        "f1": micro.f1, "precision": micro.precision, "recall": micro.recall,
        "seconds": trained.seconds, "epochs": run["epochs"], "stopped": run["stoppedBecause"],
        "batch": run["mini_batch_size"], "learned_words": run["learnedWords"],
        "merge": postprocessing.merge_adjacent,
        "f1_merged": evaluate(gold, merged).micro.f1, "f1_unmerged": evaluate(gold, raw).micro.f1,
        "ece_raw": calibration.calibration_error(raw_confidences, raw_right),
        "ece": calibration.calibration_error(confidences, right),
        "calibration": report["calibration"],
        "kept": {str(t): v for t, v in kept.items()},
    }


def spacy_run(train_docs, held_out, seed: int) -> dict:
    started = time.perf_counter()
    predict = spacy_system(train_docs, seed)
    seconds = time.perf_counter() - started
    micro = evaluate([d.spans for d in held_out], predict([d.text for d in held_out])).micro
    return {"f1": micro.f1, "precision": micro.precision, "recall": micro.recall, "seconds": seconds}


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", choices=list(CORPORA), action="append")
    p.add_argument("--size", type=int, action="append")
    p.add_argument("--seeds", type=int, default=len(SEEDS), help="the first N of the seeds")
    p.add_argument("--seed", type=int, action="append", help="these seeds instead")
    p.add_argument("--no-spacy", action="store_true")
    p.add_argument("--recipe-before", action="store_true", help="also the pre-issue-9 recipe at the smallest size")
    words = p.add_mutually_exclusive_group()
    words.add_argument("--learned-words", action="store_const", const=True, dest="learned_words",
                       help="one-hot word embeddings learned from the data too, whatever its size")
    words.add_argument("--no-learned-words", action="store_const", const=False, dest="learned_words",
                       help="never (by default: decided by the training set's size)")
    p.add_argument("--json", type=Path, help="append every run as a JSON line here")
    p.add_argument("--characters", type=int, help="NCBI-docs: documents of at least this many characters (1,500)")
    args = p.parse_args()
    if args.characters and args.corpus != ["NCBI-docs"]:
        p.error("--characters is for --corpus NCBI-docs")
    logging.getLogger("flair").setLevel(logging.WARNING)
    sizes = sorted(args.size or SIZES)
    print(f"machine: {machine()}; exact-span micro F1 on held-out whole documents")
    results: dict[tuple[str, int, str], list[dict]] = {}
    for corpus in args.corpus or list(CORPORA):
        for size in sizes:
            for seed in args.seed or SEEDS[:args.seeds]:
                train_docs, test_docs, held_out = split(corpus, size, seed, characters=args.characters)
                characters = sum(len(d.text) for d in train_docs)
                recipe = default_recipe(seed=seed, learned_words=args.learned_words)
                systems = {"spanledger": lambda: spanledger_run(recipe, train_docs, test_docs, held_out)}
                if args.recipe_before and size == sizes[0]:
                    before = default_recipe(seed=seed, mini_batch_size=16, max_epochs=30, max_seconds=None,
                                            learned_words=False)
                    systems["before"] = lambda: spanledger_run(before, train_docs, test_docs, held_out)
                if not args.no_spacy:
                    systems["spaCy"] = lambda: spacy_run(train_docs, held_out, seed)
                for name, run in systems.items():
                    result = run()
                    if name == "before":  # as it was: merged, uncalibrated
                        result["f1"] = result["f1_merged"]
                    results.setdefault((corpus, size, name), []).append(result)
                    extra = (f" epochs {result['epochs']} ({result['stopped']}, batch {result['batch']}, learned words "
                             f"{result['learned_words']}) merge "
                             f"{result['merge']} F1 merged/unmerged {result['f1_merged']:.3f}/"
                             f"{result['f1_unmerged']:.3f} ECE {result['ece_raw']:.3f} -> {result['ece']:.3f} "
                             f"kept {result['kept']}" if "epochs" in result else "")
                    print(f"{corpus} N={size} ({characters:,} chars, {len(held_out)} held out) seed {seed} {name}: "
                          f"F1 {result['f1']:.3f} P {result['precision']:.3f} R {result['recall']:.3f} "
                          f"{result['seconds']:.0f} s{extra}", flush=True)
                    if args.json:
                        with args.json.open("a") as out:
                            out.write(json.dumps({"corpus": corpus, "size": size, "seed": seed, "system": name,
                                                  **result}, default=str) + "\n")
    print("\n| corpus | documents | system | F1 (mean ± sd) | precision | recall | training |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (corpus, size, name), runs in results.items():
        print(f"| {corpus} | {size} | {name} | {spread([r['f1'] for r in runs])} | "
              f"{statistics.mean(r['precision'] for r in runs):.3f} | {statistics.mean(r['recall'] for r in runs):.3f} | "
              f"{statistics.mean(r['seconds'] for r in runs):.0f} s |")
    print("\n| corpus | documents | ECE raw | ECE calibrated | precision at 0.5 / 0.7 / 0.9 (kept) | merge |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (corpus, size, name), runs in results.items():
        if name != "spanledger":
            continue
        at = []
        for t in THRESHOLDS:
            values = [r["kept"][str(t)] for r in runs if r["kept"][str(t)][0] is not None]
            at.append(f"{statistics.mean(v[0] for v in values):.2f} ({statistics.mean(v[1] for v in values):.0f})"
                      if values else "-")
        print(f"| {corpus} | {size} | {spread([r['ece_raw'] for r in runs])} | {spread([r['ece'] for r in runs])} | "
              f"{' / '.join(at)} | {sum(r['merge'] for r in runs)} of {len(runs)} |")


if __name__ == "__main__":
    main()
