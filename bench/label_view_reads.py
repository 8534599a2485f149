"""Reading a document's label view over HTTP: 10 labels reached through 10 events of history
vs through 10,000 (add/remove churn), and vs replaying the document's events from the log.

Targets: p50(10,000 events) / p50(10 events) <= 1.5, and the HTTP read at 10,000 events at
least 20x faster than replaying that document's events (no snapshot) from the log.
"""

from __future__ import annotations

import time

import orjson

from common import Http, backends, bench_project, machine, parser, percentile, served, store
from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument

LABELS = 10


def build_documents(container, churn_events: int) -> tuple[str, object]:
    app = container.app
    resource_id, key, actor = bench_project(container, "Thing")
    text = "word " * 40
    app.add_documents(resource_id, "bench", [NewDocument("quiet", text), NewDocument("churned", text)], actor)
    final = [LabelSpec("Thing", 5 * k, 4) for k in range(LABELS)]
    app.save_labels(resource_id, "bench", "quiet", add=final, actor=actor)
    project = app.get_project(resource_id, "bench")
    document = app.repository.get(ids.document_id(project.id, project.incarnation, "churned"))
    while document.version < churn_events - LABELS:  # add/remove churn, saved in chunks
        label = document.add_label(project, "Thing", 100, 4, actor)
        document.remove_label(project, label, actor)
        if document.version % 1000 < 2:
            app.save(document)
    app.save(document)
    app.save_labels(resource_id, "bench", "churned", add=final, actor=actor)
    return key, app.get_document(resource_id, "bench", "churned")[1]


def replay_seconds(container, document_id) -> float:
    started = time.perf_counter()
    document = None
    for event in container.app.events.get(document_id):  # the log itself, not the snapshot store
        document = event.mutate(document)
    return time.perf_counter() - started


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--events", type=int, default=10_000)
    args = p.parse_args()
    print(f"machine: {machine()}; {args.requests} reads of each document; replay best of {args.repeat}")
    for backend in backends(args.backend):
        with store(backend) as container:
            key, churned = build_documents(container, args.events)
            container.runner.catch_up()
            print(f"[{backend}] 'quiet': {LABELS + 1} events; 'churned': {churned.version} events; "
                  f"both end with {LABELS} labels")
            replay = min(replay_seconds(container, churned.id) for _ in range(args.repeat))
            with served(container) as server:
                http = Http(server.url, key)
                times: dict[str, list[float]] = {"quiet": [], "churned": []}
                for _ in range(args.requests):  # interleaved, so drift hits both alike
                    for name, samples in times.items():
                        started = time.perf_counter()
                        status, body = http.request("GET", f"/bench/documents/{name}")
                        samples.append(time.perf_counter() - started)
                        assert status == 200 and len(orjson.loads(body)["labels"]) == LABELS
                http.close()
            quiet, churn = percentile(times["quiet"], 0.5), percentile(times["churned"], 0.5)
            print(f"[{backend}] HTTP read p50: {quiet * 1000:.2f} ms at {LABELS + 1} events, "
                  f"{churn * 1000:.2f} ms at {churned.version} events; ratio {churn / quiet:.2f} (target <= 1.5)")
            print(f"[{backend}] replaying {churned.version} events from the log: {replay * 1000:.1f} ms; "
                  f"the HTTP read is {replay / churn:.0f}x faster (target >= 20)")


if __name__ == "__main__":
    main()
