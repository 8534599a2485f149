"""Files a job produces (model files, evaluation results), stored by their SHA-256 digest
under the data directory: the event that names a digest names exactly one content."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put_file(self, source: Path) -> str:
        digest = hashlib.sha256()
        with source.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        name = digest.hexdigest()
        target = self.path(name)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            shutil.copyfile(source, partial)
            os.replace(partial, target)  # appears whole or not at all
        return name

    def put_json(self, value: Any) -> str:
        data = orjson.dumps(value)
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, delete=False) as f:
            f.write(data)
        try:
            return self.put_file(Path(f.name))
        finally:
            os.unlink(f.name)

    def get_json(self, digest: str) -> Any:
        return orjson.loads(self.path(digest).read_bytes())
