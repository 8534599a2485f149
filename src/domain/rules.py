"""The labeling rules that do not need an aggregate's state: names, sizes, limits."""

from __future__ import annotations

import re

from domain.errors import Conflict, InvalidArgument

CHARACTERS_PER_TEXT_RECORD = 1000
MAX_ENTITIES_PER_PROJECT = 200
MAX_DOCUMENTS_PER_PROJECT = 100_000
MAX_DOCUMENT_CHARACTERS = 128_000
MAX_LABEL_CHARACTERS = 500
DATASETS = ("Train", "Test")

_PROJECT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,50}")
_ENTITY_FORBIDDEN = set(":$&%*()+~#/?")
_DOCUMENT_FORBIDDEN = set("/\\?#%:")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
MAX_LANGUAGE_TAG = 32


def text_records(characters: int) -> int:
    """Auto-labeling bills a document ceil(characters / 1000) text records."""
    return -(-characters // CHARACTERS_PER_TEXT_RECORD)


def check_project_name(name: str, target: str = "projectName") -> str:
    if not isinstance(name, str) or not _PROJECT_NAME.fullmatch(name):
        raise InvalidArgument(
            f"Project name {name!r} is invalid: use 1-50 letters, digits, '_', '.' or '-'.",
            target,
        )
    return name


def check_entity_name(name: str, target: str = "category") -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 50:
        raise InvalidArgument("Entity names must be 1-50 characters long.", target)
    bad = sorted(_ENTITY_FORBIDDEN.intersection(name))
    if bad:
        raise InvalidArgument(
            f"Entity name {name!r} contains forbidden characters {' '.join(bad)}.", target
        )
    if name != name.strip() or any(ord(c) < 32 for c in name):
        raise InvalidArgument(
            "Entity names may not start or end with spaces or contain control characters.", target
        )
    return name


def check_document_name(name: str, target: str = "documentName") -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        raise InvalidArgument("Document names must be 1-128 characters long.", target)
    bad = sorted(_DOCUMENT_FORBIDDEN.intersection(name))
    if bad:
        raise InvalidArgument(
            f"Document name {name!r} contains forbidden characters {' '.join(bad)}.", target
        )
    if name != name.strip() or any(ord(c) < 32 for c in name):
        raise InvalidArgument(
            "Document names may not start or end with spaces or contain control characters.",
            target,
        )
    return name


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
