"""Projection catch-up vs reading and decoding the same notifications raw.

Writes N LabelAdded events (plus the few that create their project and documents), then
times (a) reading the whole log with the recorder and decoding every notification with the
application's mapper (into domain events), and (b) the projection runner bringing empty views
up to the head. A stricter baseline, decoding each payload with orjson.loads alone (what the
runner itself does), is printed too.
Ratio = (a) / (b): the share of raw log-reading speed that the projections keep (>= 0.3).
Filling empty views is a bulk load (secondary indexes built at the end); the run without it,
as when catching up on a live read model, is printed too.
"""

from __future__ import annotations

import time

import orjson

from common import backends, bench_project, best_of, machine, parser, store
from spanledger.domain import ids
from spanledger.domain.application import NewDocument

LABELS_PER_DOCUMENT = 200


def write_label_events(container, events: int) -> int:
    app = container.app
    resource_id, key, actor = bench_project(container, "Thing")
    text = "word " * (LABELS_PER_DOCUMENT + 1)
    n_docs = events // LABELS_PER_DOCUMENT
    for start in range(0, n_docs, 500):
        batch = [NewDocument(f"doc{i}", text) for i in range(start, min(start + 500, n_docs))]
        app.add_documents(resource_id, "bench", batch, actor)
    project = app.get_project(resource_id, "bench")
    for i in range(n_docs):
        document = app.repository.get(ids.document_id(project.id, project.incarnation, f"doc{i}"))
        for k in range(LABELS_PER_DOCUMENT):
            document.add_label(project, "Thing", 5 * k, 4, actor)
        app.save(document)
    return app.recorder.max_notification_id()


def read_and_decode(container, batch_size: int, decode) -> int:
    recorder = container.app.recorder
    after, count = 0, 0
    while notifications := recorder.select_notifications(start=after, limit=batch_size, inclusive_of_start=False):
        for notification in notifications:
            decode(notification)
        count += len(notifications)
        after = notifications[-1].id
    return count


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000)
    args = p.parse_args()
    print(f"machine: {machine()}; {args.events} label events; best of {args.repeat}")
    for backend in backends(args.backend):
        with store(backend) as container:
            started = time.perf_counter()
            head = write_label_events(container, args.events)
            print(f"[{backend}] wrote {head} events in {time.perf_counter() - started:.1f}s")
            runner = container.runner
            mapper = container.app.mapper
            raw = best_of(args.repeat, lambda: read_and_decode(container, runner.batch_size, mapper.to_domain_event))
            json_only = best_of(args.repeat, lambda: read_and_decode(
                container, runner.batch_size, lambda n: orjson.loads(n.state)))
            projected = best_of(args.repeat, runner.catch_up, setup=runner.drop)
            runner.bulk_load_events = head + 1  # the same, with every index maintained row by row
            incremental = best_of(args.repeat, runner.catch_up, setup=runner.drop)
            print(f"[{backend}] raw read+decode: {raw:.2f}s ({head / raw:,.0f} events/s)")
            print(f"[{backend}] raw read+orjson.loads only: {json_only:.2f}s ({head / json_only:,.0f} events/s); "
                  f"ratio against it {json_only / projected:.2f}")
            print(f"[{backend}] projection catch-up: {projected:.2f}s ({head / projected:,.0f} events/s)")
            print(f"[{backend}] ratio (raw time / catch-up time): {raw / projected:.2f}  (target >= 0.30)")
            print(f"[{backend}] without the bulk load (indexes kept): {incremental:.2f}s, "
                  f"ratio {raw / incremental:.2f}")


if __name__ == "__main__":
    main()
