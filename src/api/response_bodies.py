"""What the routes answer, as typed bodies for the OpenAPI document.

The routes build their answers as plain dicts (orjson renders them; no model is validated on
the way out). These models only describe them: schemathesis and the HTTP tests check every
answer against the served document (extra="forbid": an undocumented field fails them), so
a route and its description cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")
Dataset = Literal["Train", "Test"]
JobStatus = Literal["notStarted", "running", "cancelling", "succeeded", "failed", "cancelled"]
Report = dict[str, Any]  # a record kept with a model, described in the README


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Page(Shape, Generic[T]):
    """Azure's paged list: `nextLink` (absolute, with the key's query) only when there is more."""

    value: list[T]
    next_link: str | None = None


class Problem(Shape):
    code: str
    message: str


# -- projects, entities, quota -------------------------------------------------------------


class ProjectMetadata(Shape):
    project_name: str
    project_kind: Literal["CustomEntityRecognition"]
    language: str | None
    description: str | None
    multilingual: bool | None
    settings: dict[str, Any] | None
    storage_input_container_name: str | None
    overlap_policy: Literal["reject", "allow"]
    created_date_time: str
    last_modified_date_time: str
    last_trained_date_time: str | None = None


class FinishedJob(Shape):
    """A job of an operation that finished within its request (Azure's job state)."""

    job_id: str
    created_date_time: str
    last_updated_date_time: str
    expiration_date_time: str
    status: Literal["succeeded"]
    warnings: list[Problem]
    errors: list[Problem]


class DeletionJob(FinishedJob):
    pass


class LabelCounts(Shape):
    train: int
    test: int


class Entity(Shape):
    category: str
    label_count: int
    label_counts: LabelCounts


class EntityWritten(Shape):
    category: str


class QuotaFigures(Shape):
    reserved: int
    charged: int
    refunded: int
    outstanding: int


class ProjectQuota(QuotaFigures):
    project_name: str | None = Field(description="None once the project is deleted")
    project_id: str


class Quota(QuotaFigures):
    month: str
    limit: int
    remaining: int
    projects: list[ProjectQuota]


# -- documents and labels ------------------------------------------------------------------


class DocumentSummary(Shape):
    name: str
    language: str | None
    dataset: Dataset
    characters: int = Field(description="code points, whatever the offset unit (text records are billed on them)")
    text_records: int
    label_count: int
    version: int
    created_date_time: str
    last_modified_date_time: str


class Span(Shape):
    category: str
    offset: int
    length: int


class Label(Span):
    id: str


class LabelOrigin(Shape):
    kind: Literal["user", "acceptedSuggestion"]
    job_id: str | None = None
    model_label: str | None = None


class DocumentLabel(Label):
    origin: LabelOrigin


class Suggestion(Label):
    confidence: float
    model_label: str
    job_id: str
    state: Literal["pending"]


class Document(DocumentSummary):
    text: str
    string_index_type: str
    labels: list[DocumentLabel]
    suggestions: list[Suggestion]


class BatchItem(Shape):
    name: str
    status: Literal["created", "unchanged"]


class DocumentBatch(Shape):
    value: list[BatchItem]


class Accepted(Shape):
    suggestion_id: str
    label_id: str


class SavedLabels(Shape):
    added: list[Label]
    removed: list[str]
    accepted: list[Accepted]
    rejected: list[str]
    version: int


# -- review ----------------------------------------------------------------------------------


class SuggestionAccepted(Accepted):
    version: int


class SuggestionRejected(Shape):
    suggestion_id: str
    version: int


class AllAccepted(Shape):
    accepted: list[Accepted]
    version: int


class AllRejected(Shape):
    rejected: list[str]
    version: int


class Undone(Shape):
    undone: list[str]
    version: int


class DocumentReviewed(Shape):
    document: str
    status: Literal["succeeded", "failed"]
    accepted: list[str] | None = None
    rejected: list[str] | None = None
    error: Problem | None = Field(default=None, description="why this document was left as it was")


class BulkReviewed(Shape):
    decision: Literal["accept", "reject"]
    documents: list[DocumentReviewed]


class PendingDocument(Shape):
    document: str
    entities: dict[str, int]
    suggestions: int


class QueuedSuggestion(Shape):
    """A pending suggestion with the text around it, for reviewing one at a time."""

    document_name: str
    suggestion_id: str
    category: str
    offset: int
    length: int
    text: str
    before: str  # up to 80 characters of the document before the span
    after: str  # and after it
    confidence_score: float
    model_label: str
    job_id: str


class Pending(Page[PendingDocument]):
    total_suggestions: int


class Outcomes(Shape):
    suggestions: int
    pending: int
    accepted: int
    rejected: int
    superseded: int
    discarded: int
    acceptance_rate: float | None = Field(description="of all suggestions made, the share that became labels")
    precision: float | None = Field(description="of the suggestions a reviewer decided, the share accepted")


class EntityOutcomes(Outcomes):
    category: str


class ModelOutcomes(Outcomes):
    model_label: str


class JobOutcomes(Outcomes):
    job_id: str


class ReviewMetrics(Shape):
    entities: list[EntityOutcomes]
    models: list[ModelOutcomes]
    jobs: list[JobOutcomes]


# -- auto-labeling ---------------------------------------------------------------------------


class Estimate(Shape):
    precision: float | None
    recall: float | None


class PreviewEntity(Shape):
    category: str
    labels: int
    precision: float | None
    recall: float | None
    f1: float | None
    at_min_confidence: Estimate | None = Field(
        description="precision and recall of what minConfidence keeps, measured on the model's test documents"
    )


class PreviewDocument(Shape):
    name: str
    characters: int
    text_records: int


class QuotaStanding(Shape):
    month: str
    limit: int
    used: int
    remaining: int


class Preview(Shape):
    model_label: str
    last_trained_date_time: str
    min_confidence: float
    entities: list[PreviewEntity]
    at_min_confidence: Estimate | None
    documents: list[PreviewDocument]
    document_count: int
    text_records: int
    quota: QuotaStanding
    fits: bool


class AutoLabelResult(Shape):
    model_label: str
    entities: list[str]
    min_confidence: float
    percent_complete: int
    documents: int
    documents_done: int
    suggestions: int
    text_records: int
    text_records_charged: int
    text_records_refunded: int
    start_date_time: str | None
    end_date_time: str | None


class AutoLabelJob(Shape):
    job_id: str
    created_date_time: str
    last_updated_date_time: str
    expiration_date_time: str
    status: JobStatus
    errors: list[Problem]
    warnings: list[Problem]
    result: AutoLabelResult


# -- project files ---------------------------------------------------------------------------

class ImportJob(FinishedJob):
    pass


class ExportJob(ImportJob):
    result_url: str = Field(description="where the file is served, to the same key")


class DocumentsImported(Shape):
    documents: int
    labels: int
    entities_added: list[str] = Field(description="entity types the file named and the project lacked")


class DeploymentJob(ImportJob):
    pass


class Deployment(Shape):
    deployment_name: str
    model_id: str
    last_trained_date_time: str
    last_deployed_date_time: str
    deployment_expiration_date: str
    model_training_config_version: str
    assigned_resources: list[dict[str, str]]
    trained_model_label: str = Field(description="spanledger's extension: the model's label")


class RuntimeEntity(Shape):
    text: str
    category: str
    offset: int
    length: int
    confidence_score: float


class RuntimeDocumentResult(Shape):
    id: str
    entities: list[RuntimeEntity]
    warnings: list[Problem]


class InnerError(Shape):
    code: str
    message: str


class AnalyzeTextError(Shape):
    code: str
    message: str
    innererror: InnerError


class RuntimeDocumentError(Shape):
    id: str
    error: AnalyzeTextError


class CustomEntitiesResults(Shape):
    documents: list[RuntimeDocumentResult]
    errors: list[RuntimeDocumentError]
    project_name: str
    deployment_name: str
    model_label: str = Field(description="spanledger's extension: the model the deployment served")


class CustomEntitiesTaskResult(Shape):
    kind: Literal["CustomEntityRecognitionLROResults"]
    task_name: str
    last_update_date_time: str
    status: Literal["succeeded"]
    results: CustomEntitiesResults


class TaskCounts(Shape):
    completed: int
    failed: int
    in_progress: int
    total: int
    items: list[CustomEntitiesTaskResult]


class AnalyzeTextJob(Shape):
    job_id: str
    created_date_time: str
    last_updated_date_time: str
    expiration_date_time: str
    status: Literal["succeeded"]
    errors: list[Problem]
    display_name: str | None = None
    tasks: TaskCounts


class FileLabel(Span):
    pass


class FileRegion(Shape):
    region_offset: int
    region_length: int
    labels: list[FileLabel]


class FileDocument(Shape):
    location: str
    language: str | None
    dataset: Dataset
    entities: list[FileRegion]
    text: str = Field(description="spanledger's extension: the text itself, so that the file alone imports")


class FileEntity(Shape):
    category: str


class FileAssets(Shape):
    project_kind: Literal["CustomEntityRecognition"]
    entities: list[FileEntity]
    documents: list[FileDocument]


class FileMetadata(Shape):
    project_kind: Literal["CustomEntityRecognition"]
    project_name: str
    language: str | None
    description: str | None
    multilingual: bool | None
    settings: dict[str, Any] | None
    storage_input_container_name: str | None


class ProjectFile(Shape):
    """Azure's project file, as an export writes it."""

    project_file_version: str
    string_index_type: Literal["Utf16CodeUnit", "UnicodeCodePoint"]
    metadata: FileMetadata
    assets: FileAssets


# -- training and models ---------------------------------------------------------------------


class TrainingConfigVersion(Shape):
    training_config_version: str
    model_expiration_date: str


class Stage(Shape):
    percent_complete: int
    start_date_time: str | None
    end_date_time: str | None
    status: JobStatus


class TrainingResult(Shape):
    model_label: str
    training_config_version: str
    training_status: Stage
    evaluation_status: Stage
    estimated_end_date_time: str | None = None


class TrainingJob(Shape):
    job_id: str
    created_date_time: str
    last_updated_date_time: str
    expiration_date_time: str
    status: JobStatus
    warnings: list[Problem]
    errors: list[Problem]
    result: TrainingResult


class Model(Shape):
    label: str
    model_id: str
    last_trained_date_time: str
    last_training_duration_in_seconds: int
    model_expiration_date: str
    model_training_config_version: str
    has_snapshot: bool
    recipe: str
    training_run: Report | None = Field(
        description="the plan derived from the data (mini-batch, epoch bound), the epochs run and why training "
        "stopped; null for models trained before it was recorded"
    )


class EntityScores(Shape):
    f1: float
    precision: float
    recall: float
    true_positive_count: int
    true_negative_count: int
    false_positive_count: int
    false_negative_count: int


class Confusion(Shape):
    normalized_value: float
    raw_value: float


class EntityRecognitionEvaluation(Shape):
    confusion_matrix: dict[str, dict[str, Confusion]]
    entities: dict[str, EntityScores]
    micro_f1: float
    micro_precision: float
    micro_recall: float
    macro_f1: float
    macro_precision: float
    macro_recall: float


class EvaluationOptions(Shape):
    kind: Literal["percentage", "manual"] | None = None
    training_split_percentage: int | None = None
    testing_split_percentage: int | None = None


class Postprocessing(Shape):
    merge_adjacent_spans: bool
    merge_reason: str
    calibration: Report = Field(description="Platt scaling's a and b, and the calibration error before and after")


class EvaluationSummary(Shape):
    project_kind: Literal["CustomEntityRecognition"]
    evaluation_options: EvaluationOptions
    custom_entity_recognition_evaluation: EntityRecognitionEvaluation
    postprocessing: Postprocessing | None


class PredictedSpan(Span):
    confidence_score: float | None = None


class Region(Shape):
    region_offset: int
    region_length: int
    expected_entities: list[PredictedSpan]
    predicted_entities: list[PredictedSpan]


class DocumentResult(Shape):
    entities: list[Region]


class DocumentEvaluation(Shape):
    project_kind: Literal["CustomEntityRecognition"]
    location: str
    language: str | None
    custom_entity_recognition_result: DocumentResult


class TrainingDocument(Shape):
    name: str
    split: Literal["train", "test"]
    dataset: Dataset
    labels: list[Span]


class TrainingSet(Page[TrainingDocument]):
    model_label: str
    training_job_id: str
    log_position: int
    fingerprint: str
    fingerprint_matches: bool
    string_index_type: str


# -- audit and health ------------------------------------------------------------------------


class Event(Shape):
    position: int
    occurred_date_time: str
    actor: str | None
    event_type: str
    version: int
    data: dict[str, Any] = Field(description="the event's own fields, camelCase; offsets in stringIndexType")
    document_name: str | None = None
    life: int | None = Field(default=None, description="with lives=all: which life of the name, from 1")


class Health(Shape):
    status: Literal["ok"]
    read_model_position: int | None


class ProjectionLag(Shape):
    position: int
    behind: int  # events of the log not yet applied


class Readiness(Shape):
    status: Literal["ready", "notReady"]
    reason: str | None = None
    log_position: int | None = None
    projections: dict[str, ProjectionLag] = {}


def ok(model: type[BaseModel], description: str = "Succeeded.") -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": description}}


def created_or_updated(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"model": model, "description": "Updated (or already as sent)."},
        201: {"model": model, "description": "Created."},
    }
