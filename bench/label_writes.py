"""Label writes through the API (one :save-labels request per document) vs raw `app.save`
of the same events.

Both stores start alike (same project, entities, documents). Through the API each request
adds LABELS labels to one document over HTTP (a separate server process: validation, the
aggregate's rules, offsets, the save), sent by 1, 4 or 16 concurrent clients (`--clients`),
each writing its own documents; the time runs until the last response and a read that waits
for the read model to hold every write (X-Min-Log-Position), so work the server's projection
follower puts off is counted. The baseline builds the same LabelAdded events in memory first
and times only `app.save` of each document's events, one save after another.
Ratio = raw time / API time. With `--servers 2` (PostgreSQL) the clients are spread over two
server processes on the one database, as behind a load balancer.

The serving floor: the same requests by the same clients to FastAPI and uvicorn alone
(floor_app.py: the same body model and sync handler, no work), timed in the same runs. No
handler can answer faster than the floor plus the save itself, so raw / (raw + floor) is the
most any API on this stack could reach here. The command: the handler's own work, called
in-process by as many threads as there are clients, each on its own documents (the
`save_labels` the server runs: reading the project and the document, the aggregate's rules,
the save, through the same group commit; no HTTP, no read model). With one client an API
that runs it behind the floor takes at least floor + command, so raw / (floor + command)
bounds what any server on this stack doing this work could reach; with several clients,
whose requests overlap on the cores, it is an estimate rather than a bound.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import (
    Http,
    backends,
    bench_project,
    free_port,
    machine,
    parser,
    postgres_cpu_seconds,
    served,
    store,
    uvicorn_process,
    whole_numbers,
)
from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument

LABELS = 20
WORD = "Name "


def setup(container, documents: int) -> tuple[str, str]:
    app = container.app
    resource_id, key, actor = bench_project(container, "Person")
    app.add_documents(resource_id, "bench", [NewDocument(f"d{i}", WORD * LABELS) for i in range(documents)], actor)
    return key, actor


def labels() -> list[dict]:
    return [{"category": "Person", "offset": k * len(WORD), "length": 4} for k in range(LABELS)]


@dataclass(frozen=True)
class ApiRun:
    seconds: float
    # CPU time a request: the server's event loop thread, its other threads, PostgreSQL's processes
    loop_ms: float
    others_ms: float
    postgres_ms: float
    saves_per_transaction: float  # the servers' group commit (warm-up writes included)


def run_documents(container, documents: int, client_counts: list[int]) -> str:
    """The documents the runs of concurrent_writes write to, for each number of clients;
    answers the API key."""
    app = container.app
    resource_id, key, actor = bench_project(container, "Person")
    for clients in client_counts:
        app.add_documents(resource_id, "bench", [NewDocument(f"c{clients}-{i}", WORD * LABELS)
                                                 for i in range(documents)], actor)
        app.add_documents(resource_id, "bench", [NewDocument(f"warm{clients}-{n}", WORD * LABELS)
                                                 for n in range(clients)], actor)
    return key


def through_api(container, documents: int, client_counts: list[int], servers: int = 1) -> dict[int, ApiRun]:
    """Each number of clients' run of `documents` requests (each client on its own documents),
    the clients spread over `servers` processes on the one database (their CPU added up)."""
    key = run_documents(container, documents, client_counts)
    runs = {}
    postgres = postgres_cpu_seconds if container.settings.uses_postgres else lambda: 0.0
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(served(container)) for _ in range(servers)]

        def cpu() -> tuple[float, float, float]:
            used = [server.cpu_seconds() for server in running]
            return sum(loop for loop, _ in used), sum(others for _, others in used), postgres()

        def saves() -> tuple[float, float]:
            counted = [server.saves_and_transactions() for server in running]
            return sum(n for n, _ in counted), sum(t for _, t in counted)

        for clients in client_counts:
            before, saved = cpu(), saves()
            seconds = concurrent_writes([server.url for server in running], key, documents, clients)
            loop, others, db = (1000 * (after - was) / documents for after, was in zip(cpu(), before, strict=True))
            (written, transactions), (written_before, transactions_before) = saves(), saved
            runs[clients] = ApiRun(seconds, loop, others, db,
                                   (written - written_before) / max(transactions - transactions_before, 1))
    return runs


def together(clients: int, work: Callable[[int], None]) -> float:
    """Runs work(n) for each client n in a thread of its own, all let go at once; answers
    when they were let go (time.perf_counter), once every one has finished."""
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        start.wait()
        work(n)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return started


def concurrent_writes(urls: list[str], key: str, documents: int, clients: int) -> float:
    """Client n sends its writes to urls[n % len(urls)]; the read at the end goes to the first."""
    connections = [Http(urls[n % len(urls)], key) for n in range(clients)]
    for n, http in enumerate(connections):  # warm up the connections and the server (its routes, its caches)
        http.request("GET", "/bench")
        status, body = http.request("POST", f"/bench/documents/warm{clients}-{n}/:save-labels", {"add": labels()})
        assert status == 200, body
    positions: list[int] = []
    failures: list[str] = []

    def write(n: int) -> None:
        http = connections[n]
        for i in range(n, documents, clients):
            status, body = http.request("POST", f"/bench/documents/c{clients}-{i}/:save-labels", {"add": labels()})
            if status != 200:
                failures.append(f"{status} {body[:200]!r}")
                return
            positions.append(int(http.last_headers["X-Log-Position"]))

    started = together(clients, write)
    assert not failures, failures[:3]
    # Until the read model holds every write: a read that waits for the last position.
    reader = connections[0]
    reader.headers["X-Min-Log-Position"] = str(max(positions))
    status, body = reader.request("GET", "/bench")
    assert status == 200, body
    elapsed = time.perf_counter() - started
    for http in connections:
        http.close()
    return elapsed


@contextlib.contextmanager
def floor_server():
    """floor_app.py under uvicorn in its own process, logging as `spanledger serve` does."""
    port = free_port()
    with uvicorn_process([sys.executable, "-m", "uvicorn", "floor_app:app", "--port", str(port)],
                         cwd=Path(__file__).parent):
        yield f"http://127.0.0.1:{port}/language/authoring/analyze-text/projects"


def floor(documents: int, client_counts: list[int]) -> dict[int, float]:
    """Seconds for the same requests to the serving floor, by each number of clients."""
    with floor_server() as url:
        return {clients: concurrent_writes([url], "", documents, clients) for clients in client_counts}


def labeled_in_memory(container, documents: int) -> list:
    """The documents, each with the labels a request adds, not saved yet."""
    _, actor = setup(container, documents)
    app = container.app
    project = app.get_project(ids.resource_id("bench"), "bench")
    pending = []
    for i in range(documents):
        document = app.repository.get(ids.document_id(project.id, project.incarnation, f"d{i}"))
        for label in labels():
            document.add_label(project, label["category"], label["offset"], label["length"], actor)
        pending.append(document)
    return pending


def commands(container, documents: int, client_counts: list[int]) -> dict[int, float]:
    """Seconds for the handler's command alone, in-process, on each run's documents: one
    thread a client, as the API's runs send them."""
    app = container.app
    key = run_documents(container, documents, client_counts)
    actor = f"key:{app.authenticate(key).key_id}"  # as the server records a key's writes
    resource_id = ids.resource_id("bench")
    specs = [LabelSpec(label["category"], label["offset"], label["length"]) for label in labels()]

    def run(clients: int) -> float:
        def write(n: int) -> None:
            for i in range(n, documents, clients):
                app.save_labels(resource_id, "bench", f"c{clients}-{i}", add=specs, actor=actor)

        started = together(clients, write)
        return time.perf_counter() - started

    return {clients: run(clients) for clients in client_counts}


