"""Calibrating span confidences, so that a reviewer's `minConfidence=c` keeps suggestions of
which about a share c or more are right.

A model trained to convergence on a few documents is sure of nearly everything it predicts
on them and less right elsewhere. Platt scaling on held-out predictions corrects that:
p = sigmoid(a * logit(raw) + b), fitted by maximum a posteriori with a Gaussian prior centred
on the identity (a = 1, b = 0), so that a handful of held-out spans moves the map only a
little and many move it as far as they show. Two parameters and damped Newton steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import exp, log

_EPS = 1e-6


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + exp(-x)) if x >= 0 else exp(x) / (1 + exp(x))


@dataclass(frozen=True)
class Calibration:
    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: float) -> float:
        return _sigmoid(self.a * _logit(raw) + self.b)

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b}


IDENTITY = Calibration()


def fit(raw: Sequence[float], correct: Sequence[bool], prior_strength: float = 10.0) -> Calibration:
    """The Platt map from held-out spans' raw confidences and whether each was right.

    `prior_strength` is the prior's precision (1 / variance) on a and b: about as many
    spans as it takes to move the map far from the identity.
    """
    xs = [_logit(r) for r in raw]
    ys = [1.0 if c else 0.0 for c in correct]

    def loss(a: float, b: float) -> float:  # the negative log posterior
        total = prior_strength / 2 * ((a - 1) ** 2 + b ** 2)
        for x, y in zip(xs, ys, strict=True):
            z = a * x + b
            total += max(z, 0) - z * y + log(1 + exp(-abs(z)))  # log(1 + e^z) - z y, stably
        return total

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        ga, gb = prior_strength * (a - 1), prior_strength * b
        haa = hbb = prior_strength
        hab = 0.0
        for x, y in zip(xs, ys, strict=True):
            p = _sigmoid(a * x + b)
            ga += (p - y) * x
            gb += p - y
            w = p * (1 - p)
            haa += w * x * x
            hab += w * x
            hbb += w
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        step = 1.0  # Newton's step, halved until the posterior improves
        while step > 1e-8 and loss(a - step * da, b - step * db) > current:
            step /= 2
        a, b = a - step * da, b - step * db
        previous, current = current, loss(a, b)
        if previous - current < 1e-10:
            break
    return Calibration(a, b)


def calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, averaged over
    equal-width confidence bins weighted by their share of spans (0 when there are none)."""
    if not confidences:
        return 0.0
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, sum of confidences, right
    for c, ok in zip(confidences, correct, strict=True):
        slot = totals[min(int(c * bins), bins - 1)]
        slot[0] += 1
        slot[1] += c
        slot[2] += bool(ok)
    return sum(abs(s - right) for _, s, right in totals) / len(confidences)
