"""Training speed on a busy machine: an epoch alone vs with another CPU-bound process, before
and after training shares the CPU (ner.cpu: torch threads sized to the free cores).

Modes: `before` (torch's own thread count), `one-thread`, `passive` (OMP_WAIT_POLICY=PASSIVE,
read when torch loads, so each measurement is a fresh process) and `after` (what training
does now). Each trains the default recipe on 10 NCBI-disease documents of about 2,000
characters, a mini-batch of 1, a few epochs, and reports the median time of the epochs after
the first (the first also embeds the texts). Competitors: a pure-Python busy loop (one core), and torch multiplying matrices with
its default OpenMP settings (every core, spinning), as another training would.

Target (issue 9): with one competing process on 2 cores, no more than about 3x slower.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine

COMPETITORS = {
    "python": [sys.executable, "-c", "while True: pass"],
    "torch": [sys.executable, "-c", "import torch\na = torch.randn(1500, 1500)\nwhile True: a @ a"],
}
MODES = {
    # name: (environment added, torch threads: a number fixes them, None sizes them to the free cores)
    "before": ({}, os.cpu_count()),
    "one-thread": ({}, 1),
    "passive": ({"OMP_WAIT_POLICY": "PASSIVE"}, os.cpu_count()),
    "after": ({}, None),
}


def one_run(mode: str, epochs: int) -> None:
    """In a child: train and print the median epoch time (after the first)."""
    from corpora import DATA, join_sentences
    from spanledger.ner.conll import read_conll
    from spanledger.ner.model import train
    from spanledger.ner.recipes import default_recipe

    docs = join_sentences(read_conll(DATA / "ncbi-disease" / "train.tsv", 400), 2000)[:10]
    marks = [time.perf_counter()]
    recipe = default_recipe(max_epochs=epochs, mini_batch_size=1, max_seconds=None)
    with tempfile.TemporaryDirectory() as work:
        trained = train(docs, recipe, Path(work), progress=lambda _: marks.append(time.perf_counter()),
                        threads=MODES[mode][1])
    durations = [b - a for a, b in zip(marks[1:], marks[2:], strict=False)]
    print(f"RESULT {statistics.median(durations):.3f} {trained.threads}", flush=True)


def measure(mode: str, competitor: str | None, epochs: int) -> tuple[float, str]:
    env = {**os.environ, **MODES[mode][0]}
    rival = subprocess.Popen(COMPETITORS[competitor]) if competitor else None
    try:
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--epochs", str(epochs)], env=env,
                             capture_output=True, text=True, check=True).stdout
    finally:
        if rival:
            rival.kill()
            rival.wait()
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    _, seconds, threads = line.split(" ", 2)
    return float(seconds), threads


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--child", choices=list(MODES))
    p.add_argument("--mode", choices=list(MODES), action="append")
    p.add_argument("--competitor", choices=list(COMPETITORS), action="append")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that a competitor is never left running
    if args.child:
        one_run(args.child, args.epochs)
        return
    print(f"machine: {machine()}; seconds per epoch (median after the first), 10 documents of ~2,000 characters")
    rows = []
    for mode in args.mode or list(MODES):
        alone, threads = measure(mode, None, args.epochs)
        print(f"{mode:<8} alone          {alone:7.2f} s/epoch  threads {threads}", flush=True)
        for competitor in args.competitor or list(COMPETITORS):
            busy, threads = measure(mode, competitor, args.epochs)
            rows.append((mode, competitor, alone, busy))
            print(f"{mode:<8} with {competitor:<8}  {busy:7.2f} s/epoch  threads {threads}  slowdown {busy / alone:.2f}x",
                  flush=True)
    print("\n| mode | competitor | alone | with competitor | slowdown |")
    print("| --- | --- | --- | --- | --- |")
    for mode, competitor, alone, busy in rows:
        print(f"| {mode} | {competitor} | {alone:.2f} s | {busy:.2f} s | {busy / alone:.2f}x |")


if __name__ == "__main__":
    main()
