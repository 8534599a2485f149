"""Python's cyclic garbage collector paused while a bulk import builds its events.

An import of 10,000 documents creates millions of objects, and each full collection the
allocations set off walks all of them: 6-7 such collections were 40% of an in-process import
(3.5 s with the collector, 2.0 s without; bench/README "Importing and exporting a project").
Reference counting still frees what is not in a cycle, and the collector runs again once the
last import in the process ends. Only what is known to allocate in bulk takes this.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_imports = 0  # imports running in this process
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _imports, _was_enabled
    with _lock:
        if _imports == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _imports += 1
    try:
        yield
    finally:
        with _lock:
            _imports -= 1
            if _imports == 0 and _was_enabled:
                gc.enable()
