"""The Resource aggregate: a tenant, its API keys (stored hashed) and its monthly quota limit."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import snapshot_class
from spanledger.domain.errors import InvalidArgument, NotFound

DEFAULT_MONTHLY_TEXT_RECORDS = 5000
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Who holds a key, as the audit shows it beside the key's id ("key:1a2b3c4d (alice)").
_KEY_NAME = re.compile(r"[A-Za-z0-9_.@+-]+( [A-Za-z0-9_.@+-]+)*")
MAX_KEY_NAME = 40


def hash_api_key(key: str) -> str:
    # Keys carry 192 random bits, so a fast hash is enough (as for GitHub or Stripe tokens).
    return hashlib.sha256(key.encode()).hexdigest()


def check_key_name(name: str | None) -> str | None:
    if name is not None and (not isinstance(name, str) or len(name) > MAX_KEY_NAME or not _KEY_NAME.fullmatch(name)):
        raise InvalidArgument(
            f"Key name {name!r} is invalid: use 1-{MAX_KEY_NAME} letters, digits, '_', '.', '@', '+' or '-', "
            "words separated by single spaces.", "keyName")
    return name


def check_resource_name(name: str) -> str:
    if not isinstance(name, str) or not _RESOURCE_NAME.fullmatch(name) or name in (".", ".."):
        raise InvalidArgument(
            f"Resource name {name!r} is invalid: use 1-64 letters, digits, '_', '.' or '-'.",
            "name",
        )
    return name


class Resource(Aggregate):
    TOPIC = "Resource"

    class Event(Aggregate.Event):
        actor: str

    class Created(Event, Aggregate.Created):
        TOPIC = "ResourceCreated"
        name: str
        monthly_text_records: int

        def apply(self, resource: Resource) -> None:
            resource.name = self.name
            resource.monthly_text_records = self.monthly_text_records
            resource.keys = {}

    class ApiKeyIssued(Event):
        TOPIC = "ApiKeyIssued"
        key_id: str
        key_hash: str
        name: str | None = None  # who holds it (keys issued before names were: none)

        def apply(self, resource: Resource) -> None:
            resource.keys[self.key_id] = {"hash": self.key_hash, "revoked": False, "name": self.name}

    class ApiKeyRevoked(Event):
        TOPIC = "ApiKeyRevoked"
        key_id: str

        def apply(self, resource: Resource) -> None:
            resource.keys[self.key_id]["revoked"] = True

    Snapshot = snapshot_class("ResourceSnapshot")

    def __init__(self) -> None:
        self.name: str
        self.monthly_text_records: int
        self.keys: dict[str, dict[str, Any]]

    @classmethod
    def create(cls, resource_id: Any, name: str, monthly_text_records: int, actor: str) -> Resource:
        check_resource_name(name)
        if monthly_text_records < 0:
            raise InvalidArgument("The monthly text-record limit cannot be negative.", "monthlyTextRecords")
        return cls._create(
            cls.Created, id=resource_id, name=name, monthly_text_records=monthly_text_records, actor=actor
        )

    def issue_key(self, key_id: str, key: str, actor: str, name: str | None = None) -> None:
        self.trigger_event(self.ApiKeyIssued, key_id=key_id, key_hash=hash_api_key(key), name=check_key_name(name),
                           actor=actor)

    def key_name(self, key_id: str) -> str | None:
        return self.keys[key_id].get("name")

    def revoke_key(self, key_id: str, actor: str) -> None:
        if key_id not in self.keys:
            raise NotFound(f"Resource {self.name!r} has no API key {key_id!r}.", "keyId")
        if not self.keys[key_id]["revoked"]:
            self.trigger_event(self.ApiKeyRevoked, key_id=key_id, actor=actor)

    def key_id_for(self, key: str) -> str | None:
        """The id of the live key equal to `key`, compared in constant time."""
        digest = hash_api_key(key)
        for key_id, stored in self.keys.items():
            if hmac.compare_digest(stored["hash"], digest) and not stored["revoked"]:
                return key_id
        return None
