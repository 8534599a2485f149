"""The models the runtime API predicts with, kept loaded by file digest, and the one thread
that runs them: requests are served from a pool of threads, and predictions one at a time
on one thread keep torch to one team of threads (sized to the free cores by the Tagger)
instead of one per request thread, all wanting the same cores.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from spanledger.jobs.artifacts import ArtifactStore
from spanledger.ner.spans import Span

KEPT = 2


class Predictor:
    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts
        self._taggers: OrderedDict[str, object] = OrderedDict()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predictor")

    def available(self, digest: str) -> bool:
        return self.artifacts.available(digest)

    def predict(self, digest: str, texts: Sequence[str]) -> list[list[Span]]:
        return self._thread.submit(self._predict, digest, list(texts)).result() if texts else []

    def _predict(self, digest: str, texts: list[str]) -> list[list[Span]]:
        from spanledger.ner.model import Tagger  # torch and flair load with the first prediction

        tagger = self._taggers.pop(digest, None) or Tagger(self.artifacts.path(digest))
        self._taggers[digest] = tagger
        while len(self._taggers) > KEPT:
            self._taggers.popitem(last=False)
        return tagger.predict(texts)
