"""Entity-level evaluation with exact spans, in the terms Azure's evaluation summary uses:
per entity type true/false positives and negatives, precision, recall, F1; micro and macro
averages; a confusion matrix [expected][predicted] in which `$none` stands for no entity."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spanledger.ner.spans import Span

NONE = "$none"


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


@dataclass
class EntityScores:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


@dataclass
class Evaluation:
    entities: dict[str, EntityScores] = field(default_factory=dict)
    # confusion[expected][predicted] = count, with NONE for a missing side
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def micro(self) -> EntityScores:
        total = EntityScores()
        for scores in self.entities.values():
            total.true_positives += scores.true_positives
            total.false_positives += scores.false_positives
            total.false_negatives += scores.false_negatives
        return total

    @property
    def macro_precision(self) -> float:
        return _ratio(sum(s.precision for s in self.entities.values()), len(self.entities))

    @property
    def macro_recall(self) -> float:
        return _ratio(sum(s.recall for s in self.entities.values()), len(self.entities))

    @property
    def macro_f1(self) -> float:
        return _ratio(sum(s.f1 for s in self.entities.values()), len(self.entities))


def evaluate(expected: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]],
             entity_types: Iterable[str] = ()) -> Evaluation:
    """Compares the spans of each document; a span counts only with the exact offsets and type.

    The confusion matrix pairs spans with the same offsets; a wrong type there counts once
    as a false negative (of the expected type) and once as a false positive (of the other).
    """
    result = Evaluation({name: EntityScores() for name in entity_types})
    for gold_spans, predicted_spans in zip(expected, predicted, strict=True):
        gold = {(s.start, s.end): s.label for s in gold_spans}
        guessed = {(s.start, s.end): s.label for s in predicted_spans}
        for where, label in gold.items():
            scores = result.entities.setdefault(label, EntityScores())
            other = guessed.get(where)
            if other == label:
                scores.true_positives += 1
            else:
                scores.false_negatives += 1
            result.confusion[label][other or NONE] += 1
        for where, label in guessed.items():
            scores = result.entities.setdefault(label, EntityScores())
            if gold.get(where) != label:
                scores.false_positives += 1
            if where not in gold:
                result.confusion[NONE][label] += 1
    return result
