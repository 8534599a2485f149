"""Files a job produces (model files, evaluation results), stored by their SHA-256 digest
under the data directory: the event that names a digest names exactly one content.

This class keeps them in a local folder (SQLite). With PostgreSQL the folder is a cache of
the database's copies (jobs.pg_artifacts), so that any machine can use any model."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson


class ArtifactMissing(LookupError):
    """An event names a digest whose content this store does not hold (lost, or another machine's)."""


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, digest: str) -> Path:
        """The local file of `digest` (raises ArtifactMissing when the store does not hold it)."""
        local = self._local(digest)
        if not local.exists():
            self._fetch(digest, local)
        return local

    def available(self, digest: str) -> bool:
        try:
            self.path(digest)
        except ArtifactMissing:
            return False
        return True

    def put_file(self, source: Path) -> str:
        digest = hashlib.sha256()
        with source.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        name = digest.hexdigest()
        self._place(name, lambda partial: shutil.copyfile(source, partial))
        return name

    def put_json(self, value: Any) -> str:
        data = orjson.dumps(value)
        name = hashlib.sha256(data).hexdigest()
        self._place(name, lambda partial: Path(partial).write_bytes(data))
        return name

    def put_chunks(self, chunks: Iterable[bytes]) -> str:
        """Stores bytes that come a piece at a time (an export of any size), never holding
        them whole: written under a temporary name, hashed on the way, then renamed."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=self.root, suffix=".partial")
        digest = hashlib.sha256()
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
            name = digest.hexdigest()
            self._place(name, lambda target: os.replace(partial, target))
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return name

    def get_json(self, digest: str) -> Any:
        return orjson.loads(self.path(digest).read_bytes())

    def _local(self, digest: str) -> Path:
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ArtifactMissing(digest)  # not a digest this store could have written
        return self.root / digest[:2] / digest

    def _place(self, digest: str, write: Callable[[str], object]) -> None:
        """Writes under a temporary name of its own, then renames: the file appears whole or
        not at all, and two workers storing the same content cannot trip over each other."""
        target = self._local(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
            os.close(handle)
            try:
                write(partial)
                os.replace(partial, target)
            except BaseException:
                os.unlink(partial)
                raise
        self._publish(digest, target)

    # Hooks for a store shared between machines (jobs.pg_artifacts): the folder alone
    # publishes nothing and has nowhere else to look.
    def _publish(self, digest: str, local: Path) -> None:
        pass

    def _fetch(self, digest: str, local: Path) -> None:
        raise ArtifactMissing(digest)
