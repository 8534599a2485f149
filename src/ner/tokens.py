"""Tokens with character offsets, split so that every label boundary is a token boundary.

Words and single punctuation marks are tokens (`\\w+|[^\\w\\s]`): "$38,714.00" gives
"$", "38", ",", "714", ".", "00" and "(5%)" gives "(", "5", "%", ")". flair's default
tokenizer keeps brackets and currency signs attached, which made such labels unlearnable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"\w+|[^\w\s]")


WHITESPACE_SEPARATED = re.compile(r"\S+")


def tokenize(text: str, boundaries: Iterable[int] = (), pattern: re.Pattern[str] = _TOKEN) -> list[tuple[int, int]]:
    """(start, end) of each token (`pattern`'s matches); a token that a boundary falls inside
    is split there."""
    cuts = sorted(set(boundaries))
    tokens: list[tuple[int, int]] = []
    i = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        while i < len(cuts) and cuts[i] <= start:
            i += 1
        j = i
        while j < len(cuts) and cuts[j] < end:
            tokens.append((start, cuts[j]))
            start = cuts[j]
            j += 1
        tokens.append((start, end))
    return tokens
