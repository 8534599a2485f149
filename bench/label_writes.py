"""Label writes through the API (one :save-labels request per document) vs raw `app.save`
of the same events.

Both stores start alike (same project, entities, documents). Through the API each request
adds LABELS labels to one document over HTTP (a separate server process: validation, the
aggregate's rules, offsets, the save). The baseline builds the same LabelAdded events in
memory first and times only `app.save` of each document's events, one save per document.
Ratio = raw time / API time.
"""

from __future__ import annotations

import time

from common import Http, backends, bench_project, machine, parser, served, store
from spanledger.domain import ids
from spanledger.domain.application import NewDocument

LABELS = 20
WORD = "Name "


def setup(container, documents: int) -> tuple[str, str]:
    app = container.app
    resource_id, key, actor = bench_project(container, "Person")
    app.add_documents(resource_id, "bench", [NewDocument(f"d{i}", WORD * LABELS) for i in range(documents)], actor)
    return key, actor


def labels() -> list[dict]:
    return [{"category": "Person", "offset": k * len(WORD), "length": 4} for k in range(LABELS)]


def through_api(container, documents: int) -> float:
    key, _ = setup(container, documents)
    with served(container) as server:
        http = Http(server.url, key)
        http.request("GET", "/bench")  # warm up the connection and the server's caches
        started = time.perf_counter()
        for i in range(documents):
            status, body = http.request("POST", f"/bench/documents/d{i}/:save-labels", {"add": labels()})
            assert status == 200, body
        elapsed = time.perf_counter() - started
        http.close()
        return elapsed


def raw_saves(container, documents: int) -> float:
    _, actor = setup(container, documents)
    app = container.app
    project = app.get_project(ids.resource_id("bench"), "bench")
    pending = []
    for i in range(documents):
        document = app.repository.get(ids.document_id(project.id, project.incarnation, f"d{i}"))
        for label in labels():
            document.add_label(project, label["category"], label["offset"], label["length"], actor)
        pending.append(document)
    started = time.perf_counter()
    for document in pending:
        app.save(document)
    return time.perf_counter() - started


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=200)
    args = p.parse_args()
    events = args.documents * LABELS
    print(f"machine: {machine()}; {args.documents} requests of {LABELS} labels ({events} events); "
          f"best of {args.repeat}")
    for backend in backends(args.backend):
        api_times, raw_times = [], []
        for _ in range(args.repeat):
            with store(backend, follow=False) as container:
                api_times.append(through_api(container, args.documents))
            with store(backend) as container:
                raw_times.append(raw_saves(container, args.documents))
        api, raw = min(api_times), min(raw_times)
        print(f"[{backend}] raw app.save: {raw:.2f}s ({events / raw:,.0f} labels/s, {args.documents / raw:,.0f} saves/s)")
        print(f"[{backend}] API :save-labels: {api:.2f}s ({events / api:,.0f} labels/s, "
              f"{args.documents / api:,.0f} requests/s)")
        print(f"[{backend}] ratio (raw time / API time): {raw / api:.2f}")


if __name__ == "__main__":
    main()
