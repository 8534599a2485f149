import pytest

from spanledger.domain.errors import InvalidArgument
from spanledger.domain.rules import (
    MAX_DOCUMENT_CHARACTERS,
    check_document_name,
    check_document_text,
    check_entity_name,
    check_language,
    check_project_name,
    text_records,
)


@pytest.mark.parametrize(("characters", "records"), [(1, 1), (999, 1), (1000, 1), (1001, 2), (128_000, 128)])
def test_text_records_are_ceil_characters_per_thousand(characters, records):
    assert text_records(characters) == records


@pytest.mark.parametrize("name", ["a", "Contracts_2024.v1-final", "x" * 50])
def test_project_names_allowed(name):
    assert check_project_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 51, "has space", "slash/name", "ümlaut", "colon:"])
def test_project_names_refused(name):
    with pytest.raises(InvalidArgument) as error:
        check_project_name(name)
    assert error.value.target == "projectName"


@pytest.mark.parametrize("name", ["Person", "Due date", "e-mail", "x" * 50, "Größe"])
def test_entity_names_allowed(name):
    assert check_entity_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 51, *[f"a{c}b" for c in ":$&%*()+~#/?"], " lead", "trail "])
def test_entity_names_refused(name):
    with pytest.raises(InvalidArgument) as error:
        check_entity_name(name)
    assert error.value.target == "category"


def test_document_text_limits():
    assert check_document_text("x") == "x"
    assert check_document_text("x" * MAX_DOCUMENT_CHARACTERS)
    for bad in ("", "x" * (MAX_DOCUMENT_CHARACTERS + 1)):
        with pytest.raises(InvalidArgument) as error:
            check_document_text(bad)
        assert error.value.target == "text"


@pytest.mark.parametrize("name", ["", "a/b", "a?b", "a#b", "a:b", " x", "x" * 129])
def test_document_names_refused(name):
    with pytest.raises(InvalidArgument):
        check_document_name(name)


def test_language_tags_are_normalised_and_checked():
    assert check_language("en-US") == "en-us"
    with pytest.raises(InvalidArgument):
        check_language("english!")
