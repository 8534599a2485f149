"""Azure's project file (`projectFileVersion` 2022-05-01 and later) for custom entity
recognition: read and checked into what an import writes, and written from a project.

Azure keeps the texts in blob storage and names each document's `location` only; the texts
come to an import beside the file (`texts`, by location). Offsets are in the file's
`stringIndexType` (UTF-16 code units in Azure's own files) and become code points inside.
Every refusal names the JSON pointer of the offending field as its target
(`/assets/documents/3/entities/0/labels/2/offset`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from spanledger.domain.errors import DomainError, InvalidArgument
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.project import PROJECT_FIELDS

PROJECT_KIND = "CustomEntityRecognition"
FILE_VERSIONS = ("2022-05-01", "2022-10-01-preview", "2023-04-01", "2023-04-15-preview", "2024-11-15-preview",
                 "2025-05-15-preview")
EXPORT_VERSION = "2022-05-01"
DATASETS = ("Train", "Test")
# metadata field -> the project field it sets
_METADATA = {"language": "language", "description": "description", "multilingual": "multilingual",
             "settings": "settings", "storageInputContainerName": "storage_input_container_name"}


@dataclass(frozen=True)
class FileLabel:
    category: str
    offset: int  # code points
    length: int
    pointer: str


@dataclass(frozen=True)
class FileDocument:
    name: str
    text: str
    language: str | None
    dataset: str
    labels: tuple[FileLabel, ...]
    pointer: str


@dataclass(frozen=True)
class FormatLabel:
    """A label read from a JSONL or CoNLL file (package formats)."""

    category: str
    start: int  # code points
    end: int
    target: str  # where it came from in the file, for errors (lines/3/spans/1)


@dataclass(frozen=True)
class FormatDocument:
    name: str
    text: str
    labels: tuple[FormatLabel, ...]
    dataset: str = "Train"
    target: str = ""


@dataclass(frozen=True)
class ProjectFile:
    name: str
    fields: dict[str, Any]
    entities: tuple[str, ...]
    documents: tuple[FileDocument, ...]
    string_index_type: StringIndexType
    version: str

    @property
    def label_count(self) -> int:
        return sum(len(d.labels) for d in self.documents)


def pointer_target(error: DomainError, pointer: str) -> DomainError:
    """A domain check names `prefix.offset`; in a file, the field is `pointer/offset`."""
    target = error.target or ""
    if target.startswith("/"):
        return error  # a pointer already
    if target.startswith("."):
        target = target[1:]
    error.target = pointer + ("/" + target.replace(".", "/") if target else "")
    return error


def _fail(message: str, pointer: str) -> InvalidArgument:
    return InvalidArgument(message, pointer)


def _get(obj: Mapping[str, Any], key: str, pointer: str, kind: type | tuple[type, ...], required: bool = True) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise _fail(f"{key} is required.", f"{pointer}/{key}")
        return None
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        what = {"str": "a string", "int": "an integer", "bool": "a boolean", "list": "an array",
                "dict": "an object"}.get(names, names)
        raise _fail(f"{key} must be {what}.", f"{pointer}/{key}")
    return value


def read(body: Any, project_name: str, text_of: Callable[[str], str | None]) -> ProjectFile:
    """The file checked whole: it names this project, its kind, entities and documents; each
    document's text is found (`text_of(location)`, or the document's own `text` extension
    field) and each label lies in its region, in the text, on character boundaries."""
    if not isinstance(body, dict):
        raise _fail("The project file must be a JSON object.", "")
    version = _get(body, "projectFileVersion", "", str)
    if version not in FILE_VERSIONS:
        raise _fail(f"projectFileVersion must be one of {', '.join(FILE_VERSIONS)}.", "/projectFileVersion")
    unit_name = _get(body, "stringIndexType", "", str)
    try:
        unit = StringIndexType(unit_name)
    except ValueError:
        raise _fail("stringIndexType must be Utf16CodeUnit or UnicodeCodePoint.", "/stringIndexType") from None
    metadata = _get(body, "metadata", "", dict)
    fields = _metadata(metadata, project_name)
    assets = _get(body, "assets", "", dict)
    kind = _get(assets, "projectKind", "/assets", str)
    if kind != metadata["projectKind"]:
        raise _fail(f"assets.projectKind {kind!r} differs from metadata.projectKind {metadata['projectKind']!r}.",
                    "/assets/projectKind")
    entities = _entities(_get(assets, "entities", "/assets", list, required=False) or [])
    documents = _get(assets, "documents", "/assets", list, required=False) or []
    seen: dict[str, int] = {}
    read_documents = []
    for i, doc in enumerate(documents):
        pointer = f"/assets/documents/{i}"
        document = _document(doc, pointer, unit, set(entities), text_of)
        if document.name in seen:
            raise _fail(f"Document {document.name!r} is also /assets/documents/{seen[document.name]}.",
                        f"{pointer}/location")
        seen[document.name] = i
        read_documents.append(document)
    return ProjectFile(project_name, fields, tuple(entities), tuple(read_documents), unit, version)


def _metadata(metadata: dict[str, Any], project_name: str) -> dict[str, Any]:
    kind = _get(metadata, "projectKind", "/metadata", str)
    if kind != PROJECT_KIND:
        raise _fail(f"spanledger imports projectKind {PROJECT_KIND} only.", "/metadata/projectKind")
    name = _get(metadata, "projectName", "/metadata", str, required=False)
    if name is not None and name != project_name:
        raise _fail(f"metadata.projectName {name!r} differs from the project in the URL.", "/metadata/projectName")
    _get(metadata, "language", "/metadata", str)
    _get(metadata, "multilingual", "/metadata", bool, required=False)
    _get(metadata, "settings", "/metadata", dict, required=False)
    for key in ("description", "storageInputContainerName"):
        _get(metadata, key, "/metadata", str, required=False)
    return {field: metadata[key] if metadata.get(key) is not None else PROJECT_FIELDS[field]
            for key, field in _METADATA.items()}


def _entities(entities: list[Any]) -> list[str]:
    names: list[str] = []
    for i, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise _fail("An entity must be an object.", f"/assets/entities/{i}")
        name = _get(entity, "category", f"/assets/entities/{i}", str)
        if name in names:
            raise _fail(f"Entity {name!r} appears twice.", f"/assets/entities/{i}/category")
        names.append(name)
    return names


def _document(doc: Any, pointer: str, unit: StringIndexType, entities: set[str],
              text_of: Callable[[str], str | None]) -> FileDocument:
    if not isinstance(doc, dict):
        raise _fail("A document must be an object.", pointer)
    location = _get(doc, "location", pointer, str)
    inline = _get(doc, "text", pointer, str, required=False)  # spanledger's extension: the text itself
    text = inline if inline is not None else text_of(location)
    if text is None:
        raise _fail(f"No text for document {location!r}: add it to the project first, or give it as the "
                    "document's text field.", f"{pointer}/location")
    language = _get(doc, "language", pointer, str, required=False)
    dataset = _get(doc, "dataset", pointer, str, required=False) or "Train"
    if dataset not in DATASETS:
        raise _fail("dataset must be Train or Test.", f"{pointer}/dataset")
    offsets = OffsetMap(text)
    labels: list[FileLabel] = []
    for r, region in enumerate(_get(doc, "entities", pointer, list, required=False) or []):
        where = f"{pointer}/entities/{r}"
        if not isinstance(region, dict):
            raise _fail("A region must be an object.", where)
        start = _get(region, "regionOffset", where, int, required=False) or 0
        size = _get(region, "regionLength", where, int, required=False)
        try:
            region_start, region_length = (offsets.span_to_code_points(start, size, unit) if size
                                           else (start, 0))
        except DomainError as error:
            raise _fail(f"The region does not lie inside the text: {error.message}", f"{where}/regionOffset") from None
        for j, label in enumerate(_get(region, "labels", where, list, required=False) or []):
            at = f"{where}/labels/{j}"
            if not isinstance(label, dict):
                raise _fail("A label must be an object.", at)
            category = _get(label, "category", at, str)
            if category not in entities:
                raise _fail(f"Entity {category!r} is not one of the file's entities.", f"{at}/category")
            try:
                offset, length = offsets.span_to_code_points(_get(label, "offset", at, int),
                                                             _get(label, "length", at, int), unit)
            except DomainError as error:
                raise pointer_target(error, at) from None
            if size and not (region_start <= offset and offset + length <= region_start + region_length):
                raise _fail("The label lies outside its region.", f"{at}/offset")
            labels.append(FileLabel(category, offset, length, at))
    return FileDocument(location, text, language, dataset, tuple(labels), pointer)


def write(project: Mapping[str, Any], entities: list[str], documents: Iterable[Mapping[str, Any]],
          unit: StringIndexType) -> dict[str, Any]:
    """The project file for a project (`project`: its fields and name), its entity names and
    its documents (name, text, language, dataset, labels as code-point (category, offset,
    length)), offsets in `unit`; each document carries its text in spanledger's `text` field
    so that the file alone can be imported again."""
    file = _file_head(project, entities, unit)
    file["assets"]["documents"] = [_file_document(doc, unit) for doc in documents]
    return file


def write_chunks(project: Mapping[str, Any], entities: list[str], documents: Iterable[Mapping[str, Any]],
                 unit: StringIndexType) -> Iterator[bytes]:
    """The same file as `write`, as JSON bytes a document at a time: a project of any size is
    written without holding it whole."""
    head = orjson.dumps(_file_head(project, entities, unit))
    tail = b"]}}"  # the documents list closes assets, and assets the file (dict order)
    assert head.endswith(b"[" + tail)
    yield head[:-len(tail)]
    for i, doc in enumerate(documents):
        yield (b"," if i else b"") + orjson.dumps(_file_document(doc, unit))
    yield tail


def _file_head(project: Mapping[str, Any], entities: list[str], unit: StringIndexType) -> dict[str, Any]:
    fields = project["fields"]
    return {
        "projectFileVersion": EXPORT_VERSION,
        "stringIndexType": unit.value,
        "metadata": {
            "projectKind": PROJECT_KIND, "projectName": project["name"],
            **{key: fields[field] for key, field in _METADATA.items()},
        },
        "assets": {
            "projectKind": PROJECT_KIND,
            "entities": [{"category": name} for name in entities],
            "documents": [],
        },
    }


def _file_document(doc: Mapping[str, Any], unit: StringIndexType) -> dict[str, Any]:
    offsets = OffsetMap(doc["text"])
    _, region = offsets.span_from_code_points(0, len(doc["text"]), unit)
    labels = []
    for category, offset, length in sorted(doc["labels"], key=lambda l: (l[1], l[2], l[0])):
        o, n = offsets.span_from_code_points(offset, length, unit)
        labels.append({"category": category, "offset": o, "length": n})
    return {
        "location": doc["name"], "language": doc["language"], "dataset": doc["dataset"],
        "entities": [{"regionOffset": 0, "regionLength": region, "labels": labels}] if labels else [],
        "text": doc["text"],
    }
