"""The training itself, in a process of its own: torch uses every core there without
holding the server's GIL, and a crash of it cannot take the server down.

It trains on the texts it is given, predicts the test texts, and reports through a pipe:
("progress", fraction), ("done", result) or ("error", message).
"""

from __future__ import annotations

import logging
import traceback
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as StopEvent
from pathlib import Path
from typing import Any


def run(pipe: Connection, stop: StopEvent, payload: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        from ner.model import Tagger, TrainingCancelled, train
        from ner.recipes import Recipe
        from ner.spans import LabeledText, Span

        recipe = Recipe(**payload["recipe"])
        docs = [LabeledText(text, tuple(Span(o, o + n, e) for o, n, e in labels), name)
                for name, text, labels in payload["train"]]
        try:
            trained = train(docs, recipe, Path(payload["work_dir"]),
                            progress=lambda done: pipe.send(("progress", done)), should_stop=stop.is_set)
        except TrainingCancelled:
            pipe.send(("cancelled", None))
            return
        predicted = Tagger(trained.path).predict(payload["test"])
        pipe.send(("done", {
            "model": str(trained.path),
            "seconds": trained.seconds,
            "predicted": [[(s.start, s.length, s.label) for s in spans] for spans in predicted],
        }))
    except Exception as error:  # reported to the job, which records TrainingFailed
        pipe.send(("error", f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"))
