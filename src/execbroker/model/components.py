"""The internal domain model: one superset of every dialect.

Shaped like the v1.0 classes (every component = kind + meta + lifecycle), plus the extras of the older
dialects (volume ``cardinality`` and ``resources`` lists, a request ``name``). Kind-specific fields whose
shape is the same in every dialect (a Docker image block, an S3 bucket, a SKAO replica list) are kept in
``spec`` as plain JSON-compatible data; typed views over them live in :mod:`execbroker.model.specs`.
Kinds are internal enums: URIs are a matter for :mod:`execbroker.wire`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from execbroker.model.messages import Message
from execbroker.model.phases import ComponentPhase, ConnectorStatus, SessionPhase
from execbroker.model.times import Interval

T = TypeVar("T")


class Family(StrEnum):
    """The component families; the value is the path segment of the component's URL."""

    EXECUTABLE = "executables"
    COMPUTE = "compute"
    STORAGE = "storage"
    DATA = "data"
    VOLUME = "volumes"
    SESSION = "sessions"
    OFFERSET = "offersets"


class ExecutableKind(StrEnum):
    DOCKER_CONTAINER = "docker-container"
    JUPYTER_NOTEBOOK = "jupyter-notebook"
    SINGULARITY_CONTAINER = "singularity-container"


class ComputeKind(StrEnum):
    SIMPLE = "simple-compute-resource"


class StorageKind(StrEnum):
    SIMPLE = "simple-storage-resource"


class DataKind(StrEnum):
    SIMPLE = "simple-data-resource"
    S3 = "S3-data-resource"
    RUCIO = "rucio-data-resource"
    IVOA = "ivoa-data-resource"
    SKAO = "skao-data-resource"


class VolumeKind(StrEnum):
    SIMPLE = "simple-volume-mount"


class SessionKind(StrEnum):
    SIMPLE = "simple-execution-session"
    SCHEDULED = "scheduled-execution-session"


class OptionKind(StrEnum):
    ENUM_VALUE = "uri:enum-value-option"
    STRING_VALUE = "uri:string-value-option"
    INTEGER_VALUE = "uri:integer-value-option"
    INTEGER_DELTA = "uri:integer-delta-option"


class UpdateKind(StrEnum):
    ENUM_VALUE = "uri:enum-value-update"
    STRING_VALUE = "uri:string-value-update"
    INTEGER_VALUE = "uri:integer-value-update"
    INTEGER_DELTA = "uri:integer-delta-update"


class Result(StrEnum):
    YES = "YES"
    NO = "NO"


@dataclass(slots=True)
class Option:
    kind: OptionKind
    path: str
    values: list[str] | None = None
    pattern: str | None = None
    min: int | None = None
    max: int | None = None
    units: str | None = None


@dataclass(slots=True)
class Meta:
    uuid: UUID | None = None
    name: str | None = None
    url: str | None = None
    description: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    messages: list[Message] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)


@dataclass(slots=True)
class Step:
    """A preparing or releasing step: an instant and a duration."""

    start: datetime | None = None
    duration: timedelta | None = None


@dataclass(slots=True)
class Window:
    """The available period: a start interval (zero width for an exact start) and a duration."""

    start: Interval | None = None
    duration: timedelta | None = None


@dataclass(slots=True)
class Schedule:
    preparing: Step | None = None
    available: Window | None = None
    releasing: Step | None = None

    def is_empty(self) -> bool:
        return self.preparing is None and self.available is None and self.releasing is None


@dataclass(slots=True)
class MinMax:
    min: int | None = None
    max: int | None = None


@dataclass(slots=True)
class Component:
    """What every component has: a kind URI as received, metadata and a lifecycle."""

    kind_uri: str | None = None
    meta: Meta = field(default_factory=Meta)
    phase: ComponentPhase | None = None
    schedule: Schedule | None = None
    costs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """A name for messages: the client's name, else the uuid, else '(unnamed)'."""
        if self.meta.name:
            return self.meta.name
        if self.meta.uuid:
            return str(self.meta.uuid)
        return "(unnamed)"


