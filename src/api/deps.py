"""Request dependencies: the container, the caller, the api-version, paging, offsets units,
and read-your-writes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from spanledger.api.acting_for import ACTING_FOR_HEADER, DESCRIPTION, MAX_ACTING_FOR, acting_principal
from spanledger.api.errors import ApiError
from spanledger.bootstrap import Container
from spanledger.domain.application import Principal
from spanledger.domain.offsets import StringIndexType

KEY_HEADER = "Ocp-Apim-Subscription-Key"
POSITION_HEADER = "X-Log-Position"
MIN_POSITION_HEADER = "X-Min-Log-Position"
# The text authoring API versions Azure's clients send (the .NET and Python authoring clients
# list these); spanledger answers each the same way.
API_VERSIONS = ("2022-05-01", "2023-04-01", "2023-04-15-preview", "2024-11-15-preview", "2025-05-15-preview",
                "2026-05-15-preview")
MAX_INT = 2**62  # positions and offsets in numbers a BIGINT column holds
_LOOK_EVERY = 0.25  # seconds between looks at the stored positions while a read waits


# Dependencies that only look at the request are `async def`: FastAPI runs a plain `def`
# in a worker thread, and each such hop cost more than the whole database read here.


async def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


async def check_api_version(
    version: Annotated[str, Query(alias="api-version", json_schema_extra={"enum": list(API_VERSIONS)})],
) -> str:
    if version not in API_VERSIONS:
        raise ApiError(400, "UnsupportedApiVersion", f"The api-version {version[:40]!r} is not supported. The "
                       f"supported versions are {', '.join(API_VERSIONS)}.", "api-version")
    return version


class KeyCache:
    """API keys checked in the last `ttl` seconds are trusted without a trip to the event
    store, so most requests need no database read (nor a worker thread) to authenticate;
    a revoked key stops working within `ttl`."""

    def __init__(self, ttl: float = 1.0, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._checked: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        entry = self._checked.get(key)
        return entry[1] if entry and time.monotonic() - entry[0] < self.ttl else None

    def put(self, key: str, principal: Principal) -> None:
        if len(self._checked) >= self.size:
            self._checked.clear()
        self._checked[key] = (time.monotonic(), principal)


async def authenticate(request: Request) -> Principal:
    """The caller, from its API key; kept on the request, so that the key is checked once and
    before the body is read (api.routing)."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return principal
    key = request.headers.get(KEY_HEADER)
    if not key:
        raise ApiError(401, "Unauthorized", f"Send an API key in the {KEY_HEADER} header.", KEY_HEADER)
    keys: KeyCache = request.app.state.keys
    principal = keys.get(key)
    if principal is None:
        container: Container = request.app.state.container
        principal = await run_in_threadpool(container.app.authenticate, key)
        if principal is None:
            raise ApiError(401, "Unauthorized", "The API key is not valid or was revoked.", KEY_HEADER)
        keys.put(key, principal)
    principal = acting_principal(request, principal)  # checks X-Acting-For, still before the body
    request.state.principal = principal
    return principal


API_KEY = APIKeyHeader(name=KEY_HEADER, auto_error=False, description="An API key of the resource.")


ActingFor = Annotated[str | None, Header(alias=ACTING_FOR_HEADER, description=DESCRIPTION,
                                         json_schema_extra={"maxLength": MAX_ACTING_FOR})]


