"""Sharing the CPU with other processes while training.

On two busy cores an epoch took 50-130 s instead of 4 s: torch's OpenMP threads meet at a
barrier after every small operation, and a thread that shares its core with another process
keeps the others waiting for its turn. Using no more threads than the cores other processes
leave free avoids that (bench/training_contention.py: 9.8x slower beside a torch process
before, 1.6x after). Passive OpenMP waits (OMP_WAIT_POLICY=PASSIVE) were measured too and
made training alone 3x slower: every barrier then waits for a thread to wake.
"""

from __future__ import annotations

import os
import time


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (Linux), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class FreeCores:
    """How many cores other processes left free since the last reading: the machine's busy
    time minus this process's own, over the wall time between two readings."""

    def __init__(self) -> None:
        self.cores = available_cores()
        self._last = self._reading()

    @staticmethod
    def _reading() -> tuple[float, float | None, float]:
        return time.monotonic(), _busy_seconds(), time.process_time()

    def threads(self) -> int:
        """Threads to use from now on: the free cores, at least one."""
        now = self._reading()
        (wall0, busy0, own0), (wall1, busy1, own1) = self._last, now
        self._last = now
        if busy0 is None or busy1 is None or wall1 - wall0 <= 0:
            return self.cores
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall1 - wall0)
        return max(1, min(self.cores, round(self.cores - others)))
