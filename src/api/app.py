"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from spanledger.api import errors
from spanledger.api.deps import KeyCache
from spanledger.api.openapi import truthful_openapi
from spanledger.api.request_middleware import RequestMiddleware
from spanledger.api.responses import JsonResponse
from spanledger.api.routes import (
    audit,
    autolabel,
    deployments,
    document_files,
    documents,
    entities,
    health,
    metrics,
    project_files,
    projects,
    quota,
    review,
    runtime,
    training,
)
from spanledger.bootstrap import Container
from spanledger.observability import logs

STATIC = Path(__file__).parent / "static"
STUDIO = Path(__file__).parent / "studio"
# The labeling page loads nothing but its own files and talks to this server only.
STUDIO_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                 "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class StudioFiles(StaticFiles):
    """The labeling page's files (no key needed to load them; its API calls send one), each
    answered with a strict Content-Security-Policy."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = STUDIO_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-cache"  # revalidated (ETag), so an upgrade is seen at once
        return response


class SpanledgerApi(FastAPI):
    """FastAPI with the request middleware (id, log line, metrics) outside all of Starlette's
    own, so that it also sees the 500 answered for an unexpected error."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestMiddleware(super().build_middleware_stack(), self.state.container.metrics)


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logs.configure(container.settings.log_format)  # now: uvicorn has set up its loggers by then
        yield

    app = SpanledgerApi(
        lifespan=lifespan,
        title="spanledger",
        summary="Event-sourced custom NER labeling with auto-labeling, in the style of Azure's text authoring API.",
        default_response_class=JsonResponse,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: /docs is served below instead
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/studio", StudioFiles(directory=STUDIO, html=True), name="studio")

    @app.get("/studio", include_in_schema=False)
    async def studio() -> RedirectResponse:
        """The page's files are addressed relative to /studio/."""
        return RedirectResponse("/studio/", status_code=308)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI over the OpenAPI document, with its files served from the package (offline)."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="spanledger API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )

    app.state.container = container
    app.state.keys = KeyCache()
    app.openapi = lambda: truthful_openapi(app)
    errors.install(app)
    # Starlette tries routes in order, each a regular expression and, in FastAPI, several
    # Python calls: the labeling routes come first, as most requests are theirs (a label
    # write matched after 60 others spent 6% of the server's time finding its route).
    # document_files' fixed paths (.../documents/:export) must precede documents' templates
    # (.../documents/{documentName}); tests/unit/test_route_order.py checks every route.
    for module in (document_files, documents, review, health, metrics, runtime, projects, project_files, deployments,
                   training, autolabel, quota, entities, audit):
        app.include_router(module.router)
    return app
