"""Shared pieces of the benchmarks: throwaway stores on each backend, and timing.

Every benchmark measures the project against a baseline in the same run and prints the
ratio, since absolute times drift on shared machines. Timings are the best of several runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bootstrap import Container, build  # noqa: E402
from bootstrap.databases import drop_database, ensure_database  # noqa: E402
from bootstrap.settings import Settings  # noqa: E402

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
