"""Label writes against versions of the server side by side: CPU a write, per thread.

For comparing changes of a few percent on a shared machine, whose speed moves by more than
that within minutes. Each version (a directory holding a `spanledger` package, put first on
the server's PYTHONPATH: e.g. `ln -s /path/to/checkout/src /tmp/a/spanledger`) gets its own
server and store; all run at once, and bursts of `:save-labels` requests (20 labels each,
sent by `--clients` concurrent clients, 1 by default) alternate between them, so each sees
the same phases of the machine. Counted per burst from /proc: the server's CPU time, its event loop's, PostgreSQL's, and the time the
burst took; each version's figures are also printed relative to the first one's. For the
first version, the CPU of each of its threads (named if py-spy is installed, which
`py-spy dump` reads them with).

    python bench/paired_writes.py --backend sqlite /tmp/a /tmp/b

Two copies of one version came out up to 8% apart in a run of 4 bursts, and within 2%
(server CPU) and 5% (event loop, time) in two runs of 12: below that, a difference is noise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Http, bench_project, cpu_seconds, free_port, postgres_cpu_seconds, store, uvicorn_process
from label_writes import LABELS, WORD, labels
from spanledger.domain.application import NewDocument

WARM_UP = 300
SETTLE = 0.06  # seconds after a burst, so that the follower's coalesced batch is counted with it


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of `pid`, by thread id."""
    used = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            used[tid] = cpu_seconds(Path(f"/proc/{pid}/task/{tid}/stat"))
    return used


def thread_names(pid: int) -> dict[str, str]:
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not spy:
        return {}
    dump = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True).stdout
    return dict(re.findall(r'Thread (\d+) \([^)]*\): "([^"]+)"', dump))


@dataclass
class Version:
    path: str
    pid: int
    clients: list[Http]  # one keep-alive connection each
    written: int = 0
    cpu: float = 0.0
    loop: float = 0.0
    postgres: float = 0.0
    seconds: float = 0.0
    threads: dict[str, float] = field(default_factory=dict)

    def write(self, count: int) -> None:
        """`count` writes to documents not written yet, spread over the clients, sent at once."""
        names = [f"d{self.written + i}" for i in range(count)]
        self.written += count
        failures: list[str] = []

        def send(http: Http, mine: list[str]) -> None:
            for name in mine:
                status, body = http.request("POST", f"/bench/documents/{name}/:save-labels", {"add": labels()})
                if status != 200:
                    failures.append(f"{status} {body[:200]!r}")
                    return

        senders = [threading.Thread(target=send, args=(http, names[k::len(self.clients)]))
                   for k, http in enumerate(self.clients)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        assert not failures, failures[:3]

    def burst(self, count: int, postgres: bool) -> None:
        for http in self.clients:  # fresh keep-alive connections (the server closes idle ones), not counted
            http.conn.close()
            http.request("GET", "/bench")
        before, db, started = thread_cpu(self.pid), postgres_cpu_seconds() if postgres else 0.0, time.perf_counter()
        self.write(count)
        time.sleep(SETTLE)
        self.seconds += time.perf_counter() - started - SETTLE
        after = thread_cpu(self.pid)
        for tid, seconds in after.items():
            self.threads[tid] = self.threads.get(tid, 0.0) + seconds - before.get(tid, 0.0)
        self.cpu += sum(after.values()) - sum(before.values())
        self.loop += after[str(self.pid)] - before[str(self.pid)]
        if postgres:
            self.postgres += postgres_cpu_seconds() - db


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("versions", nargs="+", help="directories holding a `spanledger` package")
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--bursts", type=int, default=12)
    p.add_argument("--burst", type=int, default=150, help="writes a burst")
    p.add_argument("--clients", type=int, default=1, help="concurrent clients a burst is spread over")
    args = p.parse_args()
    writes = args.bursts * args.burst
    postgres = args.backend == "postgres"
    with contextlib.ExitStack() as stack:
        versions = []
        for path in args.versions:
            container = stack.enter_context(store(args.backend))
            resource_id, key, actor = bench_project(container, "Person")
            container.app.add_documents(resource_id, "bench", [NewDocument(f"d{i}", WORD * LABELS)
                                                               for i in range(WARM_UP + writes)], actor)
            port = free_port()
            env = {**os.environ, "PYTHONPATH": path, "SPANLEDGER_DATA_DIR": str(container.settings.data_dir)}
            if postgres:
                env["SPANLEDGER_DATABASE_URL"] = container.settings.database_url
            server = stack.enter_context(uvicorn_process(
                [sys.executable, "-m", "spanledger.api.cli", "serve", "--port", str(port)], env=env))
            url = f"http://127.0.0.1:{port}/language/authoring/analyze-text/projects"
            versions.append(Version(path, server.pid, [Http(url, key) for _ in range(args.clients)]))
        for version in versions:
            version.write(WARM_UP)
        for n in range(args.bursts):
            for version in versions if n % 2 == 0 else versions[::-1]:
                version.burst(args.burst, postgres)
        names = thread_names(versions[0].pid)
        print(f"{writes} writes a version in {args.bursts} bursts by {args.clients} client(s), {args.backend}; "
              "ms a write (relative to the first)")
        first = versions[0]
        for v in versions:
            line = (f"{v.path}: server CPU {1000 * v.cpu / writes:.2f} ({v.cpu / first.cpu:.3f}), event loop "
                    f"{1000 * v.loop / writes:.2f} ({v.loop / first.loop:.3f}), time {1000 * v.seconds / writes:.2f} "
                    f"({v.seconds / first.seconds:.3f})")
            print(line + (f", PostgreSQL {1000 * v.postgres / writes:.2f}" if postgres else ""))
        for tid, seconds in sorted(first.threads.items(), key=lambda item: -item[1]):
            if seconds > 0.005:
                print(f"  {first.path}, thread {names.get(tid, tid)}: {1000 * seconds / writes:.2f}")


if __name__ == "__main__":
    main()
