"""Rows as typed records, and the conversions between them and the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from execbroker.model.phases import SessionPhase


@dataclass(slots=True)
class SessionRecord:
    uuid: str
    offerset_uuid: str
    position: int
    created: float
    modified: float
    owner: str
    dialect: str
    phase: SessionPhase
    body: dict[str, Any]
    expires: float | None = None
    due: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    version: int = 0
    pool: str | None = None
    prepare_at: float | None = None
    start_at: float | None = None
    end_at: float | None = None
    release_end_at: float | None = None
    ending: str | None = None
    needs_release: bool = False
    platform_state: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "offerset_uuid": self.offerset_uuid,
            "position": self.position,
            "created": self.created,
            "modified": self.modified,
            "owner": self.owner,
            "dialect": self.dialect,
            "phase": self.phase.value,
            "expires": self.expires,
            "due": self.due,
            "lease_owner": self.lease_owner,
            "lease_until": self.lease_until,
            "version": self.version,
            "pool": self.pool,
            "prepare_at": self.prepare_at,
            "start_at": self.start_at,
            "end_at": self.end_at,
            "release_end_at": self.release_end_at,
            "ending": self.ending,
            "needs_release": self.needs_release,
            "body": self.body,
            "platform_state": self.platform_state,
        }

    @classmethod
    def from_row(cls, row: Any) -> SessionRecord:
        m = row._mapping
        return cls(
            uuid=m["uuid"],
            offerset_uuid=m["offerset_uuid"],
            position=m["position"],
            created=m["created"],
            modified=m["modified"],
            owner=m["owner"],
            dialect=m["dialect"],
            phase=SessionPhase(m["phase"]),
            body=m["body"],
            expires=m["expires"],
            due=m["due"],
            lease_owner=m["lease_owner"],
            lease_until=m["lease_until"],
            version=m["version"],
            pool=m["pool"],
            prepare_at=m["prepare_at"],
            start_at=m["start_at"],
            end_at=m["end_at"],
            release_end_at=m["release_end_at"],
            ending=m["ending"],
            needs_release=bool(m["needs_release"]),
            platform_state=m["platform_state"] or {},
        )


@dataclass(slots=True)
class OfferSetRecord:
    uuid: str
    created: float
    owner: str
    dialect: str
    result: str
    body: dict[str, Any]

    def as_row(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "created": self.created,
            "owner": self.owner,
            "dialect": self.dialect,
            "result": self.result,
            "body": self.body,
        }

    @classmethod
    def from_row(cls, row: Any) -> OfferSetRecord:
        m = row._mapping
        return cls(m["uuid"], m["created"], m["owner"], m["dialect"], m["result"], m["body"])


@dataclass(slots=True)
class Hold:
    """One reservation to write: a pool, a half-open interval [start, end) and amounts."""

    pool: str
    session_uuid: str
    start: float
    end: float
    cores: int
    memory: int
    storage: int
    gpus: int
    #: The same interval as grid slots ``[first, stop)`` of the capacity resolution, when the
    #: planner already knows them (saves converting the times back).
    grid_slots: tuple[int, int] | None = None
