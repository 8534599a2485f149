"""Turning texts into flair sentences (and back): tokens keep their character offsets,
label boundaries are token boundaries, and long texts are cut into sequences of at most
MAX_TOKENS tokens at sentence ends, never inside a labeled span.

Long context helped most in our measurements (DESIGN.md: one line per sentence 0.55 F1,
paragraphs 0.80, whole documents 0.83-0.86), so a sequence is as much of a document as fits.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from flair.data import Sentence, Token

from spanledger.ner.spans import LabeledText, Span
from spanledger.ner.tokens import tokenize

MAX_TOKENS = 400
TAG_TYPE = "ner"
_SENTENCE_END = {".", "!", "?", ";", "\n"}


@dataclass
class Sequence:
    """One flair sentence and the character offsets of its tokens in the whole text."""

    sentence: Sentence
    offsets: list[tuple[int, int]]
    document: int  # index of the text it came from


def _cuts(text: str, tokens: list[tuple[int, int]], inside: set[int]) -> list[int]:
    """Token indexes where a new sequence starts."""
    cuts, start = [], 0
    while len(tokens) - start > MAX_TOKENS:
        end = start + MAX_TOKENS
        allowed = [i for i in range(end, start, -1) if tokens[i][0] not in inside]
        preferred = [i for i in allowed if text[tokens[i - 1][0]:tokens[i - 1][1]] in _SENTENCE_END
                     or "\n" in text[tokens[i - 1][1]:tokens[i][0]]]
        start = (preferred or allowed or [end])[0]
        cuts.append(start)
    return cuts


def to_sequences(texts: list[LabeledText], with_labels: bool) -> list[Sequence]:
    sequences = []
    for index, doc in enumerate(texts):
        boundaries = [b for s in doc.spans for b in (s.start, s.end)] if with_labels else []
        tokens = tokenize(doc.text, boundaries)
        if not tokens:
            continue
        inside = {p for s in doc.spans for p in range(s.start + 1, s.end)} if with_labels else set()
        bounds = [0, *_cuts(doc.text, tokens, inside), len(tokens)]
        for first, last in zip(bounds, bounds[1:], strict=False):
            offsets = tokens[first:last]
            flair_tokens = []
            for k, (s, e) in enumerate(offsets):
                token = Token(doc.text[s:e], start_position=s)
                token.whitespace_after = (offsets[k + 1][0] - e) if k + 1 < len(offsets) else 0
                flair_tokens.append(token)
            sentence = Sentence(flair_tokens)
            if with_labels:
                _label(sentence, offsets, doc.spans)
            sequences.append(Sequence(sentence, offsets, index))
    return sequences


def _label(sentence: Sentence, offsets: list[tuple[int, int]], spans: tuple[Span, ...]) -> None:
    """Tags the tokens inside each span; a span edge in whitespace (a label that took a space
    with it) moves inwards to the nearest token."""
    starts = [s for s, _ in offsets]
    ends = [e for _, e in offsets]
    for span in spans:
        first, last = bisect_left(starts, span.start), bisect_right(ends, span.end) - 1
        if first <= last:
            sentence[first:last + 1].add_label(TAG_TYPE, span.label)


def predicted_spans(sequence: Sequence, label_name: str = TAG_TYPE) -> list[Span]:
    """The spans flair predicted on a sequence, as character offsets into its text."""
    spans: list[Span] = []
    for flair_span in sequence.sentence.get_spans(label_name):
        first, last = flair_span.tokens[0].idx - 1, flair_span.tokens[-1].idx - 1
        label = flair_span.get_label(label_name)
        spans.append(Span(sequence.offsets[first][0], sequence.offsets[last][1], label.value, label.score))
    return spans
