"""Request dependencies: the container, the caller, the api-version, paging, offsets units,
and read-your-writes."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.errors import ApiError
from bootstrap import Container
from domain.application import Principal
from domain.offsets import StringIndexType

KEY_HEADER = "Ocp-Apim-Subscription-Key"
POSITION_HEADER = "X-Log-Position"
MIN_POSITION_HEADER = "X-Min-Log-Position"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
MAX_INT = 2**62  # positions and offsets in numbers a BIGINT column holds


# Dependencies that only look at the request are `async def`: FastAPI runs a plain `def`
# in a worker thread, and each such hop cost more than the whole database read here.


async def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


async def check_api_version(version: Annotated[str, Query(alias="api-version")]) -> str:
    if not _API_VERSION.fullmatch(version):
        raise ApiError(400, "InvalidArgument", f"api-version {version!r} is not a version such as "
                       "'2025-05-15-preview'.", "api-version")
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


async def get_principal(
    request: Request, container: ContainerDep, key: Annotated[str | None, Header(alias=KEY_HEADER)] = None
) -> Principal:
    if not key:
        raise ApiError(401, "Unauthorized", f"Send an API key in the {KEY_HEADER} header.", KEY_HEADER)
    keys: KeyCache = request.app.state.keys
    principal = keys.get(key)
    if principal is None:
        principal = await run_in_threadpool(container.app.authenticate, key)
        if principal is None:
            raise ApiError(401, "Unauthorized", "The API key is not valid or was revoked.", KEY_HEADER)
        keys.put(key, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def consistent_reads(
    container: ContainerDep, principal: PrincipalDep,
    min_position: Annotated[int | None, Header(alias=MIN_POSITION_HEADER, ge=0, le=MAX_INT)] = None,
) -> None:
    """Waits until the read model holds the caller's own writes and any position it asked for.

    Usually it already does (a check in memory); only a real wait goes to a worker thread.
    """
    needed = max(min_position or 0, container.last_write(principal.key_id))
    if not needed or container.runner.position() >= needed:
        return
    if not await run_in_threadpool(container.runner.wait_for, needed, container.settings.read_wait_seconds):
        raise ApiError(
            503, "ServiceUnavailable",
            f"The read model has not reached log position {needed} yet; retry shortly.",
            MIN_POSITION_HEADER, headers={"Retry-After": "1"},
        )


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
        return str(request.url.include_query_params(**params))


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
