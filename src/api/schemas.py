"""Request bodies. Strict: unknown fields and wrong types are refused with the field named."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_BATCH_DOCUMENTS = 1000
MAX_BATCH_LABELS = 10_000


class ErrorDetail(BaseModel):
    code: str
    message: str
    target: str | None = None


class ErrorInfo(ErrorDetail):
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """Azure's error body: every refusal, with `target` naming the offending field."""

    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input; `target` names the field."},
    401: {"model": ErrorBody, "description": "No API key, or one that is not valid."},
    404: {"model": ErrorBody, "description": "No such project, document, model or job for this key's resource."},
    503: {"model": ErrorBody, "description": "The read model has not reached the position the read needs; "
          "retry after `Retry-After` seconds."},
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True)


class ProjectBody(Body):
    """Azure's project metadata (merge-patch), plus spanledger's overlap policy."""

    project_name: str | None = None
    project_kind: str | None = None
    language: str | None = None
    storage_input_container_name: str | None = None
    multilingual: bool | None = None
    description: str | None = None
    settings: dict[str, Any] | None = None
    overlap_policy: Literal["reject", "allow"] | None = None


class EntityBody(Body):
    pass


class DocumentBody(Body):
    text: str
    language: str | None = None
    dataset: Literal["Train", "Test"] = "Train"


class NamedDocumentBody(DocumentBody):
    name: str


class DocumentBatchBody(Body):
    documents: list[NamedDocumentBody] = Field(min_length=1, max_length=MAX_BATCH_DOCUMENTS)


class DocumentPatchBody(Body):
    dataset: Literal["Train", "Test"]


class LabelBody(Body):
    category: str
    offset: int
    length: int


class SaveLabelsBody(Body):
    add: list[LabelBody] = Field(default_factory=list, max_length=MAX_BATCH_LABELS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_BATCH_LABELS)
    accept: list[str] = Field(default_factory=list, max_length=MAX_BATCH_LABELS)  # suggestion ids
    reject: list[str] = Field(default_factory=list, max_length=MAX_BATCH_LABELS)


class EvaluationOptionsBody(Body):
    kind: Literal["percentage", "manual"] = "percentage"
    training_split_percentage: int | None = None
    testing_split_percentage: int | None = None


class TrainBody(Body):
    model_label: str
    training_config_version: str = "latest"
    evaluation_options: EvaluationOptionsBody | None = None


class DocumentFilterBody(Body):
    labeled: bool | None = None
    entity: str | None = Field(default=None, min_length=1)
    dataset: Literal["Train", "Test"] | None = None


class AutoLabelBody(Body):
    """What an auto-labeling job covers: documents by name, or by filter (by default the
    documents without labels)."""

    model_label: str
    entities: list[str] | None = Field(default=None, max_length=200)
    documents: list[str] | None = Field(default=None, min_length=1, max_length=100_000)
    filter: DocumentFilterBody | None = None
    min_confidence: float = Field(default=0.0, ge=0, le=1)


class UndoBody(Body):
    count: int = Field(default=1, ge=1, le=100)


class BulkReviewBody(Body):
    """Every pending suggestion matching the filter, accepted or rejected, document by document."""

    decision: Literal["accept", "reject"]
    entity: str | None = Field(default=None, min_length=1)
    job: str | None = Field(default=None, min_length=1)
    model: str | None = Field(default=None, min_length=1)
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    max_confidence: float | None = Field(default=None, ge=0, le=1)


class DeployBody(Body):
    """Azure's CreateDeploymentDetails; spanledger serves from its own resource, so assigned
    resources are accepted and not used."""

    trained_model_label: str = Field(min_length=1, max_length=50)
    assigned_resource_ids: list[str] | None = Field(default=None, max_length=10)


class SwapBody(Body):
    first_deployment_name: str = Field(min_length=1, max_length=50)
    second_deployment_name: str = Field(min_length=1, max_length=50)


class RuntimeDocument(Body):
    id: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=200_000)  # longer ones get their document error
    language: str | None = Field(default=None, max_length=32)


class RuntimeInput(Body):
    documents: list[RuntimeDocument] = Field(min_length=1, max_length=25)  # Azure's limit a request


class CustomEntitiesParameters(Body):
    project_name: str = Field(min_length=1, max_length=50)
    deployment_name: str = Field(min_length=1, max_length=50)
    string_index_type: Literal["TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit"] = "TextElements_v8"
    logging_opt_out: bool | None = None


class CustomEntitiesTask(Body):
    kind: Literal["CustomEntityRecognition"]
    task_name: str | None = Field(default=None, max_length=100)
    parameters: CustomEntitiesParameters


class AnalyzeTextJobBody(Body):
    """Azure's analyze-text job, with custom entity recognition tasks."""

    analysis_input: RuntimeInput
    tasks: list[CustomEntitiesTask] = Field(min_length=1, max_length=5)
    display_name: str | None = Field(default=None, max_length=100)
    default_language: str | None = Field(default=None, max_length=32)
    cancel_after: float | None = None
