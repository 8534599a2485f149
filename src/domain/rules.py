"""The labeling rules that do not need an aggregate's state: names, sizes, limits."""

from __future__ import annotations

import re
import unicodedata

from spanledger.domain.errors import Conflict, InvalidArgument

CHARACTERS_PER_TEXT_RECORD = 1000
MAX_ENTITIES_PER_PROJECT = 200
MAX_DOCUMENTS_PER_PROJECT = 100_000
MAX_DOCUMENT_CHARACTERS = 128_000
MAX_LABEL_CHARACTERS = 500
MAX_LABELS_PER_DOCUMENT = 10_000
DATASETS = ("Train", "Test")

_PROJECT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,50}")
_ENTITY_FORBIDDEN = set(":$&%*()+~#/?")
_DOCUMENT_FORBIDDEN = set("/\\?#%:")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
MAX_LANGUAGE_TAG = 32
# Words the routes use where a project name goes (/projects/global/training-config-versions).
RESERVED_PROJECT_NAMES = frozenset({"global"})
# Unicode categories no name may hold: controls, format characters (bidi overrides, zero-width
# joiners, the BOM), surrogates, private use and unassigned code points.
_NOT_IN_NAMES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def text_records(characters: int) -> int:
    """Auto-labeling bills a document ceil(characters / 1000) text records."""
    return -(-characters // CHARACTERS_PER_TEXT_RECORD)


def name_problem(name: object, max_length: int = 200) -> str | None:
    """What is wrong with a name, by the rules every kind of name shares (None if nothing):
    1 to `max_length` characters, Unicode NFC, no control, format or unassigned characters,
    no spaces at its ends, and not "." or ".." (path segments that mean something else)."""
    if not isinstance(name, str) or not 1 <= len(name) <= max_length:
        return f"must be 1-{max_length} characters long"
    if name in (".", ".."):
        return "may not be '.' or '..'"
    if any(unicodedata.category(c) in _NOT_IN_NAMES for c in name):
        return "may not contain control, format (bidi, zero-width, BOM) or unassigned characters"
    if unicodedata.normalize("NFC", name) != name:
        return "must be in Unicode normal form NFC"
    if name != name.strip():
        return "may not start or end with spaces"
    return None


def _check_name(kind: str, name: object, target: str, max_length: int, forbidden: set[str] = frozenset()) -> str:
    problem = name_problem(name, max_length)
    if problem:
        raise InvalidArgument(f"{kind} names {problem}.", target)
    assert isinstance(name, str)
    bad = sorted(forbidden.intersection(name))
    if bad:
        raise InvalidArgument(f"{kind} name {name!r} contains forbidden characters {' '.join(bad)}.", target)
    return name


def check_project_name(name: str, target: str = "projectName") -> str:
    if not isinstance(name, str) or not _PROJECT_NAME.fullmatch(name) or name in (".", ".."):
        raise InvalidArgument(
            f"Project name {name!r} is invalid: use 1-50 letters, digits, '_', '.' or '-'.",
            target,
        )
    if name.lower() in RESERVED_PROJECT_NAMES:
        raise InvalidArgument(f"Project name {name!r} is reserved: the routes use it.", target)
    return name


def check_entity_name(name: str, target: str = "category") -> str:
    return _check_name("Entity", name, target, 50, _ENTITY_FORBIDDEN)


def check_document_name(name: str, target: str = "documentName") -> str:
    return _check_name("Document", name, target, 128, _DOCUMENT_FORBIDDEN)


def check_no_nul(value: str, target: str) -> str:
    """NUL cannot be stored in a PostgreSQL text column (nor means anything in a text)."""
    if "\x00" in value:
        raise InvalidArgument("The value contains a NUL character (U+0000).", target)
    return value


def check_document_text(text: str, target: str = "text") -> str:
    if not isinstance(text, str) or not text:
        raise InvalidArgument("A document needs a text of at least 1 character.", target)
    check_no_nul(text, target)
    if len(text) > MAX_DOCUMENT_CHARACTERS:
        raise InvalidArgument(
            f"The text has {len(text)} characters; at most {MAX_DOCUMENT_CHARACTERS} are allowed.",
            target,
        )
    return text


def check_document_capacity(existing: int, adding: int) -> None:
    if existing + adding > MAX_DOCUMENTS_PER_PROJECT:
        raise Conflict(
            f"The project holds {existing} documents; adding {adding} would pass the limit of "
            f"{MAX_DOCUMENTS_PER_PROJECT}.",
            "documents",
        )


def check_language(language: str, target: str = "language") -> str:
    if not isinstance(language, str) or len(language) > MAX_LANGUAGE_TAG or not _LANGUAGE.fullmatch(language):
        raise InvalidArgument(
            f"Language {language!r} is not a language tag such as 'en' or 'en-us'.", target
        )
    return language.lower()


def check_dataset(dataset: str, target: str = "dataset") -> str:
    if dataset not in DATASETS:
        raise InvalidArgument(f"Dataset must be one of {', '.join(DATASETS)}.", target)
    return dataset
