"""The routers are included hottest first (api.app), and Starlette takes the first route that
matches: every route must still be the one a request to its own path reaches, so that no
template (.../documents/{documentName}) swallows a fixed path (.../documents/:export)."""

import asyncio
import re
from pathlib import Path

from spanledger.api.app import create_app
from spanledger.bootstrap import build
from spanledger.bootstrap.settings import Settings


def _route_reached(app, method: str, path: str) -> str | None:
    """The template of the route that answers `method path` (the key is left out: the route
    is chosen before the key is checked)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"api-version=2025-05-15-preview",
             "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: dict) -> None:
        pass

    asyncio.run(app(scope, receive, send))
    route = scope.get("route")
    return getattr(route, "path", None)


def test_each_documented_route_is_reached_by_a_request_to_its_own_path(tmp_path: Path):
    container = build(Settings(data_dir=tmp_path))
    try:
        app = create_app(container)
        operations = [(method.upper(), template) for template, methods in app.openapi()["paths"].items()
                      for method in methods]
        assert len(operations) > 50
        for method, template in operations:
            path = re.sub(r"\{(\w+)\}", lambda m: f"sample-{m.group(1)}", template)
            assert _route_reached(app, method, path) == template, (method, template)
    finally:
        container.close()
