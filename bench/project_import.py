"""Importing a project file through the API vs saving the same events directly, and exporting
it back: documents/s and labels/s.

The file: DOCUMENTS documents of ~600 characters with LABELS labels each (10,000 and 100,000
by default), sent as one `:import` to a server in its own process (JSON parsing, the checks
of every offset and region, the aggregates' rules, the save). The baseline builds the same
aggregates in memory first (the same Project and Document calls the import makes, whose rules
run per label) and times `app.save` of them alone, and the building and saving together. Ratio
= baseline time / API time (target >= 0.5), against each. The export is the
`:export` of the project so imported and the fetch of its file, timed, in a fresh server: how much
its peak resident memory rose during the export (run at two sizes: it must not grow with the
project, the export streams).
"""

from __future__ import annotations

import time
from uuid import uuid4

from common import Http, backends, bench_project, machine, parser, served, store
from spanledger.domain import ids
from spanledger.domain.document import Document

SENTENCE = "Alice Smith met Bob Jones in Paris. "


def project_file(documents: int, labels: int) -> dict:
    text = SENTENCE * max(labels // 2, 1)
    spans = [{"category": "Person", "offset": k * len(SENTENCE) + (0 if j == 0 else 16), "length": 11 if j == 0 else 9}
             for k in range(labels // 2) for j in (0, 1)]
    return {
        "projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectKind": "CustomEntityRecognition", "projectName": "bench", "language": "en"},
        "assets": {"projectKind": "CustomEntityRecognition", "entities": [{"category": "Person"}],
                   "documents": [{"location": f"d{i}.txt", "dataset": "Train", "text": text,
                                  "entities": [{"regionOffset": 0, "regionLength": len(text), "labels": spans}]}
                                 for i in range(documents)]},
    }


def through_api(container, file: dict) -> tuple[float, float, int, float]:
    """(import seconds, export seconds, export bytes, the export's peak memory in MB)."""
    _, key, _ = bench_project(container, "Person")
    with served(container) as server:
        http = Http(server.url, key)
        http.request("GET", "/bench")
        started = time.perf_counter()
        status, body = http.request("POST", "/bench/:import", file)
        imported = time.perf_counter() - started
        assert status == 202, body[:300]
        exported, size = export(http)  # waits for the read model to hold the import
        http.close()
    # Again in a fresh server, whose memory holds nothing of the import: what the export adds.
    with served(container) as server:
        http = Http(server.url, key)
        http.request("GET", "/bench")
        before, _ = server.memory_mb()
        server.reset_peak_memory()
        exported, size = export(http)
        _, peak = server.memory_mb()
        http.close()
    return imported, exported, size, peak - before


def export(http: Http) -> tuple[float, int]:
    """`:export` and the fetch of its file: (seconds, bytes)."""
    started = time.perf_counter()
    status, body = http.request("POST", "/bench/:export")
    assert status == 202, body[:300]
    job = http.last_headers["Operation-Location"]
    status, body = http.request("GET", job.split("/projects", 1)[1].split("?")[0] + "/result")
    assert status == 200
    return time.perf_counter() - started, len(body)


def raw_save(container, file: dict) -> tuple[float, float]:
    """(seconds to build the aggregates and save them, seconds of the save alone)."""
    resource_id, _, actor = bench_project(container, "Person")
    app = container.app
    built = time.perf_counter()
    project = app.get_project(resource_id, "bench")
    project.delete(str(uuid4()), actor)
    project.recreate({"language": "en"}, actor)
    project.add_entity("Person", actor)
    documents = []
    for doc in file["assets"]["documents"]:
        document = Document.add(ids.document_id(project.id, project.incarnation, doc["location"]), project,
                                doc["location"], doc["text"], None, "Train", actor)
        for label in doc["entities"][0]["labels"]:
            document.add_label(project, label["category"], label["offset"], label["length"], actor)
        documents.append(document)
    started = time.perf_counter()
    app.save(project, *documents)
    done = time.perf_counter()
    return done - built, done - started


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=10_000)
    p.add_argument("--labels", type=int, default=10, help="per document")
    args = p.parse_args()
    file = project_file(args.documents, args.labels)
    labels = args.documents * args.labels
    print(f"machine: {machine()}; {args.documents:,} documents, {labels:,} labels; best of {args.repeat}")
    for backend in backends(args.backend):
        api_runs, raw_runs = [], []
        for _ in range(args.repeat):
            with store(backend) as container:
                api_runs.append(through_api(container, file))
            with store(backend) as container:
                raw_runs.append(raw_save(container, file))
        imported, exported, size, memory = min(api_runs)
        built, raw = min(raw_runs)
        print(f"[{backend}] raw app.save: {raw:.1f}s ({args.documents / raw:,.0f} documents/s, {labels / raw:,.0f} labels/s)")
        print(f"[{backend}] aggregates built by the app, then saved: {built:.1f}s "
              f"({args.documents / built:,.0f} documents/s, {labels / built:,.0f} labels/s)")
        print(f"[{backend}] API :import: {imported:.1f}s ({args.documents / imported:,.0f} documents/s, "
              f"{labels / imported:,.0f} labels/s); ratio to app.save alone: {raw / imported:.2f}, "
              f"to building and saving: {built / imported:.2f}")
        print(f"[{backend}] API :export + result: {exported:.1f}s ({size / 1e6:.1f} MB); the server's peak "
              f"memory during it: +{memory:.0f} MB over its {args.documents:,}-document-project start")


if __name__ == "__main__":
    main()
