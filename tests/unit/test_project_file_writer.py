"""A project file written a document at a time is the same file as written whole."""

import orjson
import pytest

from spanledger.domain import project_file
from spanledger.domain.offsets import StringIndexType

PROJECT = {"name": "loans", "fields": {"language": "en", "description": "", "multilingual": False,
                                       "settings": {}, "storage_input_container_name": None}}
DOCUMENTS = [
    {"name": "a.txt", "text": "Ana \U0001F600 Silva\r\nmet Bob.", "language": "en", "dataset": "Train",
     "labels": [("Person", 20, 3), ("Person", 0, 11)]},
    {"name": "b.txt", "text": "Nothing here.", "language": "pt", "dataset": "Test", "labels": []},
]


@pytest.mark.parametrize("documents", [[], DOCUMENTS[:1], DOCUMENTS])
@pytest.mark.parametrize("unit", list(StringIndexType))
def test_written_in_chunks_it_is_the_file_written_whole(documents, unit):
    whole = project_file.write(PROJECT, ["Person"], documents, unit)
    chunks = list(project_file.write_chunks(PROJECT, ["Person"], iter(documents), unit))
    assert len(chunks) == len(documents) + 2
    assert b"".join(chunks) == orjson.dumps(whole)
    assert orjson.loads(b"".join(chunks))["assets"]["documents"] == whole["assets"]["documents"]
