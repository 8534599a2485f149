"""X-Acting-For: the person a client app acts for, when it serves many people through one key.

The events a request writes then record `key:KEYID for NAME` as their actor (and `acting_for`
beside it), instead of the key's own `key:KEYID (KEYNAME)`: the key stays accountable (a
filter on `key:KEYID` alone finds both), the name is the app's statement. The header is checked with the API key, before the body is
read, by the rules names share (domain.rules.name_problem), and capped so that the actor fits
the read model's 64-character actor column.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from spanledger.api.errors import ApiError
from spanledger.domain.application import Principal
from spanledger.domain.rules import name_problem
from spanledger.observability.request_context import current_request

ACTING_FOR_HEADER = "X-Acting-For"
ACTOR_COLUMN_CHARACTERS = 64  # projections.tables: the actor columns
_KEY_ID_CHARACTERS = 8  # Spanledger._issue_key: 4 random bytes in hex
MAX_ACTING_FOR = 40
assert len("key:") + _KEY_ID_CHARACTERS + len(" for ") + MAX_ACTING_FOR <= ACTOR_COLUMN_CHARACTERS

DESCRIPTION = (
    f"Who the caller acts for, for client apps that serve many people through one key: the events this request "
    f"writes record `key:KEYID for NAME` as their actor (the audit's actor filter takes that). UTF-8, 1-{MAX_ACTING_FOR} "
    "characters (so that the actor fits the audit's 64), Unicode NFC, no control or format characters (bidi "
    "overrides, zero-width, BOM), no spaces at the ends, not '.' or '..'; refused with 400 otherwise."
)


@dataclass(frozen=True)
class ActingPrincipal(Principal):
    acting_for: str = ""

    @property
    def actor(self) -> str:
        return f"key:{self.key_id} for {self.acting_for}"


def acting_for(request: Request) -> str | None:
    """The header's value, checked; None when it is not sent."""
    values = [value for name, value in request.scope.get("headers", ()) if name == b"x-acting-for"]
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(400, "InvalidArgument", f"Send {ACTING_FOR_HEADER} once.", ACTING_FOR_HEADER)
    try:
        name = values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "InvalidArgument", f"{ACTING_FOR_HEADER} must be UTF-8.", ACTING_FOR_HEADER) from None
    problem = name_problem(name, MAX_ACTING_FOR)
    if problem:
        raise ApiError(400, "InvalidArgument", f"{ACTING_FOR_HEADER} {problem} (the events record 'key:KEYID for NAME' "
                       f"as their actor, in at most {ACTOR_COLUMN_CHARACTERS} characters).", ACTING_FOR_HEADER)
    return name


def acting_principal(request: Request, principal: Principal) -> Principal:
    """The caller as the request's events record it: for the person the header names, if any."""
    name = acting_for(request)
    if name is None:
        return principal
    context = current_request.get()
    if context is not None:
        context.acting_for = name
    return ActingPrincipal(principal.resource_id, principal.key_id, principal.key_name, name)
