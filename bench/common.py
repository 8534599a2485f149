"""Shared pieces of the benchmarks: throwaway stores on each backend, and timing.

Every benchmark measures the project against a baseline in the same run and prints the
ratio, since absolute times drift on shared machines. Timings are the best of several runs.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from spanledger.bootstrap import Container, build  # noqa: E402
from spanledger.bootstrap.databases import drop_database, ensure_database  # noqa: E402
from spanledger.bootstrap.settings import Settings  # noqa: E402

POSTGRES = os.environ.get("SPANLEDGER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts")
    return p


@contextlib.contextmanager
def store(backend: str, *, follow: bool = False) -> Iterator[Container]:
    """A fresh, empty event store and read model on `backend`, removed afterwards."""
    with tempfile.TemporaryDirectory() as data_dir:
        url = None
        if backend == "postgres":
            url = f"{POSTGRES}/bench_{uuid.uuid4().hex[:12]}"
            ensure_database(url)
        container = build(Settings(data_dir=Path(data_dir), database_url=url), follow=follow)
        try:
            yield container
        finally:
            container.close()
            if url:
                drop_database(url)


@dataclass(frozen=True)
class Server:
    url: str  # the authoring API's projects route
    pid: int

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time the server has used so far: (its event loop's thread, all its other
        threads: request handlers, the projection follower, the job workers)."""
        loop = cpu_seconds(Path(f"/proc/{self.pid}/task/{self.pid}/stat"))
        return loop, cpu_seconds(Path(f"/proc/{self.pid}/stat")) - loop

    def saves_and_transactions(self) -> tuple[float, float]:
        """Saves the server has written so far, and in how many transactions (its group
        commit's histogram on /metrics)."""
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        found = {sample.name: sample.value for family in text_string_to_metric_families(text)
                 for sample in family.samples if sample.name.startswith("spanledger_saves_per_transaction")}
        return found["spanledger_saves_per_transaction_sum"], found["spanledger_saves_per_transaction_count"]

    def reset_peak_memory(self) -> None:
        """From now on the peak resident memory counts afresh (Linux: clear_refs 5)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident since start or the last reset), in MB."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines())
        return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def uvicorn_process(args: list[str], **popen: Any) -> Iterator[subprocess.Popen]:
    """A command that serves with uvicorn, in its own process, once uvicorn says it is up;
    stopped (SIGTERM, then SIGKILL after 30 s) afterwards."""
    server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)
    try:
        output = ""
        while "Uvicorn running" not in output:
            line = server.stdout.readline()
            if not line:
                raise RuntimeError(f"server did not start:\n{output}")
            output += line
        # Keep draining its log, or the server blocks once the pipe is full.
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print("(the server did not stop within 30 s of SIGTERM: killed)", file=sys.stderr)
            server.kill()
            server.wait()


@contextlib.contextmanager
def served(container: Container) -> Iterator[Server]:
    """`spanledger serve` in its own process on the container's store."""
    port = free_port()
    settings = container.settings
    env = {**os.environ, "SPANLEDGER_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    if settings.database_url:
        env["SPANLEDGER_DATABASE_URL"] = settings.database_url
    with uvicorn_process([sys.executable, "-m", "spanledger.api.cli", "serve", "--port", str(port)], env=env) as server:
        yield Server(f"http://127.0.0.1:{port}/language/authoring/analyze-text/projects", server.pid)


class Http:
    """A keep-alive HTTP/1.1 client with little overhead of its own (http.client), so that
    latencies measure the server rather than the client library."""

    def __init__(self, base_url: str, key: str, api_version: str = "2025-05-15-preview"):
        parts = urlsplit(base_url)
        self.prefix, self.api_version = parts.path, api_version
        self.headers = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.last_headers: Any = {}

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        payload = orjson.dumps(body) if body is not None else None
        self.conn.request(method, f"{self.prefix}{path}?api-version={self.api_version}", payload, self.headers)
        response = self.conn.getresponse()
        self.last_headers = response.headers  # case-insensitive
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def cpu_seconds(stat: Path) -> float:
    """CPU time (user + system) so far of the process or thread whose /proc stat file this is."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL processes (all of them: run nothing
    else against it while measuring)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):  # it ended meanwhile
            if proc.name.isdigit() and (proc / "comm").read_text().strip() in ("postgres", "postmaster"):
                total += cpu_seconds(proc / "stat")
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_project(container: Container, entity: str) -> tuple[object, str, str]:
    """A resource "bench" with a project "bench" of one entity type: (resource id, key, actor)."""
    app = container.app
    resource_id, key, _ = app.create_resource("bench", "bench")
    actor = f"key:{app.authenticate(key).key_id}"
    app.put_project(resource_id, "bench", {"language": "en"}, actor)
    app.put_entity(resource_id, "bench", entity, actor)
    return resource_id, key, actor


def whole_numbers(text: str) -> list[int]:
    """An option's comma-separated whole numbers ("1,4,16"), as an argparse type."""
    return [int(part) for part in text.split(",")]


def backends(choice: str) -> list[str]:
    return ["sqlite", "postgres"] if choice == "both" else [choice]


def best_of(repeat: int, run: Callable[[], object], setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
