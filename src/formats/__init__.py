"""Labeled documents in the file formats other NER tools read and write (JSONL, CoNLL):
pure functions from bytes to documents (domain.project_file.FormatDocument, offsets as code
points) and back."""

from spanledger.domain.project_file import FormatDocument, FormatLabel

__all__ = ["FormatDocument", "FormatLabel"]
