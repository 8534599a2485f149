"""Request dependencies: the container, the caller, the api-version, paging, offsets units,
and read-your-writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response

from api.errors import ApiError
from bootstrap import Container
from domain.application import Principal
from domain.offsets import StringIndexType

KEY_HEADER = "Ocp-Apim-Subscription-Key"
POSITION_HEADER = "X-Log-Position"
MIN_POSITION_HEADER = "X-Min-Log-Position"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def check_api_version(version: Annotated[str, Query(alias="api-version")]) -> str:
    if not _API_VERSION.fullmatch(version):
        raise ApiError(400, "InvalidArgument", f"api-version {version!r} is not a version such as "
                       "'2025-05-15-preview'.", "api-version")
    return version


def get_principal(
    container: ContainerDep, key: Annotated[str | None, Header(alias=KEY_HEADER)] = None
) -> Principal:
    if not key:
        raise ApiError(401, "Unauthorized", f"Send an API key in the {KEY_HEADER} header.", KEY_HEADER)
    principal = container.app.authenticate(key)
    if principal is None:
        raise ApiError(401, "Unauthorized", "The API key is not valid or was revoked.", KEY_HEADER)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def consistent_reads(
    container: ContainerDep, principal: PrincipalDep,
    min_position: Annotated[int | None, Header(alias=MIN_POSITION_HEADER, ge=0)] = None,
) -> None:
    """Waits until the read model holds the caller's own writes and any position it asked for."""
    needed = max(min_position or 0, container.written.get(principal.key_id, 0))
    if needed and not container.runner.wait_for(needed, container.settings.read_wait_seconds):
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
    if position > container.written.get(principal.key_id, 0):
        container.written[principal.key_id] = position


def get_index_type(
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


def get_paging(
    top: Annotated[int | None, Query(ge=0)] = None,
    skip: Annotated[int, Query(ge=0)] = 0,
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
