"""A bounded load test: concurrent clients mixing reads and label writes against `spanledger
serve`, one server, then (PostgreSQL) two servers on one database. Loopback only.

Each client is a person with an API key of their own, on a keep-alive connection to each
server. It reads a document picked at random from a shared pool, lists documents (5%), or
(`--write-share`, 30%) saves labels on a document it has read: `:save-labels` removing one of
its labels when it has many and adding one on a word its read showed free, half the time with
`If-Match` (the version it read). So clients collide: a stale `If-Match` is answered 412, a label drawn over
one another client just drew 409; both are counted apart from errors. With two servers every
request goes to either at random (a load balancer without sessions), and every read sends
`X-Min-Log-Position` of the client's last write, so it must see it whichever server answers:
a read showing an older version of a document the client wrote counts as an error
("stale"). Errors (must be 0): any other status, a refused connection, a stale read.

Baseline, in the same run and against the same server: the same clients calling `GET
/health` (no key, no database) for a few seconds: what the server and these clients manage
with nothing to do.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import RemoteDisconnected

import orjson

from common import Http, backends, bench_project, machine, parser, percentile, served, store
from spanledger.domain import ids
from spanledger.domain.application import NewDocument

WORD = "Name "
WORDS = 200  # per document
MANY_LABELS = 30  # a write removes one of the document's labels from this many on


class Client(Http):
    def send(self, method: str, path: str, body: object = None, headers: dict | None = None,
             query: str = "") -> tuple[int, bytes]:
        payload = orjson.dumps(body) if body is not None else None
        self.conn.request(method, f"{self.prefix}{path}?api-version={self.api_version}{query}", payload,
                          {**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        self.last_headers = response.headers
        return response.status, response.read()


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "list": [], "write": []})
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    stale: int = 0
    resent: int = 0  # reads sent again after the server had closed an idle connection

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies[kind].extend(values)
        self.statuses.update(other.statuses)
        self.errors.extend(other.errors)
        self.stale += other.stale
        self.resent += other.resent


def run_client(urls: list[str], key: str, documents: int, seed: int, write_share: float,
               start: threading.Barrier, stop: threading.Event, tally: Tally) -> None:
    rng = random.Random(seed)
    connections = [Client(url, key) for url in urls]
    written: dict[str, int] = {}  # document -> the version this client's last write made
    seen: dict[str, dict] = {}  # document -> its body as this client last read it
    last_position = 0
    try:
        for http in connections:  # warm up each connection
            http.send("GET", "/bench")
        start.wait()
        while not stop.is_set():
            http = rng.choice(connections)
            roll = rng.random()
            consistent = {"X-Min-Log-Position": str(last_position)} if last_position else {}
            kind = "write" if roll < write_share and seen else "list" if roll > 0.95 else "read"
            # A write goes to a document this client has read (and not written since).
            name = rng.choice(list(seen)) if kind == "write" else f"d{rng.randrange(documents)}"
            started = time.perf_counter()
            try:
                for attempt in (1, 2):
                    try:
                        if kind == "read":
                            status, body = http.send("GET", f"/bench/documents/{name}", headers=consistent)
                        elif kind == "list":
                            status, body = http.send("GET", "/bench/documents", headers=consistent, query="&top=20")
                        else:
                            status, body, headers = write(http, rng, seen[name])
                        break
                    except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                        # The server closed this keep-alive connection while it sat idle (uvicorn:
                        # after 5 s) just as the request went out: a read is sent again on a new
                        # connection, as HTTP clients do; a write counts as an error.
                        http.conn.close()
                        if kind == "write" or attempt == 2:
                            raise
                        tally.resent += 1
            except (OSError, ConnectionError) as error:
                tally.errors.append(f"{kind}: {error!r}")
                http.conn.close()
                continue
            tally.latencies[kind].append(time.perf_counter() - started)
            tally.statuses[(kind, status)] += 1
            if status in (409, 412) and kind == "write":
                seen.pop(name, None)  # read it again before writing to it
                continue
            if status != 200:
                tally.errors.append(f"{kind} {name}: {status} {body[:200]!r}")
                continue
            if kind == "read":
                document = orjson.loads(body)
                if document["version"] < written.get(name, 0):
                    tally.stale += 1
                seen[name] = document
            elif kind == "write":
                version = orjson.loads(body)["version"]
                written[name] = version
                last_position = max(last_position, int(headers["X-Log-Position"]))
                seen.pop(name, None)
    finally:
        for http in connections:
            http.close()


def write(http: Client, rng: random.Random, document: dict) -> tuple[int, bytes, object]:
    labels = document["labels"]
    taken = {label["offset"] // len(WORD) for label in labels}
    free = [k for k in range(WORDS) if k not in taken]
    body: dict = {"add": [{"category": "Person", "offset": rng.choice(free) * len(WORD), "length": 4}]}
    if len(labels) >= MANY_LABELS:
        body["remove"] = [rng.choice(labels)["id"]]
    headers = {"If-Match": f'"{document["version"]}"'} if rng.random() < 0.5 else {}
    status, answer = http.send("POST", f"/bench/documents/{document['name']}/:save-labels", body, headers=headers)
    return status, answer, http.last_headers


def run_together(work: Callable[[int, threading.Barrier, threading.Event], None], clients: int,
                 seconds: float) -> float:
    """`work(n, start, stop)` in `clients` threads, released together and stopped after `seconds`;
    answers the seconds from their release to the last one's end."""
    start, stop = threading.Barrier(clients + 1), threading.Event()
    threads = [threading.Thread(target=work, args=(n, start, stop)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def load(urls: list[str], keys: list[str], documents: int, seconds: float, write_share: float) -> tuple[Tally, float]:
    tallies = [Tally() for _ in keys]

    def client(n: int, start: threading.Barrier, stop: threading.Event) -> None:
        run_client(urls, keys[n], documents, n, write_share, start, stop, tallies[n])

    elapsed = run_together(client, len(keys), seconds)
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed


def health(urls: list[str], clients: int, seconds: float) -> float:
    """Requests per second of GET /health by the same number of clients."""
    counts = [0] * clients

    def client(n: int, start: threading.Barrier, stop: threading.Event) -> None:
        connections = [Client(url.split("/language/")[0], "") for url in urls]
        start.wait()
        while not stop.is_set():
            http = connections[n % len(connections)] if len(connections) == 1 else random.choice(connections)
            http.conn.request("GET", "/health")
            response = http.conn.getresponse()
            response.read()
            counts[n] += 1
        for http in connections:
            http.close()

    elapsed = run_together(client, clients, seconds)
    return sum(counts) / elapsed


def setup(container, clients: int, documents: int) -> list[str]:
    """The project, its documents (a few labels each already), and a key for every client."""
    app = container.app
    resource_id, _, actor = bench_project(container, "Person")
    app.add_documents(resource_id, "bench", [NewDocument(f"d{i}", WORD * WORDS) for i in range(documents)], actor)
    project = app.get_project(ids.resource_id("bench"), "bench")
    for i in range(documents):
        document = app.repository.get(ids.document_id(project.id, project.incarnation, f"d{i}"))
        for k in range(0, WORDS, 20):
            document.add_label(project, "Person", k * len(WORD), 4, actor)
        app.save(document)
    keys = [app.issue_api_key("bench", actor, name=f"client {n}")[0] for n in range(clients)]
    container.runner.catch_up()
    return keys


def report(label: str, tally: Tally, elapsed: float, baseline: float) -> None:
    requests = sum(len(v) for v in tally.latencies.values())
    every = [x for values in tally.latencies.values() for x in values]
    conflicts = {code: sum(n for (kind, status), n in tally.statuses.items() if status == code) for code in (409, 412)}
    writes_ok = tally.statuses[("write", 200)]
    print(f"{label}: {requests:,} requests in {elapsed:.1f} s = {requests / elapsed:,.0f} requests/s "
          f"({requests / elapsed / baseline:.2f} of GET /health's {baseline:,.0f}/s); "
          f"{writes_ok:,} label writes ({writes_ok / elapsed:,.0f}/s)")
    if every:
        print(f"{label}:   all   p50 {percentile(every, 0.5) * 1000:6.1f} ms  p99 {percentile(every, 0.99) * 1000:6.1f} ms")
    for kind, values in tally.latencies.items():
        if values:
            print(f"{label}:   {kind:<5} p50 {percentile(values, 0.5) * 1000:6.1f} ms  "
                  f"p99 {percentile(values, 0.99) * 1000:6.1f} ms  ({len(values):,})")
    print(f"{label}:   conflicts: {conflicts[409]} answered 409, {conflicts[412]} answered 412; "
          f"errors: {len(tally.errors) + tally.stale} ({tally.stale} stale reads); "
          f"{tally.resent} reads sent again after the server closed an idle connection")
    for error in tally.errors[:5]:
        print(f"{label}:     {error}")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load per setup")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--documents", type=int, default=256, help="the pool of documents the clients share")
    p.add_argument("--write-share", type=float, default=0.3, help="the share of requests that write labels")
    p.add_argument("--baseline-seconds", type=float, default=5.0)
    args = p.parse_args()
    print(f"machine: {machine()}; {args.clients} clients, {args.duration:.0f} s a setup, {args.documents} "
          f"documents, {args.write_share:.0%} writes")
    for backend in backends(args.backend):
        for servers in ([1, 2] if backend == "postgres" else [1]):
            label = f"[{backend}, {servers} server{'s' if servers > 1 else ''}]"
            with store(backend) as container:
                keys = setup(container, args.clients, args.documents)
                with contextlib.ExitStack() as stack:
                    running = [stack.enter_context(served(container)) for _ in range(servers)]
                    urls = [server.url for server in running]
                    baseline = health(urls, args.clients, args.baseline_seconds)
                    before = [server.saves_and_transactions() for server in running]
                    tally, elapsed = load(urls, keys, args.documents, args.duration, args.write_share)
                    saves, transactions = (sum(after[k] - was[k] for after, was in zip(
                        [server.saves_and_transactions() for server in running], before, strict=True))
                        for k in (0, 1))
                report(label, tally, elapsed, baseline)
                print(f"{label}:   {saves:,.0f} saves in {transactions:,.0f} transactions "
                      f"({saves / max(transactions, 1):.2f} a transaction: the group commit)")


if __name__ == "__main__":
    main()
