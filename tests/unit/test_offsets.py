import pytest

from spanledger.domain.errors import InvalidArgument
from spanledger.domain.offsets import OffsetMap, StringIndexType

UTF16 = StringIndexType.UTF16
CP = StringIndexType.CODE_POINT
TEXT = "a😀b👍🏽c"  # 😀 and 👍 and the skin-tone modifier are outside the BMP


def utf16_index(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


def test_code_point_and_utf16_offsets_round_trip_for_every_position():
    offsets = OffsetMap(TEXT)
    assert offsets.utf16_length == len(TEXT.encode("utf-16-le")) // 2
    for start in range(len(TEXT)):
        for end in range(start + 1, len(TEXT) + 1):
            u_start, u_length = offsets.span_from_code_points(start, end - start, UTF16)
            assert u_start == utf16_index(TEXT, start)
            assert u_start + u_length == utf16_index(TEXT, end)
            assert offsets.span_to_code_points(u_start, u_length, UTF16) == (start, end - start)


def test_an_offset_inside_a_surrogate_pair_is_refused():
    with pytest.raises(InvalidArgument) as error:
        OffsetMap(TEXT).span_to_code_points(2, 1, UTF16, "add[0]")  # between the halves of 😀
    assert error.value.target == "add[0].offset"


@pytest.mark.parametrize(("offset", "length", "target"), [(-1, 1, "offset"), (0, 0, "length"), (5, 5, "length")])
def test_spans_outside_the_text_are_refused(offset, length, target):
    with pytest.raises(InvalidArgument) as error:
        OffsetMap("hello").span_to_code_points(offset, length, CP)
    assert error.value.target == target


def test_from_astral_matches_scanning_the_text():
    scanned = OffsetMap(TEXT)
    rebuilt = OffsetMap.from_astral([1, 3, 4], len(TEXT))
    assert [rebuilt.to_utf16(i) for i in range(len(TEXT) + 1)] == [scanned.to_utf16(i) for i in range(len(TEXT) + 1)]


def test_ascii_text_needs_no_conversion():
    assert OffsetMap("plain").span_from_code_points(1, 3, UTF16) == (1, 3)
