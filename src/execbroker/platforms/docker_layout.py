"""Which volumes a session needs and where they are mounted: pure planning, no engine calls.

Each storage resource becomes one named volume. A data resource is staged into the volume of the
storage it names (``data.storage``, the storage's uuid as resolved by the broker; a name is also
accepted); a data resource without storage gets a session-private volume of its own. Volume
names are derived from uuids, so a repeated call after a restart finds the same volumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from execbroker.model.components import Component, Data, Session, Storage
from execbroker.model.messages import INVALID_VALUE, RESOURCE_NOT_FOUND, Level, Message

READONLY = "READONLY"
READWRITE = "READWRITE"


@dataclass(frozen=True, slots=True)
class VolumePlan:
    name: str
    #: The uuid (or name) of the storage or data resource the volume belongs to.
    resource: str


@dataclass(frozen=True, slots=True)
class MountPlan:
    volume: str
    target: str
    read_only: bool


@dataclass(slots=True)
class Layout:
    #: Storage volumes first, then the private volumes of storage-less data.
    volumes: list[VolumePlan] = field(default_factory=list)
    #: Data key -> the volume it is staged into.
    data_volume: dict[str, str] = field(default_factory=dict)
    mounts: list[MountPlan] = field(default_factory=list)
    problems: list[Message] = field(default_factory=list)


def component_key(component: Component, index: int) -> str:
    """A stable key for a component: its uuid, else its name, else its position."""
    if component.meta.uuid is not None:
        return str(component.meta.uuid)
    if component.meta.name:
        return component.meta.name
    return f"#{index}"


def _volume_suffix(key: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in key)
    return cleaned.strip("-.") or "x"


def volume_name(prefix: str, session_key: str, kind: str, key: str) -> str:
    return f"{prefix}-{session_key}-{kind}-{_volume_suffix(key)}"


def _find_storage(storages: list[Storage], ref: str) -> int | None:
    for i, storage in enumerate(storages):
        if ref in (str(storage.meta.uuid) if storage.meta.uuid else None, storage.meta.name):
            return i
    return None


def _find_data(data: list[Data], ref: str) -> int | None:
    for i, item in enumerate(data):
        if ref in (str(item.meta.uuid) if item.meta.uuid else None, item.meta.name):
            return i
    return None


def plan_layout(session: Session, prefix: str, session_key: str) -> Layout:
    layout = Layout()
    storage_volume: dict[int, str] = {}
    for i, storage in enumerate(session.storage):
        key = component_key(storage, i)
        name = volume_name(prefix, session_key, "s", key)
        storage_volume[i] = name
        layout.volumes.append(VolumePlan(name, key))
    for i, item in enumerate(session.data):
        key = component_key(item, i)
        where = _find_storage(session.storage, item.storage) if item.storage else None
        if item.storage and where is None:
            layout.problems.append(
                Message.make(
                    RESOURCE_NOT_FOUND,
                    Level.ERROR,
                    "Data resource [${name}] names a storage [${storage}] that is not in the session",
                    name=item.label,
                    storage=item.storage,
                )
            )
        if where is not None:
            layout.data_volume[key] = storage_volume[where]
        else:
            name = volume_name(prefix, session_key, "d", key)
            layout.volumes.append(VolumePlan(name, key))
            layout.data_volume[key] = name
    compute = session.compute
    targets: set[str] = set()
    for mount in compute.volumes if compute else []:
        _plan_mount(session, mount.path, mount.mode, mount.resources, mount.label, storage_volume, layout)
        if mount.path:
            if mount.path in targets:
                layout.problems.append(
                    Message.make(
                        INVALID_VALUE, Level.ERROR, "Two volumes are mounted at [${path}]", path=mount.path
                    )
                )
            targets.add(mount.path)
    return layout


def _plan_mount(
    session: Session,
    path: str | None,
    mode: str | None,
    resources: list[str],
    label: str,
    storage_volume: dict[int, str],
    layout: Layout,
) -> None:
    def problem(template: str, **values: object) -> None:
        layout.problems.append(Message.make(INVALID_VALUE, Level.ERROR, template, mount=label, **values))

    if not path or not path.startswith("/"):
        problem("Volume mount [${mount}] needs an absolute path, not [${path}]", path=path or "")
        return
    if mode is not None and mode.upper() not in (READONLY, READWRITE):
        problem("Volume mount [${mount}] has an unknown mode [${mode}]", mode=mode)
        return
    volumes: set[str] = set()
    only_data = True
    for ref in resources:
        d = _find_data(session.data, ref)
        if d is not None:
            volumes.add(layout.data_volume[component_key(session.data[d], d)])
            continue
        s = _find_storage(session.storage, ref)
        if s is not None:
            volumes.add(storage_volume[s])
            only_data = False
            continue
        layout.problems.append(
            Message.make(
                RESOURCE_NOT_FOUND,
                Level.ERROR,
                "Volume mount [${mount}] names [${resource}], neither a data nor a storage of the session",
                mount=label,
                resource=ref,
            )
        )
        return
    if not volumes:
        problem("Volume mount [${mount}] names no data or storage resource")
        return
    if len(volumes) > 1:
        problem("Volume mount [${mount}] names resources in different volumes; mount them separately")
        return
    read_only = mode.upper() == READONLY if mode else only_data
    layout.mounts.append(MountPlan(volumes.pop(), path, read_only))
