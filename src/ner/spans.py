"""Entity spans: character offsets (code points) into a text, and an entity type."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str
    score: float = field(default=1.0, compare=False)  # the model's confidence, for predictions

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class LabeledText:
    """A text with the entity spans it is labeled with."""

    text: str
    spans: tuple[Span, ...] = ()
    name: str = ""