def raw_saves(container, documents: int) -> float:
    pending = labeled_in_memory(container, documents)
    started = time.perf_counter()
    for document in pending:
        container.app.save(document)
    return time.perf_counter() - started


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=200)
    p.add_argument("--clients", type=whole_numbers, default="1,4,16", help="numbers of concurrent clients, comma-separated")
    p.add_argument("--servers", type=int, default=1,
                   help="`spanledger serve` processes on the one database, the clients spread over them "
                        "(more than 1: PostgreSQL only)")
    args = p.parse_args()
    if args.servers > 1 and args.backend != "postgres":
        p.error("--servers above 1 needs --backend postgres")
    client_counts = args.clients
    events = args.documents * LABELS
    print(f"machine: {machine()}; {args.documents} requests of {LABELS} labels ({events} events) "
          f"by {', '.join(map(str, client_counts))} clients to {args.servers} server(s); best of {args.repeat}")
    for backend in backends(args.backend):
        api_runs: dict[int, list[ApiRun]] = {c: [] for c in client_counts}
        floor_times: dict[int, list[float]] = {c: [] for c in client_counts}
        command_times: dict[int, list[float]] = {c: [] for c in client_counts}
        raw_times = []
        for _ in range(args.repeat):
            with store(backend, follow=False) as container:
                for clients, run in through_api(container, args.documents, client_counts, args.servers).items():
                    api_runs[clients].append(run)
            with store(backend) as container:
                raw_times.append(raw_saves(container, args.documents))
            with store(backend) as container:
                for clients, seconds in commands(container, args.documents, client_counts).items():
                    command_times[clients].append(seconds)
            for clients, seconds in floor(args.documents, client_counts).items():
                floor_times[clients].append(seconds)
        raw = min(raw_times)
        print(f"[{backend}] raw app.save: {raw:.2f}s ({events / raw:,.0f} labels/s, {args.documents / raw:,.0f} saves/s)")
        for clients in client_counts:
            best = min(api_runs[clients], key=lambda r: r.seconds)
            api, least, command = best.seconds, min(floor_times[clients]), min(command_times[clients])
            print(f"[{backend}] API :save-labels, {clients:>2} clients: {api:.2f}s ({events / api:,.0f} labels/s, "
                  f"{args.documents / api:,.0f} requests/s); ratio (raw time / API time): {raw / api:.2f}; "
                  f"serving floor {least:.2f}s, the most a handler could reach: {raw / (raw + least):.2f}")
            print(f"    the command in-process: {command:.2f}s, raw / command {raw / command:.2f}; "
                  f"floor and command: raw / (floor + command) {raw / (least + command):.2f}")
            print(f"    CPU a request in that run: server event loop {best.loop_ms:.2f} ms, its other threads "
                  f"{best.others_ms:.2f} ms" + (f", PostgreSQL {best.postgres_ms:.2f} ms" if backend == "postgres" else "")
                  + f"; saves a transaction {best.saves_per_transaction:.2f}")


if __name__ == "__main__":
    main()
