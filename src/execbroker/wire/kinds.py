"""Kind (discriminator) URIs: every known spelling in, one exact spelling per dialect out.

This is the only place where kind URIs meet the internal enums. Four generations of URIs are in use
(protocol.md 3.2), plus the Working Draft's shorthand:

* WD shorthand: ``uri:docker-container-1.0``;
* A25: ``https://www.purl.org/ivoa.net/EB/schema/types/resources/compute/simple-compute-resource-1.0``;
* v0.8, SEED and J25: ``https://www.purl.org/ivoa.net/EB/schema/types/<group>/<name>-1.0`` (J25 spells
  the compute group ``computer``);
* N25 (the reference implementation): ``https://www.purl.org/ivoa.net/EB/schema/v1.0/types/<group>/<name>-1.0``;
* v1.0: ``https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/<group>/<name>.yaml``.

Reading is forgiving about what people actually send: ``http`` or ``https``, ``purl.org`` with or
without ``www.``, duplicate slashes in the path (example 006 has ``v1.0//types``), letter case, and
surrounding white space. Writing always produces the exact URI of the target generation.
"""

from __future__ import annotations

import re
from enum import Enum, StrEnum
from typing import TypeVar

from execbroker.model.components import (
    ComputeKind,
    DataKind,
    ExecutableKind,
    SessionKind,
    StorageKind,
    VolumeKind,
)

KindEnum = ExecutableKind | ComputeKind | StorageKind | DataKind | VolumeKind | SessionKind
E = TypeVar("E", bound=Enum)


class UriStyle(StrEnum):
    """The URI generation a dialect writes."""

    V10 = "v1.0"
    N25 = "n25"
    V08 = "v0.8"
    J25 = "j25"


PURL = "https://www.purl.org/ivoa.net/"
_V10_BASE = PURL + "Calycopis-openapi/schema/v1.0/kinds/"
_N25_BASE = PURL + "EB/schema/v1.0/types/"
_V08_BASE = PURL + "EB/schema/types/"

#: The URI group (path segment) of each enum, as v1.0, N25 and v0.8 spell it.
_GROUP: dict[type[Enum], str] = {
    ExecutableKind: "executable",
    ComputeKind: "compute",
    StorageKind: "storage",
    DataKind: "data",
    VolumeKind: "volume",
    SessionKind: "session",
}

#: Session kinds of v0.8/SEED/J25: there was one session type, the one with a schedule.
_V08_SESSION = "execution-session-response"

OFFERSET_URIS: dict[UriStyle, str] = {
    # v1.0 defines no offer-set kind; this URI follows the v1.0 pattern and is ours.
    UriStyle.V10: _V10_BASE + "offerset/execution-offerset.yaml",
    UriStyle.N25: _N25_BASE + "offerset/execution-offerset-1.0",
    UriStyle.V08: _V08_BASE + "offerset/offerset-response-1.0",
    UriStyle.J25: _V08_BASE + "offerset/offerset-response-1.0",
}


def kind_uri(style: UriStyle, kind: KindEnum) -> str:
    """The exact URI that ``style`` uses for ``kind``."""
    group = _GROUP[type(kind)]
    name = kind.value
    if style is UriStyle.V10:
        return f"{_V10_BASE}{group}/{name}.yaml"
    if style is UriStyle.N25:
        return f"{_N25_BASE}{group}/{name}-1.0"
    if isinstance(kind, SessionKind):
        return f"{_V08_BASE}session/{_V08_SESSION}-1.0"
    if style is UriStyle.J25 and isinstance(kind, ComputeKind):
        group = "computer"
    return f"{_V08_BASE}{group}/{name}-1.0"


def offerset_uri(style: UriStyle) -> str:
    return OFFERSET_URIS[style]


def normalise_uri(uri: str) -> str:
    """The lookup key of a URI: https, no ``www.``, single slashes, lower case, no white space."""
    text = uri.strip().lower()
    match = re.match(r"^https?://(?:www\.)?(.*)$", text)
    if match is None:
        return text
    return "https://" + re.sub(r"/{2,}", "/", match.group(1))


def _build_table() -> dict[str, KindEnum]:
    table: dict[str, KindEnum] = {}

    def add(uri: str, kind: KindEnum) -> None:
        table[normalise_uri(uri)] = kind

    for enum, group in _GROUP.items():
        for member in enum:
            kind: KindEnum = member  # type: ignore[assignment]
            name = member.value
            groups = [group, "computer"] if enum is ComputeKind else [group]
            for spelling in groups:
                add(f"{_V10_BASE}{spelling}/{name}.yaml", kind)
                add(f"{_N25_BASE}{spelling}/{name}-1.0", kind)
                add(f"{_V08_BASE}{spelling}/{name}-1.0", kind)
            add(f"uri:{name}-1.0", kind)
            add(f"uri:{name}", kind)
    # v0.8/SEED/J25 session type.
    add(f"{_V08_BASE}session/{_V08_SESSION}-1.0", SessionKind.SCHEDULED)
    add(f"{_N25_BASE}session/{_V08_SESSION}-1.0", SessionKind.SCHEDULED)
    # A25: executables in ``executables/``, resources under ``resources/<group>/``.
    for exe in ExecutableKind:
        add(f"{_V08_BASE}executables/{exe.value}-1.0", exe)
    add(f"{_V08_BASE}resources/compute/simple-compute-resource-1.0", ComputeKind.SIMPLE)
    add(f"{_V08_BASE}resources/storage/simple-storage-resource-1.0", StorageKind.SIMPLE)
    for data in (DataKind.SIMPLE, DataKind.S3, DataKind.RUCIO):
        add(f"{_V08_BASE}resources/data/{data.value}-1.0", data)
    # Working Draft prose: type URLs directly under ivoa.net and a few shorthand names.
    for exe in ExecutableKind:
        add(f"{PURL}executable-types/{exe.value}", exe)
    add(f"{PURL}executable-types/oci-container", ExecutableKind.DOCKER_CONTAINER)
    add(f"{PURL}resource-types/generic-compute", ComputeKind.SIMPLE)
    add("uri:oci-container", ExecutableKind.DOCKER_CONTAINER)
    add("uri:generic-compute", ComputeKind.SIMPLE)
    add("uri:filesystem-mount", VolumeKind.SIMPLE)
    return table


_TABLE = _build_table()
_OFFERSET_TABLE = {normalise_uri(uri) for uri in OFFERSET_URIS.values()}


def parse_kind(uri: str, enum: type[E]) -> E | None:
    """The ``enum`` member that ``uri`` names, or None when the URI is unknown or of another family."""
    kind = _TABLE.get(normalise_uri(uri))
    return kind if isinstance(kind, enum) else None


def is_offerset_uri(uri: str) -> bool:
    return normalise_uri(uri) in _OFFERSET_TABLE


def is_v10_uri(uri: str) -> bool:
    """True for URIs in the v1.0 ``Calycopis-openapi/.../kinds/`` namespace (used to sniff a dialect)."""
    return normalise_uri(uri).startswith(normalise_uri(_V10_BASE))


def is_j25_uri(uri: str) -> bool:
    """True for the J25 spelling of a compute kind (``…/EB/schema/types/computer/…``)."""
    return normalise_uri(uri).startswith(normalise_uri(_V08_BASE + "computer/"))
