"""Exporting the audit log as NDJSON over HTTP vs reading and decoding the same notifications raw.

Writes N events (mostly LabelAdded, saved in batches through the application, not over HTTP),
brings the read model up to the head, then times (a) reading the whole log with the recorder
(`select_notifications`) and decoding each payload with orjson, and (b) a client reading
`GET /language/authoring/analyze-text/events` with `Accept: application/x-ndjson` from a
`spanledger serve` process to the end. Ratio = (a) / (b): the share of raw log-reading speed
the export keeps (target >= 0.5). The server's peak resident memory during the export is
printed for each N: it must not grow with N.
"""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import orjson

from common import best_of, machine, parser, served, store
from projection_catchup import read_and_decode, write_label_events


def export(url: str, key: str) -> int:
    """Reads the whole export in 64 KiB chunks (the client's memory stays flat too); answers
    how many entries it held."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    conn.request("GET", "/language/authoring/analyze-text/events?api-version=2025-05-15-preview",
                 headers={"Ocp-Apim-Subscription-Key": key, "Accept": "application/x-ndjson"})
    response = conn.getresponse()
    assert response.status == 200, response.read()[:300]
    lines = 0
    while chunk := response.read(65536):
        lines += chunk.count(b"\n")
    conn.close()
    return lines


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    args = p.parse_args()
    print(f"machine: {machine()}; best of {args.repeat}")
    backend = args.backend if args.backend != "both" else "sqlite"
    for events in args.events:
        with store(backend) as container:
            started = time.perf_counter()
            head = write_label_events(container, events)
            written = time.perf_counter() - started
            started = time.perf_counter()
            container.runner.catch_up()
            print(f"[{backend} {head:,}] wrote the log in {written:.0f}s, projected it in "
                  f"{time.perf_counter() - started:.0f}s")
            raw = best_of(args.repeat, lambda: read_and_decode(
                container, container.runner.batch_size, lambda n: orjson.loads(n.state)))
            key = container.app.issue_api_key("bench", "bench")[0]  # the events of issuing it too
            head = container.app.recorder.max_notification_id()
            container.runner.catch_up()
            with served(container) as server:
                rss, _ = server.memory_mb()
                server.reset_peak_memory()
                counted: list[int] = []
                exported = best_of(args.repeat, lambda: counted.append(export(server.url, key)))
                _, peak = server.memory_mb()
            assert set(counted) == {head}, (counted, head)
            print(f"[{backend} {head:,}] raw select_notifications+orjson.loads: {raw:.2f}s ({head / raw:,.0f} events/s)")
            print(f"[{backend} {head:,}] NDJSON export over HTTP: {exported:.2f}s ({head / exported:,.0f} events/s)")
            print(f"[{backend} {head:,}] ratio (raw time / export time): {raw / exported:.2f}  (target >= 0.5)")
            print(f"[{backend} {head:,}] server memory: {rss:.0f} MB resident before, peak {peak:.0f} MB during "
                  f"the exports")


if __name__ == "__main__":
    main()
