"""Offsets between Python string indexes (code points, used everywhere inside) and UTF-16
code units (Azure's `stringIndexType: Utf16CodeUnit`, used by most clients).

A character outside the Basic Multilingual Plane (an emoji, say) is one code point but two
UTF-16 code units, so every offset after it differs by one per such character.
"""

from __future__ import annotations

from bisect import bisect_left
from enum import Enum

from spanledger.domain.errors import InvalidArgument


class StringIndexType(str, Enum):
    UTF16 = "Utf16CodeUnit"
    CODE_POINT = "UnicodeCodePoint"


class OffsetMap:
    """Converts the offsets of one text between code points and UTF-16 code units."""

    __slots__ = ("_astral", "_astral_utf16", "length", "utf16_length")

    def __init__(self, text: str):
        self._init(self.astral_of(text), len(text))

    @staticmethod
    def astral_of(text: str) -> list[int]:
        """The code point indexes of the characters that take two UTF-16 code units."""
        return [] if text.isascii() else [i for i, c in enumerate(text) if ord(c) > 0xFFFF]

    @classmethod
    def from_astral(cls, astral: list[int], length: int) -> OffsetMap:
        """From the code point indexes of a text's non-BMP characters, and its length."""
        self = cls.__new__(cls)
        self._init(astral, length)
        return self

    def _init(self, astral: list[int], length: int) -> None:
        # Positions (in code points) of the characters that take two UTF-16 code units.
        self._astral = astral
        self._astral_utf16 = [cp + n for n, cp in enumerate(astral)]
        self.length = length
        self.utf16_length = length + len(astral)

    def to_utf16(self, offset: int) -> int:
        return offset + bisect_left(self._astral, offset)

    def from_utf16(self, offset: int, target: str = "offset") -> int:
        before = bisect_left(self._astral_utf16, offset)
        if before and self._astral_utf16[before - 1] + 1 == offset:
            raise InvalidArgument(
                f"UTF-16 offset {offset} falls between the two code units of one character.",
                target,
            )
        return offset - before

    def span_to_code_points(
        self, offset: int, length: int, unit: StringIndexType, target: str = ""
    ) -> tuple[int, int]:
        """An (offset, length) pair in `unit`, checked to lie inside the text, as code points."""
        size = self.length if unit is StringIndexType.CODE_POINT else self.utf16_length
        prefix = f"{target}." if target else ""
        if offset < 0 or offset > size:
            raise InvalidArgument(
                f"Offset {offset} lies outside the text ({size} {unit.value} long).", prefix + "offset"
            )
        if length < 1 or offset + length > size:
            raise InvalidArgument(
                f"A label of length {length} at offset {offset} does not fit inside the text "
                f"({size} {unit.value} long).",
                prefix + "length",
            )
        if unit is StringIndexType.CODE_POINT or not self._astral:
            return offset, length
        start = self.from_utf16(offset, prefix + "offset")
        end = self.from_utf16(offset + length, prefix + "length")
        return start, end - start

    def span_from_code_points(self, offset: int, length: int, unit: StringIndexType) -> tuple[int, int]:
        if unit is StringIndexType.CODE_POINT or not self._astral:
            return offset, length
        start = self.to_utf16(offset)
        return start, self.to_utf16(offset + length) - start
