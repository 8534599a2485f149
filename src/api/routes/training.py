"""Training jobs and trained models, as in Azure's text authoring API (its Python client
starts training, polls it, and reads models and evaluations through these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query, Request, Response

from spanledger.api.deps import (
    Consistent,
    ContainerDep,
    IndexTypeDep,
    ModelLabel,
    PagingDep,
    PrincipalDep,
    ProjectName,
    page,
    record_write,
)
from spanledger.api.errors import ApiError
from spanledger.api.response_bodies import (
    DocumentEvaluation,
    EvaluationSummary,
    Model,
    Page,
    TrainingConfigVersion,
    TrainingJob,
    TrainingSet,
    ok,
)
from spanledger.api.responses import absolute_url, azure_time, segment
from spanledger.api.routes.projects import project_id, project_row
from spanledger.api.routing import BASE, authoring_router
from spanledger.api.schemas import TrainBody
from spanledger.domain.offsets import OffsetMap, StringIndexType
from spanledger.domain.training import TRAINING_SHARE
from spanledger.jobs.artifacts import ArtifactMissing
from spanledger.ner import recipes
from spanledger.projections import queries

router = authoring_router()
JOB_RETENTION = timedelta(days=7)
MODEL_LIFETIME = timedelta(days=365)


def _job_url(request: Request, project: str, job_id: str) -> str:
    return absolute_url(request, f"{BASE}/{segment(project)}/train/jobs/{segment(job_id)}",
                        **{"api-version": request.query_params["api-version"]})


def _stage(status: str, percent: int, start: str | None, end: str | None) -> dict[str, Any]:
    return {"percentComplete": percent, "startDateTime": azure_time(start), "endDateTime": azure_time(end),
            "status": status}


def render_job(row: Any) -> dict[str, Any]:
    """Azure's TrainingState; the two stages are read off the job's status and percent."""
    status, percent = row.status, row.percent
    training_done = percent >= TRAINING_SHARE or status == "succeeded"
    training = _stage(
        "succeeded" if training_done else (status if status != "cancelling" else "running"),
        100 if training_done else int(percent * 100 / TRAINING_SHARE), row.started_at,
        row.ended_at if status in ("failed", "cancelled") and not training_done else None,
    )
    if training_done:
        evaluating = "succeeded" if status == "succeeded" else status
        evaluation = _stage(evaluating, 100 if status == "succeeded" else (percent - TRAINING_SHARE) * 10,
                            row.started_at, row.ended_at)
    else:
        evaluation = _stage("notStarted" if status in ("notStarted", "running", "cancelling") else status, 0, None, None)
    if status == "succeeded":
        training["endDateTime"] = training["endDateTime"] or azure_time(row.ended_at)
    created = datetime.fromisoformat(row.created_at)
    result: dict[str, Any] = {
        "modelLabel": row.model_label,
        "trainingConfigVersion": row.training_config_version,
        "trainingStatus": training,
        "evaluationStatus": evaluation,
    }
    if status in ("running", "cancelling") and row.started_at and percent:
        started = datetime.fromisoformat(row.started_at)
        elapsed = datetime.fromisoformat(row.updated_at) - started
        result["estimatedEndDateTime"] = azure_time(started + elapsed * 100 / percent)
    return {
        "jobId": row.job_id,
        "createdDateTime": azure_time(created),
        "lastUpdatedDateTime": azure_time(row.updated_at),
        "expirationDateTime": azure_time(created + JOB_RETENTION),
        "status": status,
        "warnings": row.warnings,
        "errors": row.errors,
        "result": result,
    }


def render_model(row: Any) -> dict[str, Any]:
    trained = datetime.fromisoformat(row.trained_at)
    return {
        "label": row.label,
        "modelId": f"{row.label}-{trained.strftime('%Y%m%dT%H%M%SZ')}-{row.artifact[:8]}",
        "lastTrainedDateTime": azure_time(trained),
        "lastTrainingDurationInSeconds": round(row.duration_seconds),
        "modelExpirationDate": (trained + MODEL_LIFETIME).date().isoformat(),
        "modelTrainingConfigVersion": row.training_config_version,
        "hasSnapshot": False,
        "recipe": row.recipe["name"],
        # How the training went (extension): the plan it derived from the data, the epochs
        # it ran and why it stopped; absent for models trained before this was recorded.
        "trainingRun": row.recipe.get("run"),
    }


def _model_row(conn: Any, principal: Any, project: str, label: str) -> Any:
    row = queries.get_model(conn, project_id(principal, project), label)
    if row is None:
        project_row(conn, principal, project)
        raise ApiError(404, "NotFound", f"Project {project!r} has no model {label!r}.", "trainedModelLabel")
    return row


def _evaluation_options(evaluation: dict[str, Any]) -> dict[str, Any]:
    return {k: evaluation[k] for k in ("kind", "trainingSplitPercentage", "testingSplitPercentage") if k in evaluation}


# -- training -----------------------------------------------------------------------------

@router.get("/global/training-config-versions", responses=ok(Page[TrainingConfigVersion]))
def training_config_versions(request: Request, principal: PrincipalDep, paging: PagingDep) -> dict:
    """The recipes a training can ask for by trainingConfigVersion ("latest": the default)."""
    names = ["latest", *(name for name in recipes.RECIPES if recipes.by_name(name) is not None)]
    expires = (datetime.now(UTC) + MODEL_LIFETIME).date().isoformat()  # of a model trained today
    items = [{"trainingConfigVersion": name, "modelExpirationDate": expires} for name in names]
    return page(request, paging, items[paging.skip:paging.skip + paging.size], paging.skip + paging.size < len(items))


# Consistent: whether there are labels to train on is read from the read model, which must
# hold the caller's own last writes.
@router.post("/{projectName}/:train", status_code=202, response_class=Response, dependencies=[Consistent])
def train(
    projectName: ProjectName, body: TrainBody, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep,
) -> Response:
    """Starts a training job on the labels as the log holds them now (202 + Operation-Location)."""
    recipe = recipes.by_name(body.training_config_version)
    if recipe is None:
        raise ApiError(400, "InvalidArgument",
                       f"trainingConfigVersion {body.training_config_version!r} is not one of: latest, "
                       f"{', '.join(recipes.RECIPES)}.", "trainingConfigVersion")
    options = body.evaluation_options.model_dump(by_alias=True, exclude_none=True) if body.evaluation_options else {}
    job, position = container.app.request_training(
        principal.resource_id, projectName, model_label=body.model_label,
        config_version=body.training_config_version, evaluation=options, recipe=recipe.to_dict(),
        actor=principal.actor,
    )
    # No Location header: for a POST, Azure's poller would fetch it last and lose the result.
    response = Response(status_code=202, headers={"Operation-Location": _job_url(request, projectName, str(job.id))})
    record_write(response, container, principal, position)
    return response


@router.get("/{projectName}/train/jobs/{jobId}", dependencies=[Consistent], responses=ok(TrainingJob))
def training_job(projectName: ProjectName, jobId: str, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """A training job: status, progress, and the model it made."""
    with container.reads.connect() as conn:
        row = queries.get_training_job(conn, project_id(principal, projectName), jobId)
        if row is None:
            project_row(conn, principal, projectName)
            raise ApiError(404, "NotFound", f"Project {projectName!r} has no training job {jobId!r}.", "jobId")
    return render_job(row)


@router.get("/{projectName}/train/jobs", dependencies=[Consistent], responses=ok(Page[TrainingJob]))
def training_jobs(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep,
) -> dict:
    """The project's training jobs, newest first."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        result = queries.list_training_jobs(conn, project.id, paging.skip, paging.size)
    return page(request, paging, [render_job(r) for r in result.rows], result.more)


