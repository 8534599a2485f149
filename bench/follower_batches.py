"""The projection follower's cost of a label write, by how many writes its batches hold,
against the save of the same write.

The follower applies what landed since its last batch in one transaction (projections/
follow.py). Here documents get the labels a `:save-labels` request adds (LABELS each), saved
K at a time with `app.save`; after each K the runner applies them as one batch. Timed with
the thread's CPU clock: the saves, and the batches, split into reading the log, decoding,
and each projection (the rest is the transaction and its positions). Ratio = the follower's
CPU a write / the save's: below 1 the read model costs less than the write it follows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import spanledger.projections.runner as runner_module
from common import backends, machine, parser, store, whole_numbers
from label_writes import LABELS, labeled_in_memory


def timed(spent: Counter, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            spent[name] += time.thread_time() - started
    return run


def measure(backend: str, documents: int, per_batch: int) -> tuple[float, float, Counter]:
    """CPU seconds of the saves and of the batches, and the batches' phases."""
    spent: Counter = Counter()
    decode = runner_module.decode
    with store(backend) as container:
        pending = labeled_in_memory(container, documents)
        runner = container.runner
        runner.catch_up()  # the documents themselves: not what is measured
        for projection in runner.projections:
            projection.apply = timed(spent, projection.name, projection.apply)
        runner.recorder.select_notifications = timed(spent, "reading the log", runner.recorder.select_notifications)
        runner_module.decode = timed(spent, "decoding", decode)
        saves = batches = 0.0
        try:
            for start in range(0, documents, per_batch):
                began = time.thread_time()
                for document in pending[start:start + per_batch]:
                    container.app.save(document)
                saves += time.thread_time() - began
                began = time.thread_time()
                while runner.run_batch() >= runner.batch_size:
                    pass
                batches += time.thread_time() - began
        finally:
            runner_module.decode = decode
    return saves, batches, spent


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=400)
    p.add_argument("--per-batch", type=whole_numbers, default="1,4,20", help="writes a batch holds, comma-separated")
    args = p.parse_args()
    print(f"machine: {machine()}; {args.documents} writes of {LABELS} labels; best of {args.repeat} (by the batches' CPU)")
    for backend in backends(args.backend):
        for k in args.per_batch:
            runs = [measure(backend, args.documents, k) for _ in range(args.repeat)]
            saves, batches, spent = min(runs, key=lambda run: run[1])
            n = args.documents
            phases = ", ".join(f"{name} {1000 * seconds / n:.2f}" for name, seconds in spent.most_common()
                               if seconds / n >= 0.005e-3)
            print(f"[{backend}] {k:>3} writes a batch: follower {1000 * batches / n:.2f} ms a write "
                  f"({1000 * batches / (n / k):.2f} ms a batch), save {1000 * saves / n:.2f} ms; "
                  f"ratio {batches / saves:.2f}\n    of which ({phases}) ms a write")


if __name__ == "__main__":
    main()
