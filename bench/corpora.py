"""Whole-document corpora for the small-project benchmarks, from ../shared/data.

- GUM (gum-ner): 108 whole documents of about 4,700 characters, with the six entity types its
  README calls usable (person, place, organization, time, abstract, event).
- NCBI-disease: consecutive sentences of its CoNLL files joined into documents of about
  1,500 characters (abstracts are consecutive sentences there), one entity type (Disease).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from spanledger.ner.conll import read_conll  # noqa: E402
from spanledger.ner.spans import LabeledText, Span  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GUM_TYPES = {"person", "place", "organization", "time", "abstract", "event"}
DOCUMENT_CHARACTERS = 1500


def _gum(split: str) -> list[LabeledText]:
    docs = []
    for line in (DATA / "gum-ner" / f"{split}.jsonl").read_bytes().splitlines():
        d = orjson.loads(line)
        spans = tuple(Span(s["start"], s["end"], s["label"]) for s in d["spans"] if s["label"] in GUM_TYPES)
        docs.append(LabeledText(d["text"], spans, d["name"]))
    return docs


def _by_genre(docs: list[LabeledText]) -> list[LabeledText]:
    """Round robin over GUM's genres, so that any first N documents mix them (its README:
    genres differ, stratify small samples)."""
    genres: dict[str, list[LabeledText]] = defaultdict(list)
    for doc in docs:
        genres[doc.name.split("_")[1]].append(doc)
    ordered: list[LabeledText] = []
    for i in range(max(len(g) for g in genres.values())):
        ordered += [g[i] for _, g in sorted(genres.items()) if i < len(g)]
    return ordered


def gum() -> tuple[list[LabeledText], list[LabeledText]]:
    """(training pool, held-out): GUM's train split by genre, and its dev + test splits."""
    return _by_genre(_gum("train")), _gum("dev") + _gum("test")


def join_sentences(sentences: list[LabeledText], characters: int = DOCUMENT_CHARACTERS) -> list[LabeledText]:
    """Consecutive sentences joined by a space into documents of at least `characters`."""
    docs: list[LabeledText] = []
    text, spans = "", []
    for sentence in sentences:
        offset = len(text) + (1 if text else 0)
        text = f"{text} {sentence.text}" if text else sentence.text
        spans += [Span(s.start + offset, s.end + offset, s.label) for s in sentence.spans]
        if len(text) >= characters:
            docs.append(LabeledText(text, tuple(spans), f"doc{len(docs)}"))
            text, spans = "", []
    return docs


def ncbi(characters: int = DOCUMENT_CHARACTERS) -> tuple[list[LabeledText], list[LabeledText]]:
    """(training pool, held-out): documents from train.tsv, and from devel.tsv + test.tsv."""
    folder = DATA / "ncbi-disease"
    held_out = [doc for name in ("devel.tsv", "test.tsv") for doc in join_sentences(read_conll(folder / name), characters)]
    return join_sentences(read_conll(folder / "train.tsv"), characters), held_out


CORPORA = {"GUM": gum, "NCBI-docs": ncbi}
