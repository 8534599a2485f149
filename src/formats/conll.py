"""CoNLL-style files: a token and its tag per line, blank lines between sentences,
`-DOCSTART-` lines between documents; tags in IOB1, IOB2/BIO or BIOES (read alike).

Reading rebuilds each document's text: a sentence's tokens joined by spaces (ner.conll), its
sentences by line breaks, so every label has exact offsets. A file without `-DOCSTART-`
lines makes one document per sentence. Writing splits a text into tokens at whitespace and at every
label boundary (ner.tokens) and into sentences at its line breaks, so that a file read here
is written back token for token; labels that overlap another cannot be told in one tag column and are left out
(and counted).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from typing import Any

from spanledger.domain.errors import InvalidArgument
from spanledger.formats import FormatDocument, FormatLabel
from spanledger.ner.conll import read_sentences, to_labeled_text
from spanledger.ner.tokens import WHITESPACE_SEPARATED, tokenize

DOCSTART = "-DOCSTART-"
SCHEMES = ("BIO", "BIOES")


def read(data: bytes, name_prefix: str = "doc") -> list[FormatDocument]:
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidArgument("A CoNLL file must be UTF-8.", "body") from None
    documents: list[list[list[tuple[str, str]]]] = []
    chunk: list[str] = []
    starts = any(line.split()[:1] == [DOCSTART] for line in lines)

    def flush() -> None:
        try:
            sentences = list(read_sentences(chunk))
        except ValueError as error:  # "line N: expected a token and a tag"
            raise InvalidArgument(f"{error}.", "body") from None
        if starts:
            if sentences:
                documents.append(sentences)
        else:
            documents.extend([s] for s in sentences)
        chunk.clear()

    for line in lines:
        if line.split()[:1] == [DOCSTART]:
            flush()
            continue
        chunk.append(line)
    flush()
    out = []
    for i, sentences in enumerate(documents):
        texts = [to_labeled_text(tokens) for tokens in sentences]
        text, labels, offset = "\n".join(t.text for t in texts), [], 0
        for t in texts:
            labels += [FormatLabel(s.label, s.start + offset, s.end + offset, f"documents/{i}") for s in t.spans]
            offset += len(t.text) + 1
        out.append(FormatDocument(f"{name_prefix}{i + 1:05d}", text, tuple(labels), target=f"documents/{i}"))
    return out


def _tags(length: int, spans: list[tuple[int, int, str]], scheme: str) -> list[str]:
    tags = ["O"] * length
    for first, last, category in spans:  # token indexes, inclusive
        if scheme == "BIOES" and first == last:
            tags[first] = f"S-{category}"
            continue
        tags[first] = f"B-{category}"
        for k in range(first + 1, last + 1):
            tags[k] = f"{'E' if scheme == 'BIOES' and k == last else 'I'}-{category}"
    return tags


def write(documents: Iterable[Mapping[str, Any]], scheme: str = "BIO") -> tuple[list[str], int]:
    """The file's lines and the number of labels left out (overlapping another, or holding no
    token). A document's sentences are its lines, so a file read here is written back alike."""
    lines, left_out = [], 0
    for doc in documents:
        text = doc["text"]
        chosen, end = [], -1
        for category, offset, length in sorted(doc["labels"], key=lambda l: (l[1], -l[2], l[0])):
            if offset < end:
                left_out += 1
                continue
            chosen.append((offset, offset + length, category))
            end = offset + length
        tokens = tokenize(text, [b for s, e, _ in chosen for b in (s, e)], WHITESPACE_SEPARATED)
        starts = [start for start, _ in tokens]
        spans = []
        for s, e, category in chosen:
            first, last = bisect_left(starts, s), bisect_left(starts, e) - 1
            if first > last:
                left_out += 1
                continue
            spans.append((first, last, category))
        tags = _tags(len(tokens), spans, scheme)
        lines += [f"{DOCSTART}\tO", ""]
        for k, (start, stop) in enumerate(tokens):
            lines.append(f"{text[start:stop]}\t{tags[k]}")
            if k + 1 == len(tokens) or "\n" in text[stop:tokens[k + 1][0]]:
                lines.append("")
    return lines, left_out