async def get_principal(request: Request, _: Annotated[str | None, Security(API_KEY)] = None,
                        _acting_for: ActingFor = None) -> Principal:
    """The caller (the key and X-Acting-For were checked before the body was read;
    `API_KEY` and `ActingFor` document them)."""
    return await authenticate(request)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def consistent_reads(
    container: ContainerDep, principal: PrincipalDep,
    min_position: Annotated[int | None, Header(alias=MIN_POSITION_HEADER, ge=0, le=MAX_INT)] = None,
) -> None:
    """Waits until the read model holds the caller's own writes and any position it asked for.

    Usually it already does (a check in memory). A position beyond the log's head is refused
    at once; a real wait sleeps on the event loop, so waiting requests hold no thread that
    other requests need (a look at the stored positions, for runners in other processes,
    borrows one briefly now and then).
    """
    runner = container.runner
    needed = max(min_position or 0, container.last_write(principal.key_id))
    if not needed or runner.position() >= needed:
        return
    if min_position and min_position > runner.position():
        head = await run_in_threadpool(container.app.recorder.max_notification_id) or 0
        if min_position > head:
            raise ApiError(400, "InvalidArgument", f"{MIN_POSITION_HEADER} {min_position} is beyond the log's "
                           f"last position, {head}.", MIN_POSITION_HEADER)
    # Woken by the batch that reaches the position (together with every other read waiting
    # for it or less), and told to the follower, which then applies at once.
    loop = asyncio.get_running_loop()
    reached = loop.create_future()

    def wake() -> None:
        loop.call_soon_threadsafe(lambda: reached.done() or reached.set_result(None))

    handle = runner.when_reached(needed, wake)
    if handle is None:
        return
    try:
        runner.demand(needed)
        deadline = time.monotonic() + container.settings.read_wait_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ApiError(
                    503, "ServiceUnavailable",
                    f"The read model has not reached log position {needed} yet; retry shortly.",
                    MIN_POSITION_HEADER, headers={"Retry-After": "1"},
                )
            try:
                await asyncio.wait_for(asyncio.shield(reached), min(_LOOK_EVERY, remaining))
                return
            except TimeoutError:
                pass
            if await run_in_threadpool(runner.stored_position) >= needed:  # runners in other processes
                return
    finally:
        runner.forget(handle)


Consistent = Depends(consistent_reads)


def record_write(response: Response, container: Container, principal: Principal, position: int | None) -> None:
    """Tells the client where its write landed in the log, and remembers it for its next reads."""
    if position is None:
        return
    response.headers[POSITION_HEADER] = str(position)
    container.remember_write(principal.key_id, position)


async def get_index_type(
    index_type: Annotated[StringIndexType, Query(alias="stringIndexType")] = StringIndexType.UTF16,
) -> StringIndexType:
    return index_type


IndexTypeDep = Annotated[StringIndexType, Depends(get_index_type)]

# Path parameters as the OpenAPI document describes them; the rules are enforced where input
# enters (api.guard, domain.rules), these describe them.
_NAME_RULES = ("Unicode NFC, no control or format characters (bidi overrides, zero-width, BOM), no spaces at "
               "the ends, not '.' or '..'")
ProjectName = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$",
                                  description="Letters, digits, '_', '.' and '-'; not 'global', '.' or '..'.")]
DocumentName = Annotated[str, Path(min_length=1, max_length=128,
                                   description=f"{_NAME_RULES}; none of / \\ ? # % :.")]
EntityName = Annotated[str, Path(min_length=1, max_length=50, description=f"{_NAME_RULES}; none of : $ & % * ( ) + ~ # / ?.")]
ModelLabel = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$",
                                 description="Letters, digits, '_', '.' and '-'.")]
IfMatch = Annotated[str | None, Header(alias="If-Match", pattern=r'^\s*(\*|(W/)?"?[0-9]{1,18}"?)\s*$',
                                       description='The ETag a read returned ("3"): the write is refused (412) if the '
                                       'document changed since; "*" or absent: no check.')]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Paging:
    skip: int
    top: int | None
    maxpagesize: int | None

    @property
    def size(self) -> int:
        size = min(self.maxpagesize or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return size if self.top is None else min(size, self.top)

    def next_link(self, request: Request, returned: int, more: bool) -> str | None:
        """Azure's nextLink: the same request, skipping what this page returned."""
        remaining = None if self.top is None else self.top - returned
        if not more or remaining == 0:
            return None
        params = {"skip": self.skip + returned}
        if remaining is not None:
            params["top"] = remaining
        url = request.url.include_query_params(**params)
        return request.app.state.container.settings.base_url + url.path + "?" + url.query


async def get_paging(
    top: Annotated[int | None, Query(ge=0)] = None,
    skip: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    maxpagesize: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
) -> Paging:
    return Paging(skip, top, maxpagesize)


PagingDep = Annotated[Paging, Depends(get_paging)]


def page(request: Request, paging: Paging, items: list[dict], more: bool) -> dict:
    body: dict = {"value": items}
    link = paging.next_link(request, len(items), more)
    if link:
        body["nextLink"] = link
    return body