@dataclass(slots=True)
class Executable(Component):
    kind: ExecutableKind | None = None
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class VolumeMount(Component):
    kind: VolumeKind | None = None
    path: str | None = None
    mode: str | None = None
    cardinality: str | None = None
    resources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Compute(Component):
    kind: ComputeKind | None = None
    cores: MinMax | None = None
    memory: MinMax | None = None
    volumes: list[VolumeMount] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Storage(Component):
    kind: StorageKind | None = None
    size: MinMax | None = None
    data: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Data(Component):
    kind: DataKind | None = None
    storage: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Connector:
    kind: str | None = None
    status: ConnectorStatus | None = None
    protocol: str | None = None
    location: str | None = None


@dataclass(slots=True)
class RequestedSchedule:
    """What the client asked for; the raw strings are kept so that a NO can quote them."""

    duration: timedelta | None = None
    start: Interval | None = None
    duration_text: str | None = None
    start_text: str | None = None


@dataclass(slots=True)
class ExecutionRequest:
    """An offer request or a direct-execution request, whatever dialect it came in."""

    meta: Meta = field(default_factory=Meta)
    executable: Executable | None = None
    compute: Compute | None = None
    storage: list[Storage] = field(default_factory=list)
    data: list[Data] = field(default_factory=list)
    #: Every volume mount the request declared (older dialects list them at the top level and
    #: attach some of them to the compute resource by name).
    volumes: list[VolumeMount] = field(default_factory=list)
    schedule: RequestedSchedule = field(default_factory=RequestedSchedule)
    costs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    #: Problems found while decoding that make the answer NO (unknown kinds, bad times, dangling names).
    problems: list[Message] = field(default_factory=list)
    #: Things noticed while decoding that do not change the answer (unknown fields).
    notes: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class Session:
    """An offer (phase OFFERED) or an execution session."""

    kind: SessionKind = SessionKind.SCHEDULED
    meta: Meta = field(default_factory=Meta)
    phase: SessionPhase = SessionPhase.INITIAL
    expires: datetime | None = None
    schedule: Schedule | None = None
    executable: Executable | None = None
    compute: Compute | None = None
    storage: list[Storage] = field(default_factory=list)
    data: list[Data] = field(default_factory=list)
    volumes: list[VolumeMount] = field(default_factory=list)
    connectors: list[Connector] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    #: While offers are made: which storage (by position) each data resource (by position) lands in.
    links: dict[int, int] = field(default_factory=dict)

    def components(self) -> list[Component]:
        """Every lifecycle component of the session, in a stable order."""
        out: list[Component] = []
        if self.executable is not None:
            out.append(self.executable)
        if self.compute is not None:
            out.append(self.compute)
        out.extend(self.storage)
        out.extend(self.data)
        return out


@dataclass(slots=True)
class OfferSet:
    meta: Meta = field(default_factory=Meta)
    result: Result | None = None
    description: str | None = None
    offers: list[Session] = field(default_factory=list)


@dataclass(slots=True)
class Update:
    """A client's update to a session (v1.0 bare, v0.8 wrapped in ``update:``)."""

    kind: UpdateKind | None
    kind_text: str
    path: str
    value: Any = None
    delta: int | None = None
    units: str | None = None
    #: The session the body names (``uuid`` or ``meta.uuid``, as WD-era clients repeat it), if any.
    subject: str | None = None


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def shallow_copy(obj: T) -> T:
    """A shallow copy of a model dataclass (several times cheaper than ``copy.copy`` on slotted classes)."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(obj))  # type: ignore[arg-type]
        _FIELD_NAMES[cls] = names
    new = object.__new__(cls)
    for name in names:
        object.__setattr__(new, name, getattr(obj, name))
    return new
