"""The Project aggregate: name, language, entity types and settings such as the overlap policy."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from spanledger.domain.aggregate import Recreatable, recreate, snapshot_class
from spanledger.domain.errors import Conflict, InvalidArgument, NotFound
from spanledger.domain.rules import MAX_ENTITIES_PER_PROJECT, check_entity_name, check_language, check_no_nul

MAX_DEPLOYMENTS = 10  # Azure's limit per project
_DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,50}")


def check_deployment_name(name: str) -> str:
    """Deployment names follow the rules of model labels."""
    if not isinstance(name, str) or not _DEPLOYMENT_NAME.fullmatch(name) or name in (".", ".."):
        raise InvalidArgument(f"Deployment name {name!r} is invalid: use 1-50 letters, digits, '_', '.' or '-'.",
                              "deploymentName")
    return name

OVERLAP_POLICIES = ("reject", "allow")

# The project fields a client may set, with their defaults.
PROJECT_FIELDS: dict[str, Any] = {
    "language": None,
    "description": "",
    "multilingual": False,
    "settings": {},
    "storage_input_container_name": "",
    "overlap_policy": "reject",
}


def check_project_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise InvalidArgument(f"Unknown project field(s): {', '.join(sorted(unknown))}.", sorted(unknown)[0])
    checked = dict(fields)
    if "language" in checked:
        checked["language"] = check_language(checked["language"])
    if "overlap_policy" in checked and checked["overlap_policy"] not in OVERLAP_POLICIES:
        raise InvalidArgument(
            f"overlapPolicy must be one of {', '.join(OVERLAP_POLICIES)}.", "overlapPolicy"
        )
    if "settings" in checked and not isinstance(checked["settings"], dict):
        raise InvalidArgument("settings must be an object.", "settings")
    for field, target in (("description", "description"), ("storage_input_container_name", "storageInputContainerName")):
        if isinstance(checked.get(field), str):
            check_no_nul(checked[field], target)
    return checked


class Project(Aggregate):
    TOPIC = "Project"

    class Event(Aggregate.Event):
        actor: str

    class Created(Event, Recreatable):
        TOPIC = "ProjectCreated"
        resource_id: str
        name: str
        fields: dict[str, Any]

        def apply(self, project: Project) -> None:
            project.resource_id = self.resource_id
            project.name = self.name
            project.fields = dict(self.fields)
            project.entities = {}
            project.deleted = False
            project.incarnation = self.originator_version

    class Updated(Event):
        TOPIC = "ProjectUpdated"
        changes: dict[str, Any]

        def apply(self, project: Project) -> None:
            project.fields.update(self.changes)

    class Deleted(Event):
        TOPIC = "ProjectDeleted"
        job_id: str

        def apply(self, project: Project) -> None:
            project.deleted = True
            project.entities = {}

    class EntityAdded(Event):
        TOPIC = "EntityAdded"
        entity_id: str
        name: str

        def apply(self, project: Project) -> None:
            project.entities[self.name] = self.entity_id

    class EntityRemoved(Event):
        """Removes the entity type and, implicitly, every label of it (see Document.live_labels)."""

        TOPIC = "EntityRemoved"
        entity_id: str
        name: str

        def apply(self, project: Project) -> None:
            del project.entities[self.name]

    class Imported(Event):
        """The project was (re)made from a project file, in the same transaction as this event."""

        TOPIC = "ProjectImported"
        job_id: str
        digest: str  # SHA-256 of the file as sent
        project_file_version: str
        string_index_type: str
        documents: int
        labels: int

        def apply(self, project: Project) -> None:
            project.operations()[self.job_id] = {"kind": "import", "at": self.timestamp.isoformat()}

    class Exported(Event):
        """Someone took the project's labels out, as a project file (digest: the file's)."""

        TOPIC = "ProjectExported"
        job_id: str
        digest: str
        string_index_type: str

        def apply(self, project: Project) -> None:
            project.operations()[self.job_id] = {"kind": "export", "at": self.timestamp.isoformat(),
                                                "digest": self.digest}

    class Deployed(Event):
        """A deployment names a model as it was when deployed: retraining the label later
        changes nothing deployed until it is deployed again."""

        TOPIC = "ModelDeployed"
        job_id: str
        deployment: str
        model_label: str
        artifact: str
        trained_at: str
        training_config_version: str

        def apply(self, project: Project) -> None:
            project.deployments()[self.deployment] = {
                "model_label": self.model_label, "artifact": self.artifact, "trained_at": self.trained_at,
                "training_config_version": self.training_config_version, "deployed_at": self.timestamp.isoformat()}
            project.operations()[self.job_id] = {"kind": "deploy", "at": self.timestamp.isoformat(),
                                                 "deployment": self.deployment}

    class DeploymentDeleted(Event):
        TOPIC = "DeploymentDeleted"
        job_id: str
        deployment: str

        def apply(self, project: Project) -> None:
            del project.deployments()[self.deployment]
            project.operations()[self.job_id] = {"kind": "deleteDeployment", "at": self.timestamp.isoformat(),
                                                 "deployment": self.deployment}

    class DeploymentsSwapped(Event):
        TOPIC = "DeploymentsSwapped"
        job_id: str
        first: str
        second: str

        def apply(self, project: Project) -> None:
            deployed = project.deployments()
            deployed[self.first], deployed[self.second] = deployed[self.second], deployed[self.first]
            project.operations()[self.job_id] = {"kind": "swap", "at": self.timestamp.isoformat()}

    Snapshot = snapshot_class("ProjectSnapshot")

    def __init__(self) -> None:
        self.resource_id: str
        self.name: str
        self.fields: dict[str, Any]
        # Entity name -> entity id. A removed and re-added entity gets a new id, so labels
        # of the removed one stay dead.
        self.entities: dict[str, str]
        self.deleted: bool
        self.incarnation: int

    @classmethod
    def create(
        cls, project_id: UUID, resource_id: UUID, name: str, fields: dict[str, Any], actor: str
    ) -> Project:
        fields = cls._creation_fields(fields)
        return cls._create(
            cls.Created, id=project_id, resource_id=str(resource_id), name=name, fields=fields, actor=actor
        )

    def recreate(self, fields: dict[str, Any], actor: str) -> None:
        assert self.deleted, "only a deleted project can be created again"
        recreate(self, self.Created, resource_id=self.resource_id, name=self.name,
                 fields=self._creation_fields(fields), actor=actor)

    @staticmethod
    def _creation_fields(fields: dict[str, Any]) -> dict[str, Any]:
        """Every field, the defaults filled in: the event says all there is to the project."""
        fields = {**PROJECT_FIELDS, **check_project_fields(fields)}
        if not fields["language"]:
            raise InvalidArgument("A new project needs a language.", "language")
        return fields

    @property
    def overlap_allowed(self) -> bool:
        return self.fields["overlap_policy"] == "allow"

    def update(self, fields: dict[str, Any], actor: str) -> bool:
        changes = {k: v for k, v in check_project_fields(fields).items() if self.fields.get(k) != v}
        if changes:
            self.trigger_event(self.Updated, changes=changes, actor=actor)
        return bool(changes)

    def delete(self, job_id: str, actor: str) -> None:
        self.trigger_event(self.Deleted, job_id=job_id, actor=actor)

    def add_entity(self, name: str, actor: str) -> bool:
        check_entity_name(name)
        if name in self.entities:
            return False
        if len(self.entities) >= MAX_ENTITIES_PER_PROJECT:
            raise Conflict(
                f"Project {self.name!r} already has {MAX_ENTITIES_PER_PROJECT} entities, the maximum.",
                "category",
            )
        self.trigger_event(self.EntityAdded, entity_id=f"E{self.version + 1}", name=name, actor=actor)
        return True

    def remove_entity(self, name: str, actor: str) -> None:
        if name not in self.entities:
            raise NotFound(f"Project {self.name!r} has no entity {name!r}.", "category")
        self.trigger_event(self.EntityRemoved, entity_id=self.entities[name], name=name, actor=actor)

    def operations(self) -> dict[str, dict[str, str]]:
        """Import, export and deployment jobs by id, with their kind (projects snapshotted
        before these existed lack them)."""
        return self.__dict__.setdefault("operation_jobs", {})

    def operation(self, job_id: str, kinds: tuple[str, ...], deployment: str | None = None) -> dict[str, str]:
        """The import, export or deployment job `job_id`, if it is of one of `kinds` (and of
        `deployment`, when named); else NotFound."""
        job = self.operations().get(job_id)
        if job is None or job["kind"] not in kinds or (deployment is not None and job.get("deployment") != deployment):
            raise NotFound(f"Project {self.name!r} has no such job {job_id!r}.", "jobId")
        return job

    def deployments(self) -> dict[str, dict[str, str]]:
        """Deployment name -> the model it serves, as deployed."""
        return self.__dict__.setdefault("deployed", {})

    def deploy(self, job_id: str, name: str, model_label: str, artifact: str, trained_at: str,
               training_config_version: str, actor: str) -> None:
        check_deployment_name(name)
        if name not in self.deployments() and len(self.deployments()) >= MAX_DEPLOYMENTS:
            raise Conflict(f"Project {self.name!r} has {MAX_DEPLOYMENTS} deployments, the most it may.",
                           "deploymentName")
        self.trigger_event(self.Deployed, job_id=job_id, deployment=name, model_label=model_label,
                           artifact=artifact, trained_at=trained_at, training_config_version=training_config_version,
                           actor=actor)

    def deployment(self, name: str, target: str = "deploymentName") -> dict[str, str]:
        found = self.deployments().get(name)
        if found is None:
            raise NotFound(f"Project {self.name!r} has no deployment {name!r}.", target)
        return found

    def delete_deployment(self, job_id: str, name: str, actor: str) -> None:
        self.deployment(name)
        self.trigger_event(self.DeploymentDeleted, job_id=job_id, deployment=name, actor=actor)

    def swap_deployments(self, job_id: str, first: str, second: str, actor: str) -> None:
        self.deployment(first, "firstDeploymentName")
        self.deployment(second, "secondDeploymentName")
        if first == second:
            raise InvalidArgument("A deployment cannot be swapped with itself.", "secondDeploymentName")
        self.trigger_event(self.DeploymentsSwapped, job_id=job_id, first=first, second=second, actor=actor)

    def imported(self, job_id: str, digest: str, version: str, unit: str, documents: int, labels: int,
                 actor: str) -> None:
        self.trigger_event(self.Imported, job_id=job_id, digest=digest, project_file_version=version,
                           string_index_type=unit, documents=documents, labels=labels, actor=actor)

    def exported(self, job_id: str, digest: str, unit: str, actor: str) -> None:
        self.trigger_event(self.Exported, job_id=job_id, digest=digest, string_index_type=unit, actor=actor)

    def entity_id(self, name: str, target: str = "category") -> str:
        try:
            return self.entities[name]
        except KeyError:
            raise InvalidArgument(
                f"Entity {name!r} is not defined in project {self.name!r}.", target
            ) from None
