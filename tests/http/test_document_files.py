"""Documents in and out as JSONL (Prodigy's and doccano's forms) and CoNLL, over HTTP: round
trips on corpus samples (tests/data), offsets in the unit stated, refusals naming the line."""

from pathlib import Path

import orjson
import pytest

from spanledger.ner.conll import read_sentences

DATA = Path(__file__).resolve().parents[1] / "data"
TEXT = "Ana \U0001F600 Silva met Bob at Acme.\r\nNext line."


def _import(api, project, body: bytes, **params):
    return api.post(f"/{project}/documents/:import", content=body, params={"format": "jsonl", **params},
                    headers={"content-type": "application/x-ndjson"})


def test_prodigy_and_doccano_lines_import_and_export_with_the_unit_stated(api):
    project = api.new_project(entities=("Person",))
    lines = [
        {"text": TEXT, "spans": [{"start": 0, "end": 11, "label": "Person"}, {"start": 16, "end": 19,
                                                                             "label": "Person"}],
         "meta": {"name": "prodigy-1"}},
        {"text": "Acme hired Carla.", "label": [[0, 4, "Org"], [11, 16, "Person"]], "id": "doccano-7"},
    ]
    answer = _import(api, project, b"\n".join(orjson.dumps(line) for line in lines))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"documents": 2, "labels": 4, "entitiesAdded": ["Org"]}
    got = api.get(f"/{project}/documents/prodigy-1").json()  # UTF-16 by default on this route
    assert [(l["offset"], l["length"]) for l in got["labels"]] == [(0, 12), (17, 3)]
    assert got["text"] == TEXT  # CRLF kept

    for unit, emoji in (("UnicodeCodePoint", 1), ("Utf16CodeUnit", 2)):
        exported = api.get(f"/{project}/documents/:export", params={"format": "jsonl", "stringIndexType": unit})
        assert exported.status_code == 200 and exported.headers["content-type"] == "application/x-ndjson"
        rows = [orjson.loads(line) for line in exported.content.splitlines()]
        assert [r["meta"]["name"] for r in rows] == ["doccano-7", "prodigy-1"]
        assert rows[1]["spans"] == [{"start": 0, "end": 10 + emoji, "label": "Person"},
                                    {"start": 15 + emoji, "end": 18 + emoji, "label": "Person"}]
        assert rows[1]["meta"]["stringIndexType"] == unit

    again = api.new_project(entities=())
    exported = api.get(f"/{project}/documents/:export", params={"format": "jsonl", "stringIndexType": "Utf16CodeUnit"})
    assert _import(api, again, exported.content, stringIndexType="Utf16CodeUnit").status_code == 200
    assert api.get(f"/{again}/documents/:export", params={"format": "jsonl",
                                                          "stringIndexType": "Utf16CodeUnit"}).content == \
        exported.content


@pytest.mark.parametrize("line, target", [
    (b'{"text": "abc", "spans": [{"start": 0, "end": 9, "label": "P"}]}', "lines/2/spans/0/end"),
    (b'{"text": "abc", "spans": [{"start": "0", "end": 2, "label": "P"}]}', "lines/2/spans/0/start"),
    (b'{"text": "abc", "label": [[0, 2]]}', "lines/2/label/0"),
    (b'{"spans": []}', "lines/2/text"),
    (b'not json', "lines/2"),
    (b'{"text": "a\\ud83d\\ude00b", "spans": [{"start": 0, "end": 2, "label": "P"}]}', "lines/2/spans/0/end"),
])
def test_a_refused_line_is_named_and_nothing_is_written(api, line, target):
    project = api.new_project(entities=("P",))
    body = b'{"text": "fine", "spans": []}\n' + line
    unit = {"stringIndexType": "Utf16CodeUnit"} if b"ude00" in line else {}
    refused = _import(api, project, body, **unit)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["target"] == target
    assert api.get(f"/{project}/documents").json()["value"] == []


def test_a_document_already_there_is_a_conflict_and_nothing_is_written(api):
    project = api.new_project(entities=("P",))
    assert api.put(f"/{project}/documents/a", json={"text": "x"}).status_code == 201
    refused = _import(api, project, b'{"text": "y", "id": "b"}\n{"text": "z", "id": "a"}')
    assert refused.status_code == 409 and refused.json()["error"]["target"] == "lines/2/name"
    assert [d["name"] for d in api.get(f"/{project}/documents").json()["value"]] == ["a"]


@pytest.mark.parametrize("corpus", ["ncbi_disease_test_200.conll", "wnut17_dev_200.conll"])
def test_a_conll_corpus_comes_back_token_for_token(api, corpus):
    data = (DATA / corpus).read_bytes()
    sentences = list(read_sentences(data.decode().splitlines()))
    body = "\n\n".join("\n".join(f"{t}\t{tag}" for t, tag in s) for s in sentences).encode()
    project = api.new_project(entities=())
    imported = api.post(f"/{project}/documents/:import", content=body, params={"format": "conll"},
                        headers={"content-type": "text/plain"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["documents"] == len(sentences) == 200

    exported = api.get(f"/{project}/documents/:export", params={"format": "conll"})
    assert exported.headers["X-Labels-Left-Out"] == "0"
    lines = [line for line in exported.text.splitlines() if not line.startswith("-DOCSTART-")]
    back = list(read_sentences(lines))
    assert [t for s in back for t, _ in s] == [t for s in sentences for t, _ in s]
    assert [_bio(s) for s in back] == [_bio(s) for s in sentences]


def _bio(sentence):
    """IOB1 and BIOES tags as IOB2 (the export's), to compare what they say."""
    tags, previous = [], "O"
    for _, tag in sentence:
        prefix, _, label = tag.partition("-")
        if tag == "O":
            tags.append("O")
        elif prefix in ("B", "S") or previous in ("O", "") or previous.partition("-")[2] != label:
            tags.append(f"B-{label}")
        else:
            tags.append(f"I-{label}")
        previous = "O" if prefix in ("E", "S") else tag
    return tags
