"""Reading CoNLL-style NER files (one `token <whitespace> tag` per line, a blank line between
sentences) into texts with exact character offsets.

The tokens of a sentence are joined with single spaces, so every token, and every entity,
has exact offsets into the text. Tags may be IOB2/BIO, IOB1 (an I- opening an entity), or
BIOES/BILOU; spans come out the same whichever the file uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from spanledger.ner.spans import LabeledText, Span

_BEGIN, _END, _SINGLE = set("B"), set("EL"), set("SU")


def read_sentences(lines: Iterable[str]) -> Iterator[list[tuple[str, str]]]:
    """(token, tag) pairs per sentence. Columns are tab-separated where the line has a tab,
    else whitespace-separated; the tag is the last column. A line of whitespace only (WNUT-17
    separates some sentences with a lone tab) ends a sentence; a token with no characters
    (BTC's test file has some) has nothing to place in the text and is skipped."""
    sentence: list[tuple[str, str]] = []
    for number, line in enumerate(lines, 1):
        columns = [c.strip() for c in line.rstrip("\r\n").split("\t")] if "\t" in line else line.split()
        if not any(columns):
            if sentence:
                yield sentence
                sentence = []
            continue
        if len(columns) < 2 or not columns[-1]:
            raise ValueError(f"line {number}: expected a token and a tag, got {line!r}")
        if columns[0]:
            sentence.append((columns[0], columns[-1]))
    if sentence:
        yield sentence


def to_labeled_text(tokens: list[tuple[str, str]], name: str = "") -> LabeledText:
    text_parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    open_start, open_label, open_end = -1, "", -1

    def close() -> None:
        nonlocal open_start
        if open_start >= 0:
            spans.append(Span(open_start, open_end, open_label))
            open_start = -1

    for token, tag in tokens:
        start, end = offset, offset + len(token)
        prefix, _, label = tag.partition("-")
        if tag == "O" or not label:
            close()
        elif prefix in _BEGIN or prefix in _SINGLE or open_start < 0 or label != open_label:
            close()
            open_start, open_label, open_end = start, label, end
        else:  # I/E/L continuing the open entity
            open_end = end
        if prefix in _END or prefix in _SINGLE:
            close()
        text_parts.append(token)
        offset = end + 1
    close()
    return LabeledText(" ".join(text_parts), tuple(spans), name)


def read_conll(path: str | Path, limit: int | None = None) -> list[LabeledText]:
    """The first `limit` sentences of a CoNLL file, each as a labeled text named by its number."""
    with Path(path).open(encoding="utf-8") as lines:
        sentences = islice(read_sentences(lines), limit)
        return [to_labeled_text(tokens, f"{Path(path).stem}-{i}") for i, tokens in enumerate(sentences)]
