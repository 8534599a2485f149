"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.deps import KeyCache
from api.responses import JsonResponse
from api.routes import audit, autolabel, documents, entities, health, projects, quota, review, training
from bootstrap import Container


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="spanledger",
        summary="Event-sourced custom NER labeling with auto-labeling, in the style of Azure's text authoring API.",
        default_response_class=JsonResponse,
    )
    app.state.container = container
    app.state.keys = KeyCache()
    errors.install(app)
    for module in (health, projects, training, autolabel, review, quota, entities, documents, audit):
        app.include_router(module.router)
    return app
