"""What happens to a model's spans after decoding, decided per model on its held-out
documents, and kept inside the model file so that every prediction applies the same.

- Merging: spans of one type that only spaces separate ("New" + "York") become one. It
  lifted F1 on contracts (DESIGN.md) but would join two names a corpus labels apart
  ("Mary Ann" as two people), so a model merges only if its training labels never hold two
  such spans and merging does not lower F1 on its held-out documents.
- Calibration: the span's probability mapped so that confidence c means about c right
  (ner.calibration), fitted on the held-out spans after merging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from spanledger.ner import calibration
from spanledger.ner.calibration import IDENTITY, Calibration
from spanledger.ner.evaluation import evaluate
from spanledger.ner.spans import LabeledText, Span

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))  # where precision by confidence is kept
FOLDS = 5


def _only_spaces(text: str, start: int, end: int) -> bool:
    return not text[start:end].strip(" \t")


def merge_adjacent(spans: Sequence[Span], text: str) -> list[Span]:
    """Joins spans of one type that only spaces or tabs separate (a line break keeps them
    apart); the joined span has the lower of their confidences."""
    merged: list[Span] = []
    for span in sorted(spans):
        last = merged[-1] if merged else None
        if last and last.label == span.label and last.end <= span.start and _only_spaces(text, last.end, span.start):
            merged[-1] = Span(last.start, span.end, span.label, min(last.score, span.score))
        else:
            merged.append(span)
    return merged


def labels_adjacent(docs: Sequence[LabeledText]) -> bool:
    """Whether any document holds two spans of one type that only spaces separate."""
    for doc in docs:
        ordered = sorted(doc.spans)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.label == b.label and a.end <= b.start and _only_spaces(doc.text, a.end, b.start):
                return True
    return False


@dataclass(frozen=True)
class Postprocessing:
    merge_adjacent: bool = True
    calibration: Calibration = field(default=IDENTITY)

    def apply(self, spans: Sequence[Span], text: str) -> list[Span]:
        kept = merge_adjacent(spans, text) if self.merge_adjacent else sorted(spans)
        return [replace(s, score=self.calibration(s.score)) for s in kept]

    def to_dict(self) -> dict[str, Any]:
        return {"mergeAdjacent": self.merge_adjacent, "calibration": self.calibration.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Postprocessing:
        """A model file's settings; a model from before they were kept merges and is uncalibrated."""
        if not data:
            return cls()
        return cls(bool(data["mergeAdjacent"]), Calibration(**data["calibration"]))


def _scored(predicted: Sequence[Sequence[Span]], gold: Sequence[Sequence[Span]]) -> list[tuple[Span, bool]]:
    """Each predicted span with whether it is right (exact offsets and type)."""
    out = []
    for spans, expected in zip(predicted, gold, strict=True):
        right = {(s.start, s.end, s.label) for s in expected}
        out.extend((s, (s.start, s.end, s.label) in right) for s in spans)
    return out


def _cross_fitted(scored: list[tuple[Span, bool]]) -> list[float]:
    """Each span's calibrated confidence by a map fitted without it (FOLDS folds by
    position), so the reported calibration error is not measured on the data it was fit on."""
    folds = min(FOLDS, len(scored))
    out = [0.0] * len(scored)
    for k in range(folds):
        rest = [(s.score, ok) for i, (s, ok) in enumerate(scored) if i % folds != k]
        fitted = calibration.fit(*zip(*rest, strict=True)) if rest else IDENTITY
        for i in range(k, len(scored), folds):
            out[i] = fitted(scored[i][0].score)
    return out


def by_confidence(scored: list[tuple[Span, bool]], gold: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Per entity type (and "*" for all): the held-out spans expected, and at each threshold
    the spans kept and how many of them are right: what a `minConfidence` would give."""
    types = sorted({s.label for s, _ in scored} | {s.label for spans in gold for s in spans})
    entities = {}
    for name in ["*", *types]:
        mine = [(s.score, ok) for s, ok in scored if name in ("*", s.label)]
        entities[name] = {
            "expected": sum(1 for spans in gold for s in spans if name in ("*", s.label)),
            "kept": [sum(1 for score, _ in mine if score >= t) for t in THRESHOLDS],
            "right": [sum(1 for score, ok in mine if ok and score >= t) for t in THRESHOLDS],
        }
    return {"thresholds": list(THRESHOLDS), "entities": entities}


def estimate(table: dict[str, Any], entity: str, min_confidence: float) -> dict[str, float | None]:
    """Precision and recall on the held-out documents at the highest threshold not above
    `min_confidence`, from a `by_confidence` table."""
    row = table["entities"].get(entity)
    if row is None:
        return {"precision": None, "recall": None}
    i = max(k for k, t in enumerate(table["thresholds"]) if t <= min_confidence + 1e-9)
    kept, right = row["kept"][i], row["right"][i]
    return {"precision": right / kept if kept else None,
            "recall": right / row["expected"] if row["expected"] else None}


def choose(raw: Sequence[Sequence[Span]], held_out: Sequence[LabeledText],
           training: Sequence[LabeledText]) -> tuple[Postprocessing, dict[str, Any]]:
    """The post-processing for a model, from its raw spans on held-out documents, and a
    report of how it was decided (recorded with the model)."""
    gold = [doc.spans for doc in held_out]
    merged = [merge_adjacent(spans, doc.text) for spans, doc in zip(raw, held_out, strict=True)]
    f1_merged, f1_raw = evaluate(gold, merged).micro.f1, evaluate(gold, raw).micro.f1
    adjacent_in_labels = labels_adjacent(training)
    merge = not adjacent_in_labels and f1_merged >= f1_raw
    spans = merged if merge else [sorted(s) for s in raw]
    scored = _scored(spans, gold)
    fitted = calibration.fit([s.score for s, _ in scored], [ok for _, ok in scored]) if scored else IDENTITY
    correct = [ok for _, ok in scored]
    report = {
        "mergeAdjacent": merge,
        "mergeReason": ("the training labels hold same-type spans that only spaces separate" if adjacent_in_labels
                        else f"held-out F1 {f1_merged:.3f} merged vs {f1_raw:.3f} not merged"),
        "calibration": {
            "method": "platt", **fitted.to_dict(), "heldOutSpans": len(scored),
            "calibrationError": {
                "raw": calibration.calibration_error([s.score for s, _ in scored], correct),
                "calibrated": calibration.calibration_error(_cross_fitted(scored), correct),
            },
        },
        "byConfidence": by_confidence([(replace(s, score=fitted(s.score)), ok) for s, ok in scored], gold),
    }
    return Postprocessing(merge, fitted), report
