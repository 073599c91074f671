"""The exact writer: the internal model into one dialect, described by a :class:`Style`.

The dialects differ in a handful of mechanical ways (protocol.md 3.1): discriminator key, flat or
nested metadata, URI generation, ``compute`` or ``computer``, volumes inline or listed at the top level
and named from compute, the J25 ``schedule.offered`` wrapper, v0.8 phase names, and which v1.0-only
fields exist. A style names each choice; one writer follows it. Empty and absent values are left out,
except that a schedule that exists is written even when empty (J25 writes ``schedule: {}``) and a
``False`` or ``0`` in a spec is kept (``privileged: false``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from execbroker.model.components import (
    Component,
    Compute,
    Connector,
    Data,
    Executable,
    ExecutionRequest,
    Meta,
    MinMax,
    OfferSet,
    Option,
    Schedule,
    Session,
    SessionKind,
    Step,
    Storage,
    Update,
    VolumeMount,
    Window,
)
from execbroker.model.messages import Message
from execbroker.model.phases import SessionPhase
from execbroker.model.times import ZERO, format_duration, format_instant, format_interval
from execbroker.wire.kinds import KindEnum, UriStyle, kind_uri, offerset_uri

#: v0.8 names of the session phases that v1.0 renamed.
_LEGACY_PHASE_NAMES = {SessionPhase.INITIAL: "PROPOSED", SessionPhase.AVAILABLE: "READY"}


@dataclass(frozen=True, slots=True)
class Style:
    """Every choice that tells one dialect's documents from another's."""

    uris: UriStyle
    #: ``kind`` (N25, v1.0) or ``type`` (v0.8, SEED, J25).
    discriminator: str
    #: Metadata in a ``meta`` block (N25, v1.0) or flat with ``href`` for the URL (v0.8, SEED, J25).
    nested_meta: bool
    compute_key: str = "compute"
    #: Mounts inline under ``compute.volumes`` with one ``resource`` (v1.0), or a top-level ``volumes``
    #: list with ``cardinality``/``resources`` and names under ``compute.volumes`` (the others).
    inline_volumes: bool = False
    #: J25 wraps component and session schedules in ``offered:``.
    offered_wrapper: bool = False
    #: J25 writes an exact available start as a bare instant, not ``<instant>/PT0S``.
    bare_exact_start: bool = False
    #: v0.8 phase names PROPOSED and READY for the session phases INITIAL and AVAILABLE.
    legacy_phases: bool = False
    #: v1.0-only fields: costs, metrics, ``meta.modified``, docker ``command``.
    v10_fields: bool = False
    #: Update bodies wrapped in ``update:`` (v0.8, SEED, J25).
    wrapped_update: bool = False


def _drop_empty(doc: dict[str, Any]) -> dict[str, Any]:
    """Leave out None, empty lists and empty mappings (hot: called for every block written)."""
    return {
        key: value
        for key, value in doc.items()
        if value is not None and (value or type(value) not in _CONTAINERS)
    }


_CONTAINERS = (list, dict)


@dataclass(frozen=True, slots=True)
class OfferChanges:
    """How one offer of a set differs from another (see :meth:`Writer.restamp`)."""

    #: Each uuid of the template (session and components) to the new offer's.
    renames: dict[str, str]
    #: The session's name (``None``: no name).
    name: str | None
    schedule: Schedule
    #: Granted cores and memory (``None``: leave the template's).
    cores: int | None
    memory: int | None
    #: Granted size of each storage resource, in order.
    storage_sizes: list[int]
    #: When the offer expires (``None``: as the template).
    expires: datetime | None = None


class Writer:
    """Writes model objects in one style; ``extras`` adds the superset fields our own store needs."""

    def __init__(self, style: Style, extras: bool = False) -> None:
        self.style = style
        self.extras = extras

    # ---------------------------------------------------------------------------------------------
    # Blocks

    def message(self, message: Message) -> dict[str, Any]:
        return _drop_empty(
            {
                self.style.discriminator: message.kind,
                "time": format_instant(message.time) if message.time else None,
                "level": message.level.value,
                "template": message.template,
                "values": {str(k): str(v) for k, v in message.values.items()},
                "message": message.text,
            }
        )

    def option(self, option: Option) -> dict[str, Any]:
        body: dict[str, Any] = {self.style.discriminator: option.kind.value, "path": option.path}
        if option.values is not None:
            body["values"] = list(option.values)
        for key in ("pattern", "min", "max", "units"):
            value = getattr(option, key)
            if value is not None:
                body[key] = value
        return body

    def meta_fields(self, meta: Meta, options: bool) -> dict[str, Any]:
        """Metadata as the style writes it: the fields of a ``meta`` block, or the flat fields."""
        style = self.style
        fields: dict[str, Any] = {
            "uuid": str(meta.uuid) if meta.uuid is not None else None,
            "name": meta.name,
            "url" if style.nested_meta else "href": meta.url,
            "description": meta.description,
            "created": format_instant(meta.created) if meta.created else None,
            "modified": format_instant(meta.modified) if meta.modified and style.v10_fields else None,
            "messages": [self.message(m) for m in meta.messages],
            "options": [self.option(o) for o in meta.options] if options else [],
        }
        if not style.nested_meta:
            # v0.8 order: identity first, then when and where.
            order = ("uuid", "name", "description", "created", "href", "messages", "options")
            fields = {key: fields[key] for key in order}
        return _drop_empty(fields)

    def head(self, kind: str | None, meta: Meta, options: bool = True) -> dict[str, Any]:
        """The discriminator and the metadata, in the style's layout."""
        body: dict[str, Any] = {}
        if self.style.nested_meta:
            if kind is not None:
                body["kind"] = kind
            block = self.meta_fields(meta, options)
            if block:
                body["meta"] = block
            return body
        if kind is not None:
            body["type"] = kind
        body.update(self.meta_fields(meta, options))
        return body

    def step(self, step: Step) -> dict[str, Any]:
        return _drop_empty(
            {
                "start": format_instant(step.start) if step.start else None,
                "duration": format_duration(step.duration) if step.duration is not None else None,
            }
        )

    def window(self, window: Window) -> dict[str, Any]:
        start: str | None = None
        if window.start is not None:
            if self.style.bare_exact_start and window.start.width == ZERO:
                start = format_instant(window.start.start)
            else:
                start = format_interval(window.start)
        return _drop_empty(
            {
                "start": start,
                "duration": format_duration(window.duration) if window.duration is not None else None,
            }
        )

    def schedule(self, schedule: Schedule) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if schedule.preparing is not None:
            body["preparing"] = self.step(schedule.preparing)
        if schedule.available is not None:
            body["available"] = self.window(schedule.available)
        if schedule.releasing is not None:
            body["releasing"] = self.step(schedule.releasing)
        if self.style.offered_wrapper and body:
            return {"offered": body}
        return body

    @staticmethod
    def minmax(value: MinMax | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return _drop_empty({"min": value.min, "max": value.max}) or None

    def kind_of(self, kind: KindEnum | None, raw: str | None) -> str | None:
        """The style's URI for a known kind; an unknown kind is echoed as it was received."""
        return kind_uri(self.style.uris, kind) if kind is not None else raw

    # ---------------------------------------------------------------------------------------------
    # Components

    def component(
        self, component: Component, kind: KindEnum | None, fields: dict[str, Any], spec: dict[str, Any]
    ) -> dict[str, Any]:
        written = self.kind_of(kind, component.kind_uri)
        body = self.head(written, component.meta, self.style.nested_meta)
        if self.extras and component.kind_uri != written:
            # The spelling that was received (or None for components the broker made).
            body["kind_uri"] = component.kind_uri
        if component.phase is not None:
            body["phase"] = component.phase.value
        if component.schedule is not None:
            body["schedule"] = self.schedule(component.schedule)
        body.update(_drop_empty(fields))
        body.update({key: value for key, value in spec.items() if value is not None})
        if self.style.v10_fields:
            if component.costs:
                body["costs"] = [dict(c) for c in component.costs]
            if component.metrics:
                body["metrics"] = [dict(m) for m in component.metrics]
        return body

    def executable(self, exe: Executable) -> dict[str, Any]:
        spec = dict(exe.spec)
        if not self.style.v10_fields:
            spec.pop("command", None)
        return self.component(exe, exe.kind, {}, spec)

    def storage(self, store: Storage) -> dict[str, Any]:
        fields = {"size": self.minmax(store.size), "data": list(store.data)}
        return self.component(store, store.kind, fields, store.spec)

    def data(self, item: Data) -> dict[str, Any]:
        return self.component(item, item.kind, {"storage": item.storage}, item.spec)

    def mount(self, mount: VolumeMount, declared_index: int | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"path": mount.path, "mode": mount.mode}
        if self.style.inline_volumes:
            fields["resource"] = mount.resources[0] if mount.resources else None
            if self.extras:
                fields["cardinality"] = mount.cardinality
                fields["resources"] = list(mount.resources)
                fields["declared"] = declared_index
        else:
            fields["cardinality"] = mount.cardinality
            fields["resources"] = list(mount.resources)
        return self.component(mount, mount.kind, fields, {})

    def compute_and_volumes(self, compute: Compute | None, volumes: list[VolumeMount]) -> dict[str, Any]:
        """The compute entry and, where the style has one, the top-level ``volumes`` list."""
        out: dict[str, Any] = {}
        declared = list(volumes)
        if compute is not None:
            declared += [m for m in compute.volumes if not any(m is d for d in declared)]
        written_inline: list[VolumeMount] = []
        if compute is not None:
            mounts: list[Any] = []
            for mount in compute.volumes:
                index = next(i for i, d in enumerate(declared) if d is mount)
                if self.style.inline_volumes:
                    mounts.append(self.mount(mount, index if self.extras else None))
                elif mount.meta.name:
                    mounts.append(mount.meta.name)
                else:  # a mount without a name cannot be referred to: write it in place
                    mounts.append(self.mount(mount))
                    written_inline.append(mount)
            fields = {
                "cores": self.minmax(compute.cores),
                "memory": self.minmax(compute.memory),
                "volumes": mounts,
            }
            out[self.style.compute_key] = self.component(compute, compute.kind, fields, compute.spec)
        listed = [m for m in declared if not any(m is w for w in written_inline)]
        if listed and (not self.style.inline_volumes or self.extras):
            out["volumes"] = [self.mount(m) for m in listed]
        return out

    def components(self, target: ExecutionRequest | Session, out: dict[str, Any]) -> None:
        if target.executable is not None:
            out["executable"] = self.executable(target.executable)
        parts = self.compute_and_volumes(target.compute, target.volumes)
        out.update({k: v for k, v in parts.items() if k != "volumes"})
        if target.storage:
            out["storage"] = [self.storage(s) for s in target.storage]
        if target.data:
            out["data"] = [self.data(d) for d in target.data]
        if "volumes" in parts:
            out["volumes"] = parts["volumes"]

    # ---------------------------------------------------------------------------------------------
    # Documents

    def request(self, request: ExecutionRequest) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.style.nested_meta:
            if self.style.uris is not UriStyle.V10 or self.extras:
                block = self.meta_fields(request.meta, options=False)
                if block:
                    out["meta"] = block
        else:
            out.update(_drop_empty({"name": request.meta.name, "description": request.meta.description}))
        self.components(request, out)
        requested = _drop_empty(
            {
                "duration": format_duration(request.schedule.duration)
                if request.schedule.duration is not None
                else request.schedule.duration_text,
                "start": format_interval(request.schedule.start)
                if request.schedule.start is not None
                else request.schedule.start_text,
            }
        )
        if requested:
            out["schedule"] = {"requested": requested}
        if self.style.v10_fields:
            if request.costs:
                out["costs"] = [dict(c) for c in request.costs]
            if request.metrics:
                out["metrics"] = [dict(m) for m in request.metrics]
        return out

    def phase(self, phase: SessionPhase) -> str:
        if self.style.legacy_phases:
            return _LEGACY_PHASE_NAMES.get(phase, phase.value)
        return phase.value

    def connector(self, connector: Connector) -> dict[str, Any]:
        return _drop_empty(
            {
                self.style.discriminator: connector.kind,
                "status": connector.status.value if connector.status else None,
                "protocol": connector.protocol,
                "location": connector.location,
            }
        )

    def session(self, session: Session) -> dict[str, Any]:
        # Always the scheduled kind: the simple one sends the generated reference client into an
        # endless recursion (reference-client.md 4).
        out = self.head(kind_uri(self.style.uris, SessionKind.SCHEDULED), session.meta)
        out["phase"] = self.phase(session.phase)
        if session.expires is not None:
            out["expires"] = format_instant(session.expires)
        if session.schedule is not None:
            out["schedule"] = self.schedule(session.schedule)
        self.components(session, out)
        if session.connectors:
            out["connectors"] = [self.connector(c) for c in session.connectors]
        if self.style.v10_fields:
            if session.costs:
                out["costs"] = [dict(c) for c in session.costs]
            if session.metrics:
                out["metrics"] = [dict(m) for m in session.metrics]
        return out

    def restamp(self, template: dict[str, Any], changes: OfferChanges) -> dict[str, Any]:
        """Another offer written from an encoded one: new identities, schedule and amounts.

        ``template`` is an offer written by :meth:`session` (nested metadata only). The result is what
        :meth:`session` writes for a copy of that offer with those changes (a test holds the two
        equal), at a fraction of the cost: only the blocks that differ are new, and one schedule block
        is shared by the session and its components.
        """
        if not self.style.nested_meta:
            raise ValueError(f"restamp needs a nested-meta style, not {self.style}")
        renames, cores, memory = changes.renames, changes.cores, changes.memory
        block = self.schedule(changes.schedule)
        out = self._stamp(template, renames, block)
        if changes.name is None:
            out["meta"].pop("name", None)
        else:
            out["meta"]["name"] = changes.name
        if changes.expires is not None and "expires" in template:
            out["expires"] = format_instant(changes.expires)
        if "executable" in template:
            out["executable"] = self._stamp(template["executable"], renames, block)
        key = self.style.compute_key
        if key in template:
            compute = self._stamp(template[key], renames, block)
            if cores is not None:
                compute["cores"] = {"min": cores, "max": cores}
            if memory is not None:
                compute["memory"] = {"min": memory, "max": memory}
            out[key] = compute
        if "storage" in template:
            stores = []
            for entry, size in zip(template["storage"], changes.storage_sizes, strict=True):
                store = self._stamp(entry, renames, block)
                store["size"] = {"min": size, "max": size}
                if "data" in entry:
                    store["data"] = [renames[uuid] for uuid in entry["data"]]
                stores.append(store)
            out["storage"] = stores
        if "data" in template:
            items = []
            for entry in template["data"]:
                item = self._stamp(entry, renames, block)
                if "storage" in entry:
                    item["storage"] = renames[entry["storage"]]
                items.append(item)
            out["data"] = items
        return out

    @staticmethod
    def _stamp(block: dict[str, Any], renames: dict[str, str], schedule: dict[str, Any]) -> dict[str, Any]:
        out = dict(block)
        meta = dict(block["meta"])
        old = meta["uuid"]
        new = renames[old]
        meta["uuid"] = new
        url = meta.get("url")
        if url is not None:
            if not url.endswith(old):
                raise ValueError(f"the url {url} does not end with its uuid {old}")
            meta["url"] = url[: len(url) - len(old)] + new
        out["meta"] = meta
        if "schedule" in block:
            out["schedule"] = schedule
        return out

    def offerset(self, offerset: OfferSet) -> dict[str, Any]:
        meta = offerset.meta
        description = offerset.description
        if not self.style.nested_meta and description is None:
            description = meta.description
        if not self.style.nested_meta:
            meta = Meta(
                uuid=meta.uuid,
                name=meta.name,
                url=meta.url,
                created=meta.created,
                modified=meta.modified,
                messages=meta.messages,
                options=meta.options,
            )
        out = self.head(offerset_uri(self.style.uris), meta)
        if offerset.result is not None:
            out["result"] = offerset.result.value
        if description is not None:
            out["description"] = description
        if offerset.offers:
            out["offers"] = [self.session(s) for s in offerset.offers]
        return out

    def update(self, update: Update) -> dict[str, Any]:
        body: dict[str, Any] = {
            self.style.discriminator: update.kind.value if update.kind is not None else update.kind_text,
            "path": update.path,
        }
        for key in ("value", "delta", "units"):
            value = getattr(update, key)
            if value is not None:
                body[key] = value
        return {"update": body} if self.style.wrapped_update else body
