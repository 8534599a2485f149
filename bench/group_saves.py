"""Saves of several documents' labels in one transaction vs one transaction each: what a
group commit (domain.group_commit) can save at most.

The same events (LABELS labels on each of `--documents` documents, built in memory first)
are saved with `app.save`, one document a call (the baseline, as label_writes.py's raw
figure) or `--group` documents a call. Ratio = baseline time / grouped time.
"""

from __future__ import annotations

import time

from common import backends, machine, parser, store, whole_numbers
from label_writes import labeled_in_memory, labels


def saves(backend: str, documents: int, group: int) -> float:
    """Seconds to save the documents' labels, `group` documents a transaction."""
    with store(backend) as container:
        pending = labeled_in_memory(container, documents)
        started = time.perf_counter()
        for first in range(0, documents, group):
            container.app.save(*pending[first:first + group])
        return time.perf_counter() - started


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=320)
    p.add_argument("--groups", type=whole_numbers, default="4,16", help="documents a transaction, comma-separated")
    args = p.parse_args()
    print(f"machine: {machine()}; {args.documents} documents of {len(labels())} labels; best of {args.repeat}")
    for backend in backends(args.backend):
        one = min(saves(backend, args.documents, 1) for _ in range(args.repeat))
        print(f"[{backend}] one document a transaction: {1000 * one / args.documents:.2f} ms a document")
        for group in args.groups:
            grouped = min(saves(backend, args.documents, group) for _ in range(args.repeat))
            print(f"[{backend}] {group:>2} documents a transaction: {1000 * grouped / args.documents:.2f} ms a "
                  f"document; ratio (one a transaction / grouped): {one / grouped:.2f}")


if __name__ == "__main__":
    main()