@router.post("/{projectName}/train/jobs/{jobId}/:cancel", status_code=202, response_class=Response)
def cancel_training(
    projectName: ProjectName, jobId: str, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep,
) -> Response:
    """Asks a training job to stop (it becomes cancelling, then cancelled)."""
    position = container.app.cancel_training(principal.resource_id, projectName, jobId, principal.actor,
                                             datetime.now(UTC))
    response = Response(status_code=202, headers={"Operation-Location": _job_url(request, projectName, jobId)})
    record_write(response, container, principal, position)
    return response


# -- models -------------------------------------------------------------------------------

@router.get("/{projectName}/models", dependencies=[Consistent], responses=ok(Page[Model]))
def list_models(
    projectName: ProjectName, request: Request, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
    paging: PagingDep,
) -> dict:
    """The project's trained models."""
    with container.reads.connect() as conn:
        project = project_row(conn, principal, projectName)
        result = queries.list_models(conn, project.id, paging.skip, paging.size)
    return page(request, paging, [render_model(r) for r in result.rows], result.more)


@router.get("/{projectName}/models/{trainedModelLabel}", dependencies=[Consistent], responses=ok(Model))
def get_model(projectName: ProjectName, trainedModelLabel: ModelLabel, container: ContainerDep, principal: PrincipalDep) -> dict:  # noqa: N803
    """A trained model, with how its training ran (trainingRun)."""
    with container.reads.connect() as conn:
        return render_model(_model_row(conn, principal, projectName, trainedModelLabel))


@router.delete("/{projectName}/models/{trainedModelLabel}", status_code=204, response_class=Response)
def delete_model(
    projectName: ProjectName, trainedModelLabel: ModelLabel, response: Response, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep,
) -> Response:
    """Deletes a trained model."""
    position = container.app.delete_model(principal.resource_id, projectName, trainedModelLabel, principal.actor)
    record_write(response, container, principal, position)
    response.status_code = 204
    return response


@router.get("/{projectName}/models/{trainedModelLabel}/evaluation/summary-result", dependencies=[Consistent],
            responses=ok(EvaluationSummary))
