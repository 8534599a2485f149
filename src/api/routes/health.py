"""A liveness probe: no key, no database; how far the read model has followed the log."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ContainerDep
from api.response_bodies import Health, ok

router = APIRouter()


@router.get("/health", response_model=None, responses=ok(Health))
async def health(container: ContainerDep) -> dict:
    """Liveness, with the log position the read model has reached (no key needed)."""
    return {"status": "ok", "readModelPosition": container.runner.position()}
