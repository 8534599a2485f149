"""The models the runtime API predicts with, kept loaded by file digest, one prediction at a
time in this process (torch's threads would only contend with each other)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from jobs.artifacts import ArtifactStore
from ner.spans import Span

KEPT = 2


class Predictor:
    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts
        self._taggers: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def available(self, digest: str) -> bool:
        return self.artifacts.path(digest).exists()

    def predict(self, digest: str, texts: Sequence[str]) -> list[list[Span]]:
        from ner.model import Tagger  # torch and flair load with the first prediction

        with self._lock:
            tagger = self._taggers.pop(digest, None) or Tagger(self.artifacts.path(digest))
            self._taggers[digest] = tagger
            while len(self._taggers) > KEPT:
                self._taggers.popitem(last=False)
            return tagger.predict(texts) if texts else []
