"""The caller's resource's monthly text-record quota (spanledger extension)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from spanledger.api.deps import Consistent, ContainerDep, PrincipalDep
from spanledger.api.errors import ApiError
from spanledger.api.response_bodies import Quota, ok
from spanledger.api.routing import authoring_router
from spanledger.projections import queries

router = authoring_router("/language/authoring/analyze-text")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@router.get("/quota", dependencies=[Consistent], responses=ok(Quota))
def quota(container: ContainerDep, principal: PrincipalDep,
          month: Annotated[str | None, Query()] = None) -> dict:
    """This month's (or `month=YYYY-MM`'s) text records, per project and in total: reserved by
    jobs, charged for what they processed, refunded for what they did not."""
    if month is not None and not _MONTH.fullmatch(month):
        raise ApiError(400, "InvalidArgument", "month must be YYYY-MM.", "month")
    month = month or datetime.now(UTC).strftime("%Y-%m")
    with container.reads.connect() as conn:
        usage = queries.quota_usage_of(conn, str(principal.resource_id), month)
        names = queries.project_names(conn, list(usage.projects))

    def figures(reserved: int, charged: int, refunded: int) -> dict[str, int]:
        return {"reserved": reserved, "charged": charged, "refunded": refunded,
                "outstanding": reserved - charged - refunded}

    return {
        "month": month,
        "limit": usage.limit,
        **figures(usage.total("reserved"), usage.total("charged"), usage.total("refunded")),
        "remaining": usage.remaining,
        "projects": sorted(
            ({"projectName": names.get(project), "projectId": project, **figures(**f)}
             for project, f in usage.projects.items()),
            key=lambda p: (p["projectName"] or "", p["projectId"]),
        ),
    }
