"""The policy configuration: what this platform will accept, as data.

Every rule the checker applies is switched or parameterised here, so a deployment describes its
platform in YAML (the ``policy:`` section of the broker config file) and never in code. Unknown keys are
an error: a misspelt deny list must not silently allow everything.

The defaults are permissive but safe: every kind is supported and any public ``http(s)`` location is
allowed, but privileged containers are refused, published (external) ports are refused, and ``file://``
locations are refused unless the operator lists the host directories that may be read
(``file_roots_allowed``).

List matching (``*_allowed`` / ``*_denied``) follows :class:`execbroker.policy.matching.Match`:
``{exact: [...], prefix: [...], glob: [...]}``, or a bare list meaning ``exact``.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from execbroker.model.components import ComputeKind, DataKind, ExecutableKind, StorageKind, VolumeKind
from execbroker.policy.matching import Match

PORT_MIN = 1
PORT_MAX = 65535


def _parse_port_span(value: Any) -> tuple[int, int]:
    """A port (``8080``) or an inclusive range (``"8000-8999"``), as ``(low, high)``."""
    if isinstance(value, bool):
        raise ValueError("a port must be a number or a 'low-high' range")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if "-" in text[1:]:
                first, second = text.split("-", 1)
                low, high = int(first), int(second)
            else:
                low = high = int(text)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a port or a 'low-high' port range") from exc
    elif isinstance(value, list | tuple) and len(value) == 2:
        low, high = int(value[0]), int(value[1])
    else:
        raise ValueError(f"{value!r} is not a port or a 'low-high' port range")
    if not PORT_MIN <= low <= high <= PORT_MAX:
        raise ValueError(f"port range {low}-{high} is not within {PORT_MIN}..{PORT_MAX}")
    return (low, high)


PortSpan = Annotated[tuple[int, int], BeforeValidator(_parse_port_span)]


def _kinds_validator(enum: type[Enum]) -> Any:
    """Accept kind names in any letter case ("s3-data-resource" for "S3-data-resource")."""

    def fold(values: Any) -> Any:
        if not isinstance(values, list):
            return values
        by_folded = {str(member.value).casefold(): member for member in enum}
        return [by_folded.get(v.casefold(), v) if isinstance(v, str) else v for v in values]

    return field_validator("kinds", mode="before")(fold)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocationRules(_Section):
    """Where a ``location`` URL (a notebook, an image file, a data file) may point.

    ``file`` is never a member of ``schemes_allowed``: a ``file://`` location is accepted only when its
    normalised path lies inside one of ``file_roots_allowed``, because the broker must not read host
    files nobody chose to share, and a client must not be offered a location the platform cannot reach.
    """

    require_location: bool = True
    schemes_allowed: list[str] = Field(default_factory=lambda: ["http", "https"])
    file_roots_allowed: list[str] = Field(default_factory=list)
    locations_allowed: Match = Field(default_factory=Match)
    locations_denied: Match = Field(default_factory=Match)

    @field_validator("schemes_allowed")
    @classmethod
    def _schemes(cls, schemes: list[str]) -> list[str]:
        folded = [s.lower().rstrip(":/") for s in schemes]
        if "file" in folded:
            raise ValueError(
                "list host directories in file_roots_allowed instead of 'file' in schemes_allowed"
            )
        return folded

    @field_validator("file_roots_allowed")
    @classmethod
    def _roots(cls, roots: list[str]) -> list[str]:
        for root in roots:
            if not root.startswith("/"):
                raise ValueError(f"file root {root!r} must be an absolute path")
        return roots


class SingularityRules(LocationRules):
    """Singularity/Apptainer images: also pulled from registries (``docker://``, ``library://``...)."""

    schemes_allowed: list[str] = Field(
        default_factory=lambda: ["https", "http", "docker", "library", "oras", "shub"]
    )


class PortRules(_Section):
    """Network ports a container may ask for."""

    protocols_allowed: list[str] = Field(default_factory=lambda: ["UDP", "TCP", "HTTP", "HTTPS"])
    #: Empty: any valid port (1..65535).
    internal_ports_allowed: list[PortSpan] = Field(default_factory=list)
    internal_ports_denied: list[PortSpan] = Field(default_factory=list)
    paths_allowed: Match = Field(default_factory=Match)
    paths_denied: Match = Field(default_factory=Match)
    #: The platform picks external ports itself; a client asking for one is refused unless this is on.
    allow_external_port: bool = False

    @field_validator("protocols_allowed")
    @classmethod
    def _upper(cls, protocols: list[str]) -> list[str]:
        return [p.upper() for p in protocols]


class DockerRules(_Section):
    """Docker/OCI container executables."""

    allow_privileged: bool = False
    require_image: bool = True
    #: Every location in ``image.locations`` must be allowed and none denied (see executables.py).
    images_allowed: Match = Field(default_factory=Match)
    images_denied: Match = Field(default_factory=Match)
    require_digest: bool = False
    architectures: list[str] = Field(default_factory=lambda: ["amd64"])
    os: list[str] = Field(default_factory=lambda: ["linux"])
    ports: PortRules = Field(default_factory=PortRules)


class ExecutablePolicy(_Section):
    kinds: list[ExecutableKind] = Field(default_factory=lambda: list(ExecutableKind))
    docker: DockerRules = Field(default_factory=DockerRules)
    jupyter: LocationRules = Field(default_factory=LocationRules)
    singularity: SingularityRules = Field(default_factory=SingularityRules)

    _fold_kinds = _kinds_validator(ExecutableKind)


S3Field = Literal["endpoint", "template", "bucket", "object"]
RucioField = Literal["endpoint", "scope", "object"]
SkaoField = Literal["namespace", "objectname", "objecttype"]


def _s3_required() -> list[S3Field]:
    return ["endpoint", "template", "bucket"]


def _rucio_required() -> list[RucioField]:
    return ["scope", "object"]


def _skao_required() -> list[SkaoField]:
    return ["namespace", "objectname"]


class S3Rules(_Section):
    """S3 objects. ``object`` may be left out by default: a blank object means the whole bucket."""

    require: list[S3Field] = Field(default_factory=_s3_required)
    endpoint_schemes_allowed: list[str] = Field(default_factory=lambda: ["https", "http"])
    endpoints_allowed: Match = Field(default_factory=Match)
    endpoints_denied: Match = Field(default_factory=Match)
    buckets_denied: Match = Field(default_factory=Match)


class RucioRules(_Section):
    require: list[RucioField] = Field(default_factory=_rucio_required)
    endpoints_allowed: Match = Field(default_factory=Match)
    endpoints_denied: Match = Field(default_factory=Match)
    scopes_allowed: Match = Field(default_factory=Match)
    scopes_denied: Match = Field(default_factory=Match)


class IvoaRules(_Section):
    """IVOA data, found by ivoid. Ivoids are compared case-insensitively, as IVOA Identifiers says.

    The ivoid lists also apply to the ``ivoa.ivoid`` of a SKAO data resource, when it has one.
    """

    require_ivoid: bool = True
    ivoids_allowed: Match = Field(default_factory=Match)
    ivoids_denied: Match = Field(default_factory=Match)


class SkaoRules(_Section):
    require: list[SkaoField] = Field(default_factory=_skao_required)
    namespaces_allowed: Match = Field(default_factory=Match)
    namespaces_denied: Match = Field(default_factory=Match)


class DataPolicy(_Section):
    kinds: list[DataKind] = Field(default_factory=lambda: list(DataKind))
    simple: LocationRules = Field(default_factory=LocationRules)
    s3: S3Rules = Field(default_factory=S3Rules)
    rucio: RucioRules = Field(default_factory=RucioRules)
    ivoa: IvoaRules = Field(default_factory=IvoaRules)
    skao: SkaoRules = Field(default_factory=SkaoRules)

    _fold_kinds = _kinds_validator(DataKind)


class ComputePolicy(_Section):
    """Which compute kinds exist here. Sizes and caps are scheduling's (``capacity.limits``)."""

    kinds: list[ComputeKind] = Field(default_factory=lambda: list(ComputeKind))

    _fold_kinds = _kinds_validator(ComputeKind)


class StoragePolicy(_Section):
    """Which storage kinds a client may ask for explicitly. Sizes are scheduling's."""

    kinds: list[StorageKind] = Field(default_factory=lambda: list(StorageKind))

    _fold_kinds = _kinds_validator(StorageKind)


class VolumePolicy(_Section):
    kinds: list[VolumeKind] = Field(default_factory=lambda: list(VolumeKind))
    #: A READWRITE mount of a *data* resource lets the executable alter staged input in place.
    allow_readwrite_data: bool = True

    _fold_kinds = _kinds_validator(VolumeKind)


class PolicyConfig(_Section):
    """The ``policy:`` section of the broker config file."""

    executables: ExecutablePolicy = Field(default_factory=ExecutablePolicy)
    compute: ComputePolicy = Field(default_factory=ComputePolicy)
    storage: StoragePolicy = Field(default_factory=StoragePolicy)
    data: DataPolicy = Field(default_factory=DataPolicy)
    volumes: VolumePolicy = Field(default_factory=VolumePolicy)
