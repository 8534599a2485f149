"""Probes for an orchestrator, with no key: liveness (`/health`, touches no database) and
readiness (`/ready`: the log and the read model answer, and no projection lags too far)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from spanledger.api.deps import ContainerDep
from spanledger.api.response_bodies import Health, Readiness, ok
from spanledger.api.responses import JsonResponse

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/health", response_model=None, responses=ok(Health))
async def health(container: ContainerDep) -> dict:
    """Liveness, with the log position the read model has reached (no key needed)."""
    return {"status": "ok", "readModelPosition": container.runner.position()}


@router.get("/ready", response_model=None, response_class=JsonResponse, responses={
    **ok(Readiness, "Ready: the log and the read model answer, each projection within `SPANLEDGER_READY_MAX_LAG` "
                    "events of the log's head."),
    503: {"model": Readiness, "description": "Not ready: a store does not answer, or a projection lags."},
})
async def ready(container: ContainerDep) -> JsonResponse:
    """Readiness: whether this process can serve, and how far each projection is behind."""
    try:
        head, positions = await run_in_threadpool(_state, container)
    except Exception as error:  # the log or the read model does not answer: not ready, and why
        log.warning("not ready: %s", error)
        return JsonResponse({"status": "notReady", "reason": f"A store does not answer: {type(error).__name__}."},
                            status_code=503)
    projections = {name: {"position": p, "behind": max(head - p, 0)} for name, p in sorted(positions.items())}
    lagging = sorted(name for name, p in projections.items() if p["behind"] > container.settings.ready_max_lag)
    body = {"status": "notReady" if lagging else "ready", "logPosition": head, "projections": projections}
    if lagging:
        body["reason"] = f"Behind the log by more than {container.settings.ready_max_lag:,} events: {', '.join(lagging)}."
    return JsonResponse(body, status_code=503 if lagging else 200)


def _state(container) -> tuple[int, dict[str, int]]:
    return container.app.recorder.max_notification_id() or 0, container.runner.positions()
