"""The leanest write path conceivable on this stack, for write_bound.py: uvicorn and a bare
ASGI callable doing what `:save-labels` does (the key, from a cache after its first check;
the body, parsed by orjson; the same `save_labels` command) with none of FastAPI, Starlette,
validation, middleware, metrics or logging. Not a server anyone should run: a bound.

BOUND_THREAD=1: the command runs in a worker thread (as spanledger's sync routes do), else on
the event loop. BOUND_FOLLOW=1: the read model follows the log in this process, and a GET
with X-Min-Log-Position waits until it holds that position.
"""

import asyncio
import os
from pathlib import Path

import anyio.to_thread
import orjson

from spanledger.bootstrap import build
from spanledger.bootstrap.settings import Settings
from spanledger.domain.application import LabelSpec

follow = os.environ.get("BOUND_FOLLOW") == "1"
in_thread = os.environ.get("BOUND_THREAD") == "1"
container = build(Settings(data_dir=Path(os.environ["SPANLEDGER_DATA_DIR"]),
                           database_url=os.environ.get("SPANLEDGER_DATABASE_URL")), follow=follow)
principals = {}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    headers = dict(scope["headers"])
    key = headers[b"ocp-apim-subscription-key"].decode()
    principal = principals.get(key) or principals.setdefault(key, container.app.authenticate(key))
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer, extra = b"{}", []
    if scope["method"] == "POST":  # .../projects/{project}/documents/{document}/:save-labels
        *_, project, _, document, _ = scope["path"].split("/")
        add = [LabelSpec(a["category"], a["offset"], a["length"]) for a in orjson.loads(body)["add"]]

        def save():
            return container.app.save_labels(principal.resource_id, project, document, add=add, actor=principal.actor)

        saved = await anyio.to_thread.run_sync(save) if in_thread else save()
        answer = orjson.dumps({"added": saved.added, "version": saved.version})
        extra = [(b"x-log-position", str(saved.position).encode())]
    elif follow and b"x-min-log-position" in headers:
        needed = int(headers[b"x-min-log-position"])
        container.runner.demand(needed)  # the follower applies at once, as for spanledger's reads
        while container.runner.position() < needed:
            await asyncio.sleep(0.001)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), *extra]})
    await send({"type": "http.response.body", "body": answer})
