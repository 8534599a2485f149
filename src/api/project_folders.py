"""Project files on disk, as Azure's samples and exports ship them: a folder or a zip holding
the project file (JSON) and each document's text beside it, named by its `location`.

Texts are read and written as UTF-8 bytes, untouched (CRLF stays CRLF). A location is looked
up as a member of the folder or zip and never as a path outside it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from spanledger.domain.errors import InvalidArgument


def _is_project_file(data: bytes) -> bool:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and "projectFileVersion" in value


class _Source:
    """The members of a folder or a zip, by their relative POSIX names."""

    def __init__(self, path: Path):
        self.path = path
        if zipfile.is_zipfile(path):
            self.zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
            self.names = {n for n in self.zip.namelist() if not n.endswith("/")}
        elif path.is_dir():
            self.zip = None
            self.names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
        else:
            raise InvalidArgument(f"{path} is neither a folder nor a zip file.", "path")

    def read(self, name: str) -> bytes | None:
        if name not in self.names:  # only what the listing holds: no "..", no absolute paths
            return None
        return self.zip.read(name) if self.zip else (self.path / name).read_bytes()


def read_folder(path: Path) -> tuple[dict[str, Any], bytes]:
    """The project file found in the folder or zip, each document's text put in its `text`
    field from the member its location names (when there is one); and the file's bytes."""
    source = _Source(path)
    candidates = [n for n in sorted(source.names) if n.lower().endswith(".json")]
    files = [(n, data) for n in candidates if (data := source.read(n)) is not None and _is_project_file(data)]
    if len(files) != 1:
        found = ", ".join(n for n, _ in files) or "none"
        raise InvalidArgument(f"{path} must hold one project file (JSON with projectFileVersion); found {found}.",
                              "path")
    name, raw = files[0]
    body = orjson.loads(raw)
    folder = PurePosixPath(name).parent
    documents = body.get("assets", {}).get("documents") if isinstance(body.get("assets"), dict) else None
    for doc in documents if isinstance(documents, list) else []:
        if isinstance(doc, dict) and "text" not in doc and isinstance(doc.get("location"), str):
            data = source.read((folder / doc["location"]).as_posix())
            if data is not None:
                try:
                    doc["text"] = data.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidArgument(f"{doc['location']} is not UTF-8.", "location") from None
    return body, raw


def write_folder(file: dict[str, Any], path: Path) -> list[Path]:
    """The project file as `<projectName>.json` (Azure's form: locations, no texts) and each
    text beside it; `path` is a folder (made if missing) or a name ending in .zip."""
    texts = {d["location"]: d.pop("text") for d in file["assets"]["documents"]}
    name = f"{file['metadata']['projectName']}.json"
    if name in texts:
        raise InvalidArgument(f"A document is named {name!r}, as the project file would be.", "location")
    members = {name: orjson.dumps(file, option=orjson.OPT_INDENT_2)}
    members |= {location: text.encode("utf-8") for location, text in texts.items()}
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for name, data in members.items():
                out.writestr(name, data)
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        (path / name).write_bytes(data)
    return [path / name for name in members]
