"""How far label writes could go on this stack: label_writes.py's requests to bound_app.py,
the leanest write path conceivable (no FastAPI, no validation, middleware or logging; the
same `save_labels` command), against the same raw `app.save` baseline.

Four variants: the command on the event loop or in a worker thread (as spanledger's sync
routes run), with no read model at all or with the follower keeping it in this process (the
time then runs until the read model holds every write, as in label_writes.py). Whatever
spanledger's own server adds beyond the variant that does what it does (a worker thread and
the follower) is FastAPI and spanledger's own per-request work.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from common import backends, free_port, machine, parser, store, uvicorn_process, whole_numbers
from label_writes import LABELS, concurrent_writes, raw_saves, run_documents

VARIANTS = {  # name: (BOUND_THREAD, BOUND_FOLLOW)
    "event loop, no read model": ("0", "0"),
    "worker thread, no read model": ("1", "0"),
    "event loop, follower": ("0", "1"),
    "worker thread, follower": ("1", "1"),
}


@contextlib.contextmanager
def bound_server(container, thread: str, follow: str):
    port = free_port()
    env = {**os.environ, "SPANLEDGER_DATA_DIR": str(container.settings.data_dir), "BOUND_THREAD": thread,
           "BOUND_FOLLOW": follow, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    if container.settings.database_url:
        env["SPANLEDGER_DATABASE_URL"] = container.settings.database_url
    with uvicorn_process([sys.executable, "-m", "uvicorn", "bound_app:app", "--port", str(port), "--no-access-log"],
                         cwd=Path(__file__).parent, env=env):
        yield f"http://127.0.0.1:{port}/language/authoring/analyze-text/projects"


def bound(backend: str, documents: int, client_counts: list[int], thread: str, follow: str) -> dict[int, float]:
    with store(backend) as container:
        key = run_documents(container, documents, client_counts)
        with bound_server(container, thread, follow) as url:
            return {clients: concurrent_writes([url], key, documents, clients) for clients in client_counts}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=200)
    p.add_argument("--clients", type=whole_numbers, default="1,4,16", help="numbers of concurrent clients, comma-separated")
    args = p.parse_args()
    client_counts = args.clients
    print(f"machine: {machine()}; {args.documents} requests of {LABELS} labels by "
          f"{', '.join(map(str, client_counts))} clients; best of {args.repeat}")
    for backend in backends(args.backend):
        times: dict[str, dict[int, list[float]]] = {name: {c: [] for c in client_counts} for name in VARIANTS}
        raw_times = []
        for _ in range(args.repeat):
            for name, (thread, follow) in VARIANTS.items():
                for clients, seconds in bound(backend, args.documents, client_counts, thread, follow).items():
                    times[name][clients].append(seconds)
            with store(backend) as container:
                raw_times.append(raw_saves(container, args.documents))
        raw = min(raw_times)
        print(f"[{backend}] raw app.save: {raw:.2f}s")
        for name in VARIANTS:
            cells = ", ".join(f"{c} clients {min(times[name][c]):.2f}s ({raw / min(times[name][c]):.2f})"
                              for c in client_counts)
            print(f"[{backend}] {name}: {cells}")


if __name__ == "__main__":
    main()
