"""The FastAPI application."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api import errors
from api.deps import KeyCache, check_api_version
from api.responses import JsonResponse
from api.routes import audit, documents, entities, projects
from bootstrap import Container


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="spanledger",
        summary="Event-sourced custom NER labeling with auto-labeling, in the style of Azure's text authoring API.",
        default_response_class=JsonResponse,
        dependencies=[Depends(check_api_version)],
    )
    app.state.container = container
    app.state.keys = KeyCache()
    errors.install(app)
    # Fixed paths (global/...) before the {projectName} ones they would otherwise match.
    for module in (projects, entities, documents, audit):
        app.include_router(module.router)
    return app
