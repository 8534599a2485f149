"""How long and in what steps to train, derived from the data a training gets.

A fixed mini-batch of 16 made one optimizer step per epoch on nine whole documents, and a
model that got every span wrong (DESIGN.md): few long sequences need small batches and more
epochs, many short ones the opposite. So the batch is sized to a number of tokens per step,
the epochs to a number of steps, and training ends earlier when its loss has converged (flair's
annealing on the training loss), or when its time is up. Pure arithmetic, no flair: the plan
is recorded with the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import ceil

TOKENS_PER_STEP = 400  # 16 tweets or sentences of ~25 tokens; one 400-token document sequence
MAX_BATCH = 16
MIN_STEPS_PER_EPOCH = 8
TARGET_STEPS = 800  # measured: F1 on 10 whole documents flat after 40-60 epochs of 10-13 steps
MIN_EPOCHS, MAX_EPOCHS = 30, 150
# Word vectors learned from the data, measured (bench/README.md): on whole documents -0.05 F1
# at ~2,800 tokens, none at ~7,000, +0.02-0.03 at 14,000-22,000; on 1,000 tweets (~20,000
# tokens, sequences of ~20) -0.01. So: whole documents (long sequences) with enough tokens.
LEARNED_WORDS_MIN_TOKENS = 10_000
LEARNED_WORDS_MIN_SEQUENCE = 100  # mean tokens a sequence: documents ~300-400, sentences ~20-30


@dataclass(frozen=True)
class Plan:
    mini_batch_size: int
    max_epochs: int
    steps_per_epoch: int
    sequences: int
    tokens: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def plan(sequence_lengths: list[int], *, mini_batch_size: int | None = None, max_epochs: int | None = None) -> Plan:
    """The mini-batch and epoch bound for sequences of these token counts; settings given
    explicitly (a recipe or an operator fixed them) are kept."""
    sequences, tokens = len(sequence_lengths), sum(sequence_lengths)
    if mini_batch_size is None:
        mean = tokens / sequences if sequences else 1
        by_tokens = round(TOKENS_PER_STEP / max(mean, 1))
        mini_batch_size = max(1, min(MAX_BATCH, by_tokens, sequences // MIN_STEPS_PER_EPOCH))
    steps = max(1, ceil(sequences / mini_batch_size))
    if max_epochs is None:
        max_epochs = max(MIN_EPOCHS, min(MAX_EPOCHS, ceil(TARGET_STEPS / steps)))
    return Plan(mini_batch_size, max_epochs, steps, sequences, tokens)


def learns_words(setting: bool | None, schedule: Plan) -> bool:
    """Whether a transformer recipe also learns word vectors from the data: as set, or when
    the training set is whole documents with enough tokens."""
    if setting is not None:
        return setting
    long = schedule.tokens >= LEARNED_WORDS_MIN_SEQUENCE * max(schedule.sequences, 1)
    return long and schedule.tokens >= LEARNED_WORDS_MIN_TOKENS


@dataclass
class Stopping:
    """How a training ends: the loss converged (flair halved the learning rate on a plateau of
    the training loss until it fell below its floor), the epochs ran out, or time did: it stops
    when another epoch would not fit in `max_seconds`."""

    max_seconds: float | None = None
    epochs: int = 0
    stopped_because: str = "maxEpochs"

    def after_epoch(self, elapsed: float) -> bool:
        """True to stop now; `elapsed` is the training's time so far, in seconds."""
        self.epochs += 1
        if self.max_seconds is not None and elapsed + elapsed / self.epochs > self.max_seconds:
            self.stopped_because = "timeLimit"
            return True
        return False


def min_learning_rate(learning_rate: float, anneals: int) -> float:
    """The floor below which flair stops training: reached at the `anneals`-th halving."""
    return learning_rate * 0.5 ** (anneals - 0.5)
