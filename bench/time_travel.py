"""Time travel: a document with 10,000 events of history, read as of past log positions,
replayed from a snapshot (every 100 events) and, as the baseline, from its first event.

In process: `replay.history.History` at 50 positions spread over the history, with and
without snapshots (best of --repeat each); the median and the worst. Over HTTP (`spanledger
serve` in its own process): GET .../documents/churned?atPosition=P at random positions, and
?asOf=T (which first finds the position by a binary search of the log), against the live
read of the same document from the read model, interleaved.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

import orjson

from common import Http, backends, best_of, machine, parser, percentile, served, store
from label_view_reads import build_documents
from spanledger.domain.document import Document
from spanledger.replay.history import History

POINTS = 50


def history_positions(container, document_id) -> list[tuple[int, int]]:
    """(version, position) of each of the document's events, read from the log."""
    found, after = [], 0
    while batch := container.app.recorder.select_notifications(after, 5000, inclusive_of_start=False):
        found += [(n.originator_version, n.id) for n in batch if n.originator_id == document_id]
        after = batch[-1].id
    return found


def in_process(container, document_id, points, repeat) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"snapshot": [], "first event": []}
    for snapshots, label in ((True, "snapshot"), (False, "first event")):
        history = History(container.app, snapshots=snapshots)
        for version, position in points:
            def read(history=history, version=version, position=position) -> None:
                assert history.at_position(document_id, position, Document).version == version
            times[label].append(best_of(repeat, read))
    return times


def over_http(container, key, points, moments, requests) -> dict[str, list[float]]:
    rng = random.Random(2)
    times: dict[str, list[float]] = {"live": [], "atPosition": [], "asOf": []}
    with served(container) as server:
        http = Http(server.url, key)
        for _ in range(requests):  # interleaved, so drift hits all alike
            _, position = rng.choice(points)
            for name, query in (("live", ""), ("atPosition", f"&atPosition={position}"),
                                ("asOf", f"&asOf={rng.choice(moments)}")):
                http.api_version = "2025-05-15-preview" + query
                started = time.perf_counter()
                status, body = http.request("GET", "/bench/documents/churned")
                times[name].append(time.perf_counter() - started)
                assert status == 200, body
                orjson.loads(body)
        http.close()
    return times


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--requests", type=int, default=200)
    args = p.parse_args()
    print(f"machine: {machine()}; {POINTS} positions in process (best of {args.repeat}); "
          f"{args.requests} HTTP reads of each kind")
    for backend in backends(args.backend):
        with store(backend) as container:
            key, churned = build_documents(container, args.events)
            container.runner.catch_up()
            events = history_positions(container, churned.id)
            points = sorted(random.Random(1).sample(events, POINTS)) + [events[-1]]
            print(f"[{backend}] 'churned': {churned.version} events, positions {events[0][1]}-{events[-1][1]}")
            times = in_process(container, churned.id, points, args.repeat)
            fast, slow = times["snapshot"], times["first event"]
            print(f"[{backend}] in process, from a snapshot: median {statistics.median(fast) * 1000:.2f} ms, "
                  f"worst {max(fast) * 1000:.2f} ms; from the first event: median "
                  f"{statistics.median(slow) * 1000:.1f} ms, worst {max(slow) * 1000:.1f} ms (at version "
                  f"{points[slow.index(max(slow))][0]}); at the last version {fast[-1] * 1000:.2f} ms vs "
                  f"{slow[-1] * 1000:.1f} ms: {slow[-1] / fast[-1]:.0f}x")
            document = container.app.repository.get(churned.id)
            start, end = document.created_on, document.modified_on
            moments = [(start + (end - start) * k / 20 + timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")
                       for k in range(20)]
            http = over_http(container, key, events, moments, args.requests)
            live = percentile(http["live"], 0.5)
            for name in ("atPosition", "asOf"):
                p50, p95 = percentile(http[name], 0.5), percentile(http[name], 0.95)
                print(f"[{backend}] HTTP ?{name}: p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms; "
                      f"{p50 / live:.1f}x the live read's p50 ({live * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
