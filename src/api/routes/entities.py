"""Entity types of a project, with their label counts per dataset (spanledger extension)."""

from __future__ import annotations

from fastapi import Request, Response

from spanledger.api.deps import (
    Consistent,
    ContainerDep,
    EntityName,
    PagingDep,
    PrincipalDep,
    ProjectName,
    page,
    record_write,
)
from spanledger.api.response_bodies import Entity, EntityWritten, Page, created_or_updated, ok
from spanledger.api.routes.projects import project_row
from spanledger.api.routing import authoring_router
from spanledger.api.schemas import EntityBody
from spanledger.api.time_travel import AsOf, AtPosition, position_of
from spanledger.projections import queries
from spanledger.replay.history import History

router = authoring_router()


def _render(entity: dict) -> dict:
    counts = entity["labels"]
    return {
        "category": entity["category"],
        "labelCount": sum(counts.values()),
        "labelCounts": {"train": counts.get("Train", 0), "test": counts.get("Test", 0)},
    }


@router.get("/{projectName}/entities", dependencies=[Consistent], responses=ok(Page[Entity]))
def list_entities(
    projectName: ProjectName, request: Request, response: Response, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, paging: PagingDep, at_position: AtPosition = None, as_of: AsOf = None,
) -> dict:
    """The project's entity types, with their label counts per dataset; with `atPosition` or
    `asOf`, as they stood then (replayed from the log: every document of the project then)."""
    position = position_of(container, response, at_position, as_of)
    if position is not None:
        history = History(container.app)
        counts = history.label_counts(history.project(principal.resource_id, projectName, position), position)
        entities = [{"category": name, "labels": dict(n)} for name, n in counts.items()]
    else:
        with container.reads.connect() as conn:
            project = project_row(conn, principal, projectName)
            entities = queries.entity_statistics(conn, project.id)
    chosen = entities[paging.skip:paging.skip + paging.size]
    return page(request, paging, [_render(e) for e in chosen], paging.skip + paging.size < len(entities))


@router.put("/{projectName}/entities/{category}", responses=created_or_updated(EntityWritten))
def put_entity(
    projectName: ProjectName, category: EntityName, response: Response, container: ContainerDep,  # noqa: N803
    principal: PrincipalDep, body: EntityBody | None = None,
) -> dict:
    """Adds an entity type (201), or answers 200 if it exists."""
    created, position = container.app.put_entity(principal.resource_id, projectName, category, principal.actor)
    record_write(response, container, principal, position)
    response.status_code = 201 if created else 200
    return {"category": category}


# Consistent: the labels to record as removed are found in the read model, which must hold
# the caller's own writes first.
@router.delete("/{projectName}/entities/{category}", status_code=204, response_class=Response, dependencies=[Consistent])
def delete_entity(
    projectName: ProjectName, category: EntityName, response: Response, container: ContainerDep, principal: PrincipalDep,  # noqa: N803
) -> Response:
    """Deletes an entity type; each document records the removal of its labels of it."""
    position = container.app.delete_entity(principal.resource_id, projectName, category, principal.actor)
    record_write(response, container, principal, position)
    response.status_code = 204
    return response
