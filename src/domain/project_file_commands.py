"""Importing and exporting Azure project files, and importing documents from JSONL and CoNLL
files (mixed into Spanledger).

An import over an existing project replaces it, as in Azure: the old project's life ends
(ProjectDeleted), a new one begins from the file (ProjectCreated, EntityAdded, ProjectImported,
then each document with its labels), all in one transaction: a file refused anywhere leaves
nothing behind. An export is recorded too (ProjectExported): labels leaving the system is
something an auditor asks about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from spanledger.domain import ids, project_file
from spanledger.domain.document import Document
from spanledger.domain.errors import Conflict, DomainError, InvalidArgument
from spanledger.domain.project import Project
from spanledger.domain.rules import (
    MAX_DOCUMENTS_PER_PROJECT,
    check_document_capacity,
    check_document_name,
    check_project_name,
)

if TYPE_CHECKING:
    from spanledger.domain.application import Spanledger

# Where a domain check's target lands in the file.
_METADATA_TARGETS = {"storage_input_container_name": "storageInputContainerName"}


class ProjectFileCommands:
    def import_project(self: Spanledger, resource_id: UUID, name: str, body: Any, digest: str,
                       actor: str) -> tuple[str, int | None]:
        """Makes (or remakes) the project from an Azure project file; answers (job id, position).
        A document's text comes from the file (spanledger's `text` field) or, by `location`,
        from the project's current document of that name."""
        check_project_name(name)
        project = self._get(ids.project_id(resource_id, name), Project)
        current = project if project is not None and not project.deleted else None

        def text_of(location: str) -> str | None:
            document = self._document(current, location) if current is not None else None
            return document.text if document is not None and not document.deleted else None

        file = project_file.read(body, name, text_of)
        if len(file.documents) > MAX_DOCUMENTS_PER_PROJECT:
            raise InvalidArgument(
                f"The file holds {len(file.documents)} documents, more than a project may ({MAX_DOCUMENTS_PER_PROJECT}).",
                "/assets/documents")
        fields = dict(file.fields)
        if current is not None:  # Azure's file has no overlap policy: the project keeps its own
            fields["overlap_policy"] = current.fields["overlap_policy"]
        job_id = str(uuid4())
        try:
            if project is None:
                project = Project.create(ids.project_id(resource_id, name), resource_id, name, fields, actor)
            else:
                if current is not None:
                    project.delete(job_id, actor)
                project.recreate(fields, actor)
        except DomainError as error:
            target = _METADATA_TARGETS.get(error.target or "", error.target or "")
            raise project_file.pointer_target(error, f"/metadata/{target}" if target else "/metadata") from None
        for i, entity in enumerate(file.entities):
            try:
                project.add_entity(entity, actor)
            except DomainError as error:
                error.target = f"/assets/entities/{i}/category"
                raise
        project.imported(job_id, digest, file.version, file.string_index_type.value, len(file.documents),
                         file.label_count, actor)
        documents = [self._imported_document(project, doc, actor) for doc in file.documents]
        return job_id, self._save(project, *documents)

    @staticmethod
    def _imported_document(project: Project, doc: project_file.FileDocument, actor: str) -> Document:
        try:
            check_document_name(doc.name, "location")
            document = Document.add(ids.document_id(project.id, project.incarnation, doc.name), project, doc.name,
                                    doc.text, doc.language, doc.dataset, actor)
        except DomainError as error:
            field = {"documentName": "location", "name": "location"}.get(error.target or "", error.target)
            error.target = f"{doc.pointer}/{field}" if field else doc.pointer
            raise
        for label in doc.labels:
            try:
                document.add_label(project, label.category, label.offset, label.length, actor)
            except DomainError as error:
                raise project_file.pointer_target(error, label.pointer) from None
        return document

    def import_documents(self: Spanledger, resource_id: UUID, name: str, documents: Sequence[project_file.FormatDocument],
                         actor: str) -> tuple[list[str], int | None]:
        """Adds documents with their labels from a JSONL or CoNLL file, all or nothing; entity
        types the file names and the project lacks are added. Answers (entities added, position)."""
        project = self.get_project(resource_id, name)
        if not documents:
            raise InvalidArgument("The file holds no document.", "body")
        if self.views is not None:
            check_document_capacity(self.views.count_documents(project.id), len(documents))
        added = []
        for category in sorted({label.category for doc in documents for label in doc.labels} - set(project.entities)):
            target = next(l.target for d in documents for l in d.labels if l.category == category)
            try:
                project.add_entity(category, actor)
            except DomainError as error:
                error.target = f"{target}/label"
                raise
            added.append(category)
        seen: set[str] = set()
        to_save = []
        for doc in documents:
            try:
                check_document_name(doc.name, "name")
                existing = self._document(project, doc.name)
                if doc.name in seen or (existing is not None and not existing.deleted):
                    raise Conflict(f"Document {doc.name!r} is already in the project (or twice in the file).",
                                   "name")
                seen.add(doc.name)
                document = self._new_document(project, doc.name, doc.text, None, doc.dataset, actor)
                for label in doc.labels:
                    document.add_label(project, label.category, label.start, label.end - label.start, actor)
            except DomainError as error:
                raise project_file.pointer_target(error, doc.target) from None
            to_save.append(document)
        return added, self._save(project, *to_save)

    def _new_document(self: Spanledger, project: Project, name: str, text: str, language: str | None,
                      dataset: str, actor: str) -> Document:
        """A document under a name that is free (never used, or deleted)."""
        existing = self._document(project, name)
        if existing is None:
            return Document.add(ids.document_id(project.id, project.incarnation, name), project, name, text,
                                language, dataset, actor)
        existing.readd(project, text, language, dataset, actor)
        return existing

    def record_export(self: Spanledger, resource_id: UUID, name: str, digest: str, unit: str,
                      actor: str) -> tuple[str, int | None]:
        project = self.get_project(resource_id, name)
        job_id = str(uuid4())
        project.exported(job_id, digest, unit, actor)
        return job_id, self._save(project)
