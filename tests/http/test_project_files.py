"""Azure project files over HTTP: export, import, round trips byte for byte, refusals that name
the JSON pointer of the offending field and leave nothing behind."""

import copy
import hashlib

import httpx
import orjson
import pytest

from spanledger.api.project_export import PAGE

# CRLF line ends and characters outside the BMP (two UTF-16 code units each) must survive.
TEXTS = {
    "loan1.txt": "Borrower: Ana \U0001F600 Silva\r\nLender: Acme Bank\r\nCity: Porto\r\n",
    "loan2.txt": "Lender \U0001D49C\U0001D49D Corp lends to Bob Jones.",
    "empty-labels.txt": "Nothing to see here.",
}


def _poll(api, response: httpx.Response) -> dict:
    assert response.status_code == 202, response.text
    job = api.get(response.headers["Operation-Location"])
    assert job.status_code == 200, job.text
    assert job.json()["status"] == "succeeded"
    return job.json()


def _export(api, project: str, **params) -> dict:
    job = _poll(api, api.post(f"/{project}/:export", params=params))
    result = api.get(job["resultUrl"])
    assert result.status_code == 200 and result.headers["content-type"] == "application/json"
    return result.json()


def _label(api, project, document, category, text, unit="Utf16CodeUnit"):
    """Labels `text` where it first occurs, the offset in `unit`."""
    full = TEXTS[document]
    start = full.index(text)
    encode = (lambda s: len(s.encode("utf-16-le")) // 2) if unit == "Utf16CodeUnit" else len
    body = {"category": category, "offset": encode(full[:start]), "length": encode(text)}
    assert api.post(f"/{project}/documents/{document}/labels", json=body,
                    params={"stringIndexType": unit}).status_code == 201


@pytest.fixture
def labeled(api):
    project = api.new_project(entities=("Person", "Org", "City"))
    for name, text in TEXTS.items():
        dataset = "Test" if name == "loan2.txt" else "Train"
        assert api.put(f"/{project}/documents/{name}", json={"text": text, "dataset": dataset}).status_code == 201
    _label(api, project, "loan1.txt", "Person", "Ana \U0001F600 Silva")
    _label(api, project, "loan1.txt", "Org", "Acme Bank")
    _label(api, project, "loan1.txt", "City", "Porto")
    _label(api, project, "loan2.txt", "Org", "\U0001D49C\U0001D49D Corp")
    _label(api, project, "loan2.txt", "Person", "Bob Jones")
    return project


def _renamed(file: dict, project: str) -> dict:
    file = copy.deepcopy(file)
    file["metadata"]["projectName"] = project
    return file


@pytest.mark.parametrize("unit", ["Utf16CodeUnit", "UnicodeCodePoint"])
def test_export_import_export_gives_the_same_file_byte_for_byte(api, labeled, unit):
    first = _export(api, labeled, stringIndexType=unit)
    assert first["stringIndexType"] == unit and first["metadata"]["projectName"] == labeled
    documents = {d["location"]: d for d in first["assets"]["documents"]}
    assert {k: d["text"] for k, d in documents.items()} == TEXTS
    person = documents["loan1.txt"]["entities"][0]["labels"][0]
    astral = 2 if unit == "Utf16CodeUnit" else 1  # the emoji inside the name
    assert person == {"category": "Person", "offset": 10, "length": 10 + astral}

    copy_name = api.new_project(entities=())
    _poll(api, api.post(f"/{copy_name}/:import", json=_renamed(first, copy_name)))
    second = _export(api, copy_name, stringIndexType=unit)
    assert second == _renamed(first, copy_name)
    labels = api.get(f"/{copy_name}/documents/loan1.txt").json()["labels"]
    assert [(l["category"], l["offset"], l["length"]) for l in labels] == [
        ("Person", 10, 12), ("Org", 32, 9), ("City", 49, 5)]  # read back in UTF-16, the default


def test_an_azure_file_without_texts_takes_them_from_the_project_and_replaces_it(api, labeled):
    file = _export(api, labeled)
    for doc in file["assets"]["documents"]:
        del doc["text"]  # as Azure writes it: locations only
    file["assets"]["documents"] = [d for d in file["assets"]["documents"] if d["location"] != "empty-labels.txt"]
    file["assets"]["entities"].append({"category": "Date"})
    file["metadata"]["description"] = "imported"
    before = api.get(f"/{labeled}/events").json()["value"]

    _poll(api, api.post(f"/{labeled}/:import", json=file, headers={"format": "json"}))
    assert api.get(f"/{labeled}").json()["description"] == "imported"
    names = [d["name"] for d in api.get(f"/{labeled}/documents").json()["value"]]
    assert names == ["loan1.txt", "loan2.txt"]  # replaced: the document the file lacks is gone
    assert api.get(f"/{labeled}/documents/loan2.txt").json()["text"] == TEXTS["loan2.txt"]
    assert [e["category"] for e in api.get(f"/{labeled}/entities").json()["value"]] == ["City", "Date", "Org",
                                                                                        "Person"]
    events = api.get(f"/{labeled}/events").json()["value"]  # the new life of the project
    kinds = [e["eventType"] for e in events]
    assert kinds[0] == "ProjectCreated" and "ProjectImported" in kinds and len(events) < len(before) + 12
    imported = next(e for e in events if e["eventType"] == "ProjectImported")
    assert imported["data"]["documents"] == 2 and imported["data"]["labels"] == 5
    assert len(imported["data"]["digest"]) == 64 and imported["actor"].startswith("key:")


def _refused(api, project: str, file: dict, pointer: str) -> None:
    response = api.post(f"/{project}/:import", json=file)
    # 409: a file the project's rules refuse (overlapping labels)
    assert response.status_code == (409 if pointer.endswith("labels/3/offset") else 400), response.text
    assert response.json()["error"]["target"] == pointer, response.json()


BAD_FILES = [
    ("kinds differ", lambda f: f["assets"].update(projectKind="CustomSingleLabelClassification"),
     "/assets/projectKind"),
    ("multilingual not a boolean", lambda f: f["metadata"].update(multilingual="yes"), "/metadata/multilingual"),
    ("unknown category", lambda f: f["assets"]["documents"][1]["entities"][0]["labels"][1].update(category="Pet"),
     "/assets/documents/1/entities/0/labels/1/category"),
    ("label outside the text", lambda f: f["assets"]["documents"][1]["entities"][0]["labels"][0].update(offset=900),
     "/assets/documents/1/entities/0/labels/0/offset"),
    ("label outside its region", lambda f: f["assets"]["documents"][1]["entities"][0].update(regionLength=3),
     "/assets/documents/1/entities/0/labels/0/offset"),
    ("label splitting a surrogate pair",
     lambda f: f["assets"]["documents"][1]["entities"][0]["labels"][0].update(offset=8, length=3),
     "/assets/documents/1/entities/0/labels/0/offset"),
    ("overlap the project forbids",
     lambda f: f["assets"]["documents"][0]["entities"][0]["labels"].append(
         {"category": "Org", "offset": 12, "length": 4}),
     "/assets/documents/0/entities/0/labels/3/offset"),
    ("missing text", lambda f: f["assets"]["documents"].append({"location": "nowhere.txt", "dataset": "Train"}),
     "/assets/documents/3/location"),
    ("offset not an integer", lambda f: f["assets"]["documents"][0]["entities"][0]["labels"][0].update(offset="1"),
     "/assets/documents/0/entities/0/labels/0/offset"),
    ("bad document name", lambda f: f["assets"]["documents"][2].update(location="a/b.txt"),
     "/assets/documents/2/location"),
    ("bad dataset", lambda f: f["assets"]["documents"][2].update(dataset="Dev"), "/assets/documents/2/dataset"),
    ("another project's name", lambda f: f["metadata"].update(projectName="other"), "/metadata/projectName"),
]


@pytest.mark.parametrize("mistake", BAD_FILES, ids=[m[0] for m in BAD_FILES])
def test_a_refused_file_names_the_field_and_leaves_nothing_behind(api, labeled, mistake):
    _, spoil, pointer = mistake
    exported = _export(api, labeled)
    assert [d["location"] for d in exported["assets"]["documents"]] == ["empty-labels.txt", "loan1.txt", "loan2.txt"]
    exported["assets"]["documents"] = exported["assets"]["documents"][1:] + exported["assets"]["documents"][:1]
    fresh = f"{labeled}x"
    over, new = exported, _renamed(exported, fresh)
    spoil(over)
    spoil(new)
    events = api.get(f"/{labeled}/events").json()["value"]
    _refused(api, labeled, over, pointer)
    assert api.get(f"/{labeled}/events").json()["value"] == events  # nothing written
    _refused(api, fresh, new, pointer)
    assert api.get(f"/{fresh}").status_code == 404  # a new project is not made half


def test_import_and_export_jobs_belong_to_their_project_and_key(server, api, labeled):
    response = api.post(f"/{labeled}/:export")
    location = response.headers["Operation-Location"]
    assert api.get(location).status_code == 200
    with server.api() as stranger:  # another resource's key
        assert stranger.get(location).status_code == 404
        assert stranger.get(location + "/result").status_code in (404,)
    job_id = location.split("/jobs/")[1].split("?")[0]
    assert api.get(f"/{labeled}/import/jobs/{job_id}").status_code == 404  # an export is not an import


def test_a_large_file_with_a_mistake_in_its_last_document_is_refused_with_its_pointer(api):
    project = api.new_project(entities=("Person",))
    text = "Alice met Bob. " * 70  # ~1,000 characters
    documents = [{"location": f"d{i}.txt", "dataset": "Train", "text": text,
                  "entities": [{"regionOffset": 0, "regionLength": len(text),
                                "labels": [{"category": "Person", "offset": 0, "length": 5}]}]}
                 for i in range(3000)]  # ~3.5 MB
    documents[-1]["entities"][0]["labels"][0]["length"] = len(text) + 1
    file = {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
            "metadata": {"projectKind": "CustomEntityRecognition", "projectName": project, "language": "en"},
            "assets": {"projectKind": "CustomEntityRecognition", "entities": [{"category": "Person"}],
                       "documents": documents}}
    _refused(api, project, file, "/assets/documents/2999/entities/0/labels/0/length")


def test_the_import_records_the_digest_of_the_file_as_sent(api, labeled):
    body = orjson.dumps(_export(api, labeled))
    _poll(api, api.post(f"/{labeled}/:import", content=body, headers={"content-type": "application/json"}))
    imported = [e for e in api.get(f"/{labeled}/events").json()["value"] if e["eventType"] == "ProjectImported"]
    assert imported[-1]["data"]["digest"] == hashlib.sha256(body).hexdigest()


def test_an_export_of_more_documents_than_a_page_keeps_each_once_in_name_order(api):
    project = api.new_project(entities=("Person",))
    count = 2 * PAGE + 1  # the export reads the documents a page at a time
    texts = {f"d{i:04}.txt": f"Alice {i} met Bob." for i in reversed(range(count))}
    documents = [{"location": name, "language": "en", "dataset": "Train", "text": text,
                  "entities": [{"regionOffset": 0, "regionLength": len(text),
                                "labels": [{"category": "Person", "offset": 0, "length": 5}]}]}
                 for name, text in texts.items()]
    file = {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
            "metadata": {"projectKind": "CustomEntityRecognition", "projectName": project, "language": "en"},
            "assets": {"projectKind": "CustomEntityRecognition", "entities": [{"category": "Person"}],
                       "documents": documents}}
    _poll(api, api.post(f"/{project}/:import", json=file))
    exported = _export(api, project)["assets"]["documents"]
    assert exported == sorted(documents, key=lambda d: d["location"])