def evaluation_summary(
    projectName: ProjectName, trainedModelLabel: ModelLabel, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
) -> dict:
    """Per-entity scores and the confusion matrix on the test split, with the model's post-processing."""
    with container.reads.connect() as conn:
        row = _model_row(conn, principal, projectName, trainedModelLabel)
    metrics = row.metrics

    def scores(s: dict[str, Any]) -> dict[str, Any]:
        return {"f1": s["f1"], "precision": s["precision"], "recall": s["recall"],
                "truePositiveCount": s["truePositives"], "trueNegativeCount": 0,
                "falsePositiveCount": s["falsePositives"], "falseNegativeCount": s["falseNegatives"]}

    confusion = {}
    for expected, row_counts in metrics["confusion"].items():
        total = sum(row_counts.values())
        confusion[expected] = {predicted: {"normalizedValue": 100.0 * n / total, "rawValue": float(n)}
                               for predicted, n in row_counts.items()}
    micro, macro = metrics["micro"], metrics["macro"]
    return {
        "projectKind": "CustomEntityRecognition",
        "evaluationOptions": _evaluation_options(row.evaluation),
        "customEntityRecognitionEvaluation": {
            "confusionMatrix": confusion,
            "entities": {name: scores(s) for name, s in metrics["entities"].items()},
            "microF1": micro["f1"], "microPrecision": micro["precision"], "microRecall": micro["recall"],
            "macroF1": macro["f1"], "macroPrecision": macro["precision"], "macroRecall": macro["recall"],
        },
        # Extension: how the model's spans are merged and its confidences calibrated, with
        # the calibration error on the test documents before and after.
        "postprocessing": _postprocessing(metrics.get("postprocessing")),
    }


def _postprocessing(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"mergeAdjacentSpans": report["mergeAdjacent"], "mergeReason": report["mergeReason"],
            "calibration": report["calibration"]}


def _entities(spans: list[list[Any]], offsets: OffsetMap, unit: StringIndexType) -> list[dict[str, Any]]:
    """Expected labels are (offset, length, category); predictions add their confidence."""
    result = []
    for offset, length, category, *score in spans:
        o, n = offsets.span_from_code_points(offset, length, unit)
        result.append({"category": category, "offset": o, "length": n}
                      | ({"confidenceScore": score[0]} if score else {}))
    return result


@router.get("/{projectName}/models/{trainedModelLabel}/evaluation/result", dependencies=[Consistent],
            responses=ok(Page[DocumentEvaluation]))
def evaluation_results(
    projectName: ProjectName, trainedModelLabel: ModelLabel, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, paging: PagingDep, unit: IndexTypeDep,
) -> dict:
    """Per test document: the labels expected and the entities the model predicted."""
    with container.reads.connect() as conn:
        row = _model_row(conn, principal, projectName, trainedModelLabel)
        language = project_row(conn, principal, projectName).language
    try:
        documents = container.artifacts.get_json(row.evaluation_artifact)
    except ArtifactMissing:
        raise ApiError(404, "NotFound", f"The evaluation of model {trainedModelLabel!r} is not stored on this "
                       "server.", "trainedModelLabel") from None
    items = []
    for doc in documents[paging.skip:paging.skip + paging.size]:
        offsets = OffsetMap.from_astral(doc["astral"], doc["length"])
        _, region = offsets.span_from_code_points(0, doc["length"], unit)
        items.append({
            "projectKind": "CustomEntityRecognition",
            "location": doc["name"],
            "language": language,
            "customEntityRecognitionResult": {"entities": [{
                "regionOffset": 0, "regionLength": region,
                "expectedEntities": _entities(doc["expected"], offsets, unit),
                "predictedEntities": _entities(doc["predicted"], offsets, unit),
            }]},
        })
    return page(request, paging, items, paging.skip + paging.size < len(documents))


@router.get("/{projectName}/models/{trainedModelLabel}/training-set", responses=ok(TrainingSet))
def training_set(
    projectName: ProjectName, trainedModelLabel: ModelLabel, request: Request, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, paging: PagingDep, unit: IndexTypeDep,
    split: Annotated[str | None, Query(pattern="^(train|test)$")] = None,
) -> dict:
    """The exact documents and labels the model trained and was tested on, reconstructed by
    replaying the log up to the position the training read (extension)."""
    model, parts, reconstructed = container.app.model_training_set(
        principal.resource_id, projectName, trainedModelLabel)
    chosen = [("train", d) for d in parts.train] + [("test", d) for d in parts.test]
    if split:
        chosen = [(s, d) for s, d in chosen if s == split]
    items = []
    for part, doc in chosen[paging.skip:paging.skip + paging.size]:
        offsets = OffsetMap(doc.text)
        labels = []
        for offset, length, category in doc.labels:
            o, n = offsets.span_from_code_points(offset, length, unit)
            labels.append({"category": category, "offset": o, "length": n})
        items.append({"name": doc.name, "split": part, "dataset": doc.dataset, "labels": labels})
    body = page(request, paging, items, paging.skip + paging.size < len(chosen))
    return {"modelLabel": model.label, "trainingJobId": model.job_id, "logPosition": model.log_position,
            "fingerprint": reconstructed, "fingerprintMatches": reconstructed == model.fingerprint,
            "stringIndexType": unit.value, **body}
