"""The training itself, in a process of its own: torch uses every core there without
holding the server's GIL, and a crash of it cannot take the server down.

It trains on the texts it is given, decides the model's post-processing on the test texts
(ner.postprocess: merging, calibration), predicts them, and reports through a pipe:
("progress", fraction), ("done", result), ("cancelled", None) or ("error", reason). The
reason is short and safe to show the project's users; the traceback goes to the log.
"""

from __future__ import annotations

import logging
import os
import signal
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as StopEvent
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAX_REASON = 300


def run(pipe: Connection, stop: StopEvent, payload: dict[str, Any]) -> None:
    # Ctrl+C reaches the whole process group: the worker decides what becomes of the job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING)
    parent = os.getppid()
    try:
        from spanledger.ner.model import Tagger, TrainingCancelled, train
        from spanledger.ner.postprocess import choose
        from spanledger.ner.recipes import Recipe
        from spanledger.ner.spans import LabeledText, Span

        recipe = Recipe(**payload["recipe"])

        def documents(rows: list) -> list[LabeledText]:
            return [LabeledText(text, tuple(Span(o, o + n, e) for o, n, e in labels), name)
                    for name, text, labels in rows]

        train_docs, test_docs = documents(payload["train"]), documents(payload["test"])
        try:
            trained = train(train_docs, recipe, Path(payload["work_dir"]), threads=payload["threads"],
                            progress=lambda done: pipe.send(("progress", done)),
                            should_stop=lambda: stop.is_set() or os.getppid() != parent)
        except TrainingCancelled:
            pipe.send(("cancelled", None))
            return
        tagger = Tagger(trained.path)
        texts = [d.text for d in test_docs]
        postprocessing, report = choose(tagger.predict(texts, raw=True), test_docs, train_docs)
        tagger.keep(postprocessing, trained.path)
        predicted = tagger.predict(texts)
        pipe.send(("done", {
            "model": str(trained.path),
            "entity_types": tagger.entity_types,
            "seconds": trained.seconds,
            "run": trained.run(),
            "postprocessing": report,
            "predicted": [[(s.start, s.length, s.label, round(s.score, 4)) for s in spans] for spans in predicted],
        }))
    except Exception as error:  # reported to the job, which records TrainingFailed
        log.exception("training failed")
        pipe.send(("error", f"Training failed: {type(error).__name__}: {error}"[:MAX_REASON]))
