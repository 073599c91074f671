"""Request-shape rules: names are unique, and every name a component mentions is declared.

Components refer to each other by strings (``data.storage``, ``storage.data[]``, a volume's resources),
matched against the client's name or the uuid of a declared component. A dangling or ambiguous
reference is a NO: the broker would otherwise have to guess which bytes go where.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

from execbroker.model.components import Component, Data, ExecutionRequest, Storage, VolumeMount
from execbroker.model.messages import DUPLICATE_RESOURCE, INVALID_VALUE, RESOURCE_NOT_FOUND
from execbroker.policy.config import VolumePolicy
from execbroker.policy.findings import Findings, Subject

MODES = ("READONLY", "READWRITE")
#: The older dialects' volume cardinalities (INSTANCE was renamed SINGLE; v1.0 dropped the field).
CARDINALITIES = ("INSTANCE", "SINGLE", "CONTAINER")

C = TypeVar("C", bound=Component)


def all_volumes(request: ExecutionRequest) -> list[VolumeMount]:
    """Every volume mount of the request once: the top-level list, then any only the compute holds."""
    out = list(request.volumes)
    if request.compute is not None:
        out.extend(v for v in request.compute.volumes if not any(v is w or v == w for w in out))
    return out


def _keys(component: Component) -> set[str]:
    keys = set()
    if component.meta.name:
        keys.add(component.meta.name)
    if component.meta.uuid is not None:
        keys.add(str(component.meta.uuid))
    return keys


def _resolve(reference: str, candidates: Sequence[C]) -> list[C]:
    return [c for c in candidates if reference in _keys(c)]


def check_references(request: ExecutionRequest, volumes: VolumePolicy, findings: Findings) -> None:
    volume_list = all_volumes(request)
    _check_duplicates(request.storage, "storage resources", findings)
    _check_duplicates(request.data, "data resources", findings)
    _check_duplicates(volume_list, "volume mounts", findings)
    for data in request.data:
        _check_data_storage(data, request.storage, findings)
    for storage in request.storage:
        _check_storage_data(storage, request.data, request.storage, findings)
    _check_mount_paths(volume_list, findings)
    for volume in volume_list:
        _check_volume(volume, request, volumes, findings)


def _check_duplicates(components: Sequence[Component], family: str, findings: Findings) -> None:
    counts = Counter(c.meta.name for c in components if c.meta.name)
    for name, count in counts.items():
        if count > 1:
            findings.add(
                DUPLICATE_RESOURCE,
                "${count} ${family} are named [${name}]; names must be unique",
                count=count,
                family=family,
                name=name,
            )


def _check_data_storage(data: Data, storage: Sequence[Storage], findings: Findings) -> None:
    if data.storage is None or not data.storage.strip():
        return  # the broker creates a storage resource for it
    if not _resolve(data.storage, storage):
        findings.add(
            RESOURCE_NOT_FOUND,
            "The ${noun} [${name}] names the storage [${storage}], which is not in the request",
            Subject.of("data resource", data),
            storage=data.storage,
        )


def _check_storage_data(
    storage: Storage, data: Sequence[Data], all_storage: Sequence[Storage], findings: Findings
) -> None:
    subject = Subject.of("storage resource", storage)
    for reference in storage.data:
        found = _resolve(reference, data)
        if not found:
            findings.add(
                RESOURCE_NOT_FOUND,
                "The ${noun} [${name}] lists the data [${data}], which is not in the request",
                subject,
                data=reference,
            )
            continue
        for item in found:
            if item.storage and item.storage.strip():
                homes = _resolve(item.storage, all_storage)
                if homes and not any(home is storage for home in homes):
                    findings.add(
                        INVALID_VALUE,
                        "The ${noun} [${name}] lists the data [${data}], "
                        "but that data resource names the storage [${other}]",
                        subject,
                        data=reference,
                        other=item.storage,
                    )


def _check_mount_paths(volumes: Sequence[VolumeMount], findings: Findings) -> None:
    counts = Counter(v.path.rstrip("/") or "/" for v in volumes if v.path)
    for path, count in counts.items():
        if count > 1:
            findings.add(
                DUPLICATE_RESOURCE,
                "${count} volume mounts use the path ${path}; each needs its own",
                count=count,
                path=path,
            )


#: Where a container's own system lives: a mount there would hide or replace it.
_SYSTEM_ROOTS = ("/proc", "/sys", "/dev")
_MAX_PATH = 4096


def _mount_path_problem(path: str) -> str | None:
    """What a mount path should have been, or None when it is fine."""
    if not path.startswith("/"):
        return "an absolute path"
    if len(path) > _MAX_PATH:
        return f"a path of at most {_MAX_PATH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return "a path without control characters"
    segments = [s for s in path.split("/") if s]
    if ".." in segments or "." in segments:
        return "a path without . or .. segments"
    if not segments:
        return "a directory below /, not / itself"
    if "/" + segments[0] in _SYSTEM_ROOTS:
        return f"a path outside {', '.join(_SYSTEM_ROOTS)}"
    return None


def _check_volume(
    volume: VolumeMount, request: ExecutionRequest, rules: VolumePolicy, findings: Findings
) -> None:
    subject = Subject.of("volume mount", volume)
    mode = volume.mode.strip().upper() if isinstance(volume.mode, str) else None
    if volume.mode is not None and mode not in MODES:
        findings.invalid(subject, "mode", " or ".join(MODES), volume.mode)
    if volume.path is not None:
        expected = _mount_path_problem(volume.path)
        if expected is not None:
            findings.invalid(subject, "path", expected, volume.path)
    resources = [r for r in volume.resources if r and r.strip()]
    if not resources:
        findings.missing(subject, "resource")
    if volume.cardinality is not None:
        cardinality = volume.cardinality.strip().upper()
        if cardinality not in CARDINALITIES:
            findings.invalid(subject, "cardinality", " or ".join(CARDINALITIES), volume.cardinality)
        elif cardinality != "CONTAINER" and len(resources) > 1:
            findings.invalid(
                subject,
                "resources",
                f"exactly one resource for cardinality {cardinality} (CONTAINER mounts several)",
                ", ".join(resources),
            )
    for reference in resources:
        data = _resolve(reference, request.data)
        storage = _resolve(reference, request.storage)
        if not data and not storage:
            findings.add(
                RESOURCE_NOT_FOUND,
                "The ${noun} [${name}] names [${resource}], "
                "which is neither a data nor a storage resource in the request",
                subject,
                resource=reference,
            )
        elif data and storage:
            findings.add(
                INVALID_VALUE,
                "The ${noun} [${name}] names [${resource}], which is both a data and a storage resource; "
                "rename one of them",
                subject,
                resource=reference,
            )
        elif data and mode == "READWRITE" and not rules.allow_readwrite_data:
            findings.denied(
                "The ${noun} [${name}] mounts the data resource [${resource}] read-write, "
                "which this platform does not allow",
                subject,
                resource=reference,
            )
