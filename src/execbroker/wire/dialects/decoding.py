"""The liberal reader shared by every dialect: any document of any generation into the internal model.

Reading is per node: ``kind`` or ``type``; flat ``name``/``uuid``/``href``/... or a ``meta`` block;
any known kind URI spelling; volumes inline under compute or listed at the top level and named from
compute; the J25 ``schedule.offered`` wrapper; the v0.8 ``PROPOSED``/``READY`` phases. A dialect only
matters for writing.

Three outcomes, by how wrong a node is:

* structural nonsense (a list where a mapping must be, text where an integer must be) is collected
  with its JSON pointer, and the whole document is refused with one :class:`DecodeError` listing all
  of them (HTTP 400);
* a business problem (an unknown kind, a duration that does not parse, a volume name that matches no
  volume) becomes a message in ``request.problems``: the broker answers ``NO`` and says why;
* an unknown field is dropped and noted in ``request.notes``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from execbroker.model.components import (
    Component,
    Compute,
    ComputeKind,
    Connector,
    Data,
    DataKind,
    Executable,
    ExecutableKind,
    ExecutionRequest,
    Meta,
    MinMax,
    OfferSet,
    Option,
    OptionKind,
    RequestedSchedule,
    Result,
    Schedule,
    Session,
    SessionKind,
    Step,
    Storage,
    StorageKind,
    Update,
    UpdateKind,
    VolumeKind,
    VolumeMount,
    Window,
)
from execbroker.model.messages import (
    INPUT_SYNTAX,
    RESOURCE_NOT_FOUND,
    UNKNOWN_FIELD,
    UNKNOWN_KIND,
    Level,
    Message,
    render,
)
from execbroker.model.phases import ComponentPhase, ConnectorStatus, SessionPhase
from execbroker.model.text import shorten
from execbroker.model.times import (
    Interval,
    TimeSyntaxError,
    parse_duration,
    parse_instant,
    parse_interval,
    utcnow,
)
from execbroker.wire.errors import DecodeError, Problem, pointer
from execbroker.wire.kinds import parse_kind

E = TypeVar("E", bound=Enum)
C = TypeVar("C", bound=Component)
T = TypeVar("T")

#: Kind-specific fields kept verbatim in ``spec`` (same shape in every dialect).
EXECUTABLE_SPEC = ("image", "privileged", "command", "entrypoint", "environment", "network", "location")
DATA_SPEC = ("location", "endpoint", "template", "bucket", "object", "rucio", "ivoa", "skao", "checksum")

_META_KEYS = ("uuid", "name", "url", "description", "created", "modified", "messages", "options")
#: Metadata written flat on the node by v0.8, SEED and J25 (``href`` is their ``meta.url``).
_FLAT_META = ("uuid", "name", "description", "created", "modified", "messages", "options", "href")
#: ``kind_uri`` is our own stored form's record of the spelling that was received.
_COMPONENT_KEYS = frozenset(
    {"kind", "type", "kind_uri", "meta", "phase", "schedule", "costs", "metrics", *_FLAT_META}
)

#: Phase names of v0.8/A25 and the WD prose, read as their v1.0 equivalents.
_LEGACY_SESSION_PHASES = {"PROPOSED": SessionPhase.INITIAL, "READY": SessionPhase.AVAILABLE}
_LEGACY_COMPONENT_PHASES = {"READY": ComponentPhase.AVAILABLE}
_LEGACY_CONNECTOR_STATUS = {"ACTIVE": ConnectorStatus.AVAILABLE}

_FAMILY_NAMES: dict[type[Enum], str] = {
    ExecutableKind: "executable",
    ComputeKind: "compute",
    StorageKind: "storage",
    DataKind: "data",
    VolumeKind: "volume",
}


def _shown(path: str) -> str:
    return path or "/"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    return "text"


class Reader:
    """One decoding pass: collects structural errors, problems and notes while it reads."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.problems: list[Message] = []
        self.notes: list[Message] = []

    # ---------------------------------------------------------------------------------------------
    # Bookkeeping

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(_shown(path), message))

    def finish(self) -> None:
        if self.errors:
            raise DecodeError(self.errors)

    def root(self, value: Any, path: str) -> dict[Any, Any]:
        """A mapping the document cannot do without; anything else ends decoding at once."""
        doc = self.mapping(value, path)
        if doc is None:
            raise DecodeError(self.errors)
        return doc

    def note_unknown(self, doc: dict[Any, Any], path: str, known: frozenset[str] | set[str]) -> None:
        for key in doc:
            if not isinstance(key, str) or key not in known:
                where = pointer(path, str(key))
                self.notes.append(
                    Message.make(UNKNOWN_FIELD, Level.WARN, "Unknown field [${path}] ignored", path=where)
                )

    # ---------------------------------------------------------------------------------------------
    # Typed scalars and containers

    def mapping(self, value: Any, path: str) -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"expected a mapping, found {_type_name(value)}")
        return None

    def items(self, value: Any, path: str) -> list[Any]:
        """A list; nothing (absent or null) is an empty list."""
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.error(path, f"expected a list, found {_type_name(value)}")
        return []

    def text(self, value: Any, path: str) -> str | None:
        """Text; numbers and booleans are taken as their text (YAML reads ``name: 1`` as an integer)."""
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        self.error(path, f"expected text, found {_type_name(value)}")
        return None

    def texts(self, value: Any, path: str) -> list[str]:
        out: list[str] = []
        for index, item in enumerate(self.items(value, path)):
            text = self.text(item, pointer(path, index))
            if text is not None:
                out.append(text)
        return out

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.error(path, f"expected an integer, found {_type_name(value)}")
        return None

    def uuid(self, value: Any, path: str) -> UUID | None:
        text = self.text(value, path)
        if text is None:
            return None
        try:
            return UUID(text)
        except ValueError:
            self.error(path, f"expected a UUID, found [{text}]")
            return None

    def instant(self, value: Any, path: str) -> datetime | None:
        text = self.text(value, path)
        if text is None:
            return None
        try:
            return parse_instant(text)
        except TimeSyntaxError as exc:
            self.error(path, str(exc))
            return None

    def duration(self, value: Any, path: str) -> timedelta | None:
        text = self.text(value, path)
        if text is None:
            return None
        try:
            return parse_duration(text)
        except TimeSyntaxError as exc:
            self.error(path, str(exc))
            return None

    def interval(self, value: Any, path: str) -> Interval | None:
        text = self.text(value, path)
        if text is None:
            return None
        try:
            return parse_interval(text)
        except TimeSyntaxError as exc:
            self.error(path, str(exc))
            return None

    def enum(self, value: Any, path: str, enum: type[E], aliases: dict[str, E] | None = None) -> E | None:
        text = self.text(value, path)
        if text is None:
            return None
        word = text.strip().upper()
        if aliases and word in aliases:
            return aliases[word]
        try:
            return enum(word)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum)
            self.error(path, f"[{text}] is not one of {allowed}")
            return None

    def minmax(self, value: Any, path: str, note: bool) -> MinMax | None:
        if value is None:
            return None
        doc = self.mapping(value, path)
        if doc is None:
            return None
        if note:
            self.note_unknown(doc, path, {"min", "max"})
        return MinMax(
            min=self.integer(doc.get("min"), pointer(path, "min")),
            max=self.integer(doc.get("max"), pointer(path, "max")),
        )

    def json_items(self, value: Any, path: str) -> list[dict[str, Any]]:
        """Costs and metrics: kept as plain mappings, once their kind and min/max are seen to be sound."""
        out: list[dict[str, Any]] = []
        for index, item in enumerate(self.items(value, path)):
            where = pointer(path, index)
            doc = self.mapping(item, where)
            if doc is None:
                continue
            if not isinstance(doc.get("kind"), str) or not doc["kind"].strip():
                self.error(pointer(where, "kind"), "expected the kind of the item (a URI)")
            bounds: dict[str, float] = {}
            for key in ("min", "max"):
                number = doc.get(key)
                if number is None:
                    continue
                if isinstance(number, bool) or not isinstance(number, int | float) or number != number:
                    found = "NaN" if number != number else _type_name(number)
                    self.error(pointer(where, key), f"expected a number, found {found}")
                else:
                    bounds[key] = number
            if len(bounds) == 2 and bounds["min"] > bounds["max"]:
                self.error(where, f"min ({bounds['min']}) is larger than max ({bounds['max']})")
            out.append(dict(doc))
        return out

    # ---------------------------------------------------------------------------------------------
    # Shared blocks

    def messages(self, value: Any, path: str) -> list[Message]:
        out: list[Message] = []
        for index, item in enumerate(self.items(value, path)):
            where = pointer(path, index)
            doc = self.mapping(item, where)
            if doc is None:
                continue
            values: dict[str, str] = {}
            raw_values = doc.get("values")
            if raw_values is not None:
                block = self.mapping(raw_values, pointer(where, "values"))
                for name, val in (block or {}).items():
                    values[str(name)] = "" if val is None else str(val)
            text = self.text(doc.get("message"), pointer(where, "message"))
            template = self.text(doc.get("template"), pointer(where, "template"))
            level = self.enum(doc.get("level"), pointer(where, "level"), Level)
            out.append(
                Message(
                    kind=self.text(doc.get("kind", doc.get("type")), pointer(where, "kind")) or "",
                    level=level or Level.OTHER,
                    template=template if template is not None else (text or ""),
                    values=values,
                    time=self.instant(doc.get("time"), pointer(where, "time")),
                    text=text,
                )
            )
        return out

    def options(self, value: Any, path: str) -> list[Option]:
        out: list[Option] = []
        for index, item in enumerate(self.items(value, path)):
            where = pointer(path, index)
            doc = self.mapping(item, where)
            if doc is None:
                continue
            kind_text = self.text(doc.get("kind", doc.get("type")), pointer(where, "kind"))
            try:
                kind = OptionKind(kind_text or "")
            except ValueError:
                continue  # an option we cannot offer is no option at all
            values = doc.get("values")
            out.append(
                Option(
                    kind=kind,
                    path=self.text(doc.get("path"), pointer(where, "path")) or "",
                    values=self.texts(values, pointer(where, "values")) if values is not None else None,
                    pattern=self.text(doc.get("pattern"), pointer(where, "pattern")),
                    min=self.integer(doc.get("min"), pointer(where, "min")),
                    max=self.integer(doc.get("max"), pointer(where, "max")),
                    units=self.text(doc.get("units"), pointer(where, "units")),
                )
            )
        return out

    def meta(self, doc: dict[Any, Any], path: str, flat_description: bool = True) -> Meta:
        """Metadata from a ``meta`` block and/or flat fields (the block wins where both are given)."""
        meta = Meta()
        fields: dict[str, tuple[Any, str]] = {}
        for key in _FLAT_META:
            if key in doc and (flat_description or key != "description"):
                fields["url" if key == "href" else key] = (doc[key], pointer(path, key))
        block = doc.get("meta")
        if block is not None:
            mpath = pointer(path, "meta")
            mdoc = self.mapping(block, mpath)
            if mdoc is not None:
                self.note_unknown(mdoc, mpath, set(_META_KEYS))
                for key in _META_KEYS:
                    if key in mdoc:
                        fields[key] = (mdoc[key], pointer(mpath, key))
        for key, (value, where) in fields.items():
            if key == "uuid":
                meta.uuid = self.uuid(value, where)
            elif key in ("name", "url", "description"):
                setattr(meta, key, self.text(value, where))
            elif key in ("created", "modified"):
                setattr(meta, key, self.instant(value, where))
            elif key == "messages":
                meta.messages = self.messages(value, where)
            elif key == "options":
                meta.options = self.options(value, where)
        return meta

    def schedule(self, value: Any, path: str, note: bool) -> Schedule | None:
        if value is None:
            return None
        doc = self.mapping(value, path)
        if doc is None:
            return None
        offered = doc.get("offered")
        if isinstance(offered, dict):  # J25: schedule.offered.{preparing, available}
            if note:
                self.note_unknown(doc, path, {"offered"})
            path = pointer(path, "offered")
            doc = offered
        if note:
            self.note_unknown(doc, path, {"preparing", "available", "releasing"})
        schedule = Schedule()
        for key in ("preparing", "releasing"):
            if doc.get(key) is not None:
                where = pointer(path, key)
                block = self.mapping(doc[key], where)
                if block is not None:
                    setattr(
                        schedule,
                        key,
                        Step(
                            start=self.instant(block.get("start"), pointer(where, "start")),
                            duration=self.duration(block.get("duration"), pointer(where, "duration")),
                        ),
                    )
        if doc.get("available") is not None:
            where = pointer(path, "available")
            block = self.mapping(doc["available"], where)
            if block is not None:
                schedule.available = Window(
                    start=self.interval(block.get("start"), pointer(where, "start")),
                    duration=self.duration(block.get("duration"), pointer(where, "duration")),
                )
        return schedule

    # ---------------------------------------------------------------------------------------------
    # Components

    def _base(
        self,
        component: C,
        doc: dict[Any, Any],
        path: str,
        enum: type[E],
        known: frozenset[str],
        note: bool,
    ) -> tuple[C, E | None]:
        """Fill what every component has; returns the component and its kind (None if unknown)."""
        if note:
            self.note_unknown(doc, path, known)
        component.meta = self.meta(doc, path)
        family = _FAMILY_NAMES.get(enum, enum.__name__)
        raw_kind = doc.get("kind", doc.get("type"))
        kind_key = "kind" if "kind" in doc else "type"
        kind: E | None = None
        kind_text = self.text(raw_kind, pointer(path, kind_key))
        if kind_text is None or not kind_text.strip():
            if note:
                self.problems.append(
                    Message.make(
                        UNKNOWN_KIND,
                        Level.WARN,
                        "The ${family} [${name}] has no kind",
                        family=family,
                        name=component.label,
                        path=_shown(path),
                    )
                )
        else:
            component.kind_uri = kind_text
            kind = parse_kind(kind_text, enum)
            if kind is None and note:
                values = {"family": family, "kind": kind_text, "path": pointer(path, kind_key)}
                template = "Unknown ${family} kind [${kind}]"
                self.problems.append(
                    Message(UNKNOWN_KIND, Level.WARN, template, values, utcnow(), render(template, values))
                )
        if "kind_uri" in doc:
            component.kind_uri = self.text(doc["kind_uri"], pointer(path, "kind_uri"))
        component.phase = self.enum(
            doc.get("phase"), pointer(path, "phase"), ComponentPhase, _LEGACY_COMPONENT_PHASES
        )
        component.schedule = self.schedule(doc.get("schedule"), pointer(path, "schedule"), note)
        component.costs = self.json_items(doc.get("costs"), pointer(path, "costs"))
        component.metrics = self.json_items(doc.get("metrics"), pointer(path, "metrics"))
        return component, kind

    def _spec(self, doc: dict[Any, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        return {key: doc[key] for key in keys if key in doc and doc[key] is not None}

    def executable(self, value: Any, path: str, note: bool) -> Executable | None:
        doc = self.mapping(value, path)
        if doc is None:
            return None
        known = _COMPONENT_KEYS | set(EXECUTABLE_SPEC)
        exe, kind = self._base(Executable(), doc, path, ExecutableKind, known, note)
        exe.kind = kind
        exe.spec = self._spec(doc, EXECUTABLE_SPEC)
        return exe

    def storage(self, value: Any, path: str, note: bool) -> Storage | None:
        doc = self.mapping(value, path)
        if doc is None:
            return None
        store, kind = self._base(
            Storage(), doc, path, StorageKind, _COMPONENT_KEYS | {"size", "data", "resources"}, note
        )
        store.kind = kind
        store.size = self.minmax(doc.get("size"), pointer(path, "size"), note)
        # ``resources`` is the older spelling (examples 006 and 007 of the reference).
        key = "data" if "data" in doc else "resources"
        store.data = self.texts(doc.get(key), pointer(path, key))
        return store

    def data(self, value: Any, path: str, note: bool) -> Data | None:
        doc = self.mapping(value, path)
        if doc is None:
            return None
        known = _COMPONENT_KEYS | {"storage"} | set(DATA_SPEC)
        item, kind = self._base(Data(), doc, path, DataKind, known, note)
        item.kind = kind
        item.storage = self.text(doc.get("storage"), pointer(path, "storage"))
        item.spec = self._spec(doc, DATA_SPEC)
        return item

    def volume(self, value: Any, path: str, note: bool) -> VolumeMount | None:
        doc = self.mapping(value, path)
        if doc is None:
            return None
        known = _COMPONENT_KEYS | {"path", "mode", "cardinality", "resources", "resource", "declared"}
        mount, kind = self._base(VolumeMount(), doc, path, VolumeKind, known, note)
        mount.kind = kind
        mount.path = self.text(doc.get("path"), pointer(path, "path"))
        mount.mode = self.text(doc.get("mode"), pointer(path, "mode"))
        mount.cardinality = self.text(doc.get("cardinality"), pointer(path, "cardinality"))
        if doc.get("resources") is not None:
            mount.resources = self.texts(doc.get("resources"), pointer(path, "resources"))
            single = self.text(doc.get("resource"), pointer(path, "resource"))
            if single is not None and single not in mount.resources:
                mount.resources.insert(0, single)
        else:
            single = self.text(doc.get("resource"), pointer(path, "resource"))
            mount.resources = [single] if single is not None else []
        return mount

    def compute_and_volumes(
        self, doc: dict[Any, Any], path: str, note: bool
    ) -> tuple[Compute | None, list[VolumeMount]]:
        """The compute resource (``compute`` or J25 ``computer``) and every declared volume mount.

        Top-level ``volumes`` come first, in order, then mounts written inline under compute. A name in
        ``compute.volumes`` refers to a top-level mount (by name or uuid); an inline mount with an
        integer ``declared`` refers to the top-level mount at that index (our own stored form).
        """
        declared: list[VolumeMount] = []
        for index, item in enumerate(self.items(doc.get("volumes"), pointer(path, "volumes"))):
            mount = self.volume(item, pointer(pointer(path, "volumes"), index), note)
            if mount is not None:
                declared.append(mount)
        key = "compute" if "compute" in doc or "computer" not in doc else "computer"
        raw = doc.get(key)
        if raw is None:
            return None, declared
        cpath = pointer(path, key)
        cdoc = self.mapping(raw, cpath)
        if cdoc is None:
            return None, declared
        known = _COMPONENT_KEYS | {"cores", "memory", "volumes"}
        compute, kind = self._base(Compute(), cdoc, cpath, ComputeKind, known, note)
        compute.kind = kind
        compute.cores = self.minmax(cdoc.get("cores"), pointer(cpath, "cores"), note)
        compute.memory = self.minmax(cdoc.get("memory"), pointer(cpath, "memory"), note)
        inline: list[VolumeMount] = []
        vpath = pointer(cpath, "volumes")
        for index, item in enumerate(self.items(cdoc.get("volumes"), vpath)):
            where = pointer(vpath, index)
            if isinstance(item, str):
                found = _find_volume(declared, item)
                if found is not None:
                    compute.volumes.append(found)
                elif note:
                    self.problems.append(
                        Message.make(
                            RESOURCE_NOT_FOUND,
                            Level.ERROR,
                            "The compute resource mounts volume [${volume}], which is not declared",
                            volume=item,
                            path=where,
                        )
                    )
            elif isinstance(item, dict):
                ref = item.get("declared")
                if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(declared):
                    compute.volumes.append(declared[ref])
                    continue
                mount = self.volume(item, where, note)
                if mount is not None:
                    inline.append(mount)
                    compute.volumes.append(mount)
            else:
                self.error(where, f"expected a volume name or a volume mount, found {_type_name(item)}")
        return compute, declared + inline

    def components_into(
        self, doc: dict[Any, Any], path: str, note: bool, target: ExecutionRequest | Session
    ) -> None:
        if doc.get("executable") is not None:
            target.executable = self.executable(doc["executable"], pointer(path, "executable"), note)
        target.compute, target.volumes = self.compute_and_volumes(doc, path, note)
        spath = pointer(path, "storage")
        target.storage = [
            s
            for i, item in enumerate(self.items(doc.get("storage"), spath))
            if (s := self.storage(item, pointer(spath, i), note)) is not None
        ]
        dpath = pointer(path, "data")
        target.data = [
            d
            for i, item in enumerate(self.items(doc.get("data"), dpath))
            if (d := self.data(item, pointer(dpath, i), note)) is not None
        ]

    # ---------------------------------------------------------------------------------------------
    # Documents

    def request(self, value: Any) -> ExecutionRequest:
        doc = self.root(value, "")
        request = ExecutionRequest()
        self.note_unknown(
            doc,
            "",
            {
                "executable",
                "compute",
                "computer",
                "storage",
                "data",
                "volumes",
                "schedule",
                "costs",
                "metrics",
                "meta",
                "name",
                "description",
                "uuid",
            },
        )
        request.meta = self.meta({k: doc[k] for k in ("meta", "name", "description", "uuid") if k in doc}, "")
        self.components_into(doc, "", True, request)
        request.schedule = self.requested_schedule(doc.get("schedule"), "/schedule")
        request.costs = self.json_items(doc.get("costs"), "/costs")
        request.metrics = self.json_items(doc.get("metrics"), "/metrics")
        for key, items in (("costs", request.costs), ("metrics", request.metrics)):
            if items:
                self.notes.append(
                    Message.make(
                        UNKNOWN_FIELD,
                        Level.WARN,
                        "The request's ${field} are kept with it but not evaluated: this broker does not"
                        " quote costs or metrics, and its offers do not take them into account",
                        field=key,
                        path=f"/{key}",
                    )
                )
        request.problems = self.problems
        request.notes = self.notes
        self.finish()
        return request

    def requested_schedule(self, value: Any, path: str) -> RequestedSchedule:
        schedule = RequestedSchedule()
        if value is None:
            return schedule
        doc = self.mapping(value, path)
        if doc is None:
            return schedule
        self.note_unknown(doc, path, {"requested"})
        if doc.get("requested") is None:
            return schedule
        rpath = pointer(path, "requested")
        requested = self.mapping(doc["requested"], rpath)
        if requested is None:
            return schedule
        self.note_unknown(requested, rpath, {"duration", "start"})
        raw_duration = requested.get("duration")
        if raw_duration is not None:
            where = pointer(rpath, "duration")
            schedule.duration_text = self._time_text(raw_duration, where)
            if schedule.duration_text is not None:
                schedule.duration = self._business_time(parse_duration, schedule.duration_text, where)
        raw_start = requested.get("start")
        if isinstance(raw_start, list) and len(raw_start) == 1:
            raw_start = raw_start[0]  # A25 had a list of start intervals
        if raw_start is not None:
            where = pointer(rpath, "start")
            if isinstance(raw_start, list):
                self._syntax_problem(where, str(raw_start), "only one start interval may be given")
                schedule.start_text = str(raw_start)
            else:
                schedule.start_text = self._time_text(raw_start, where)
                if schedule.start_text is not None:
                    schedule.start = self._business_time(parse_interval, schedule.start_text, where)
        return schedule

    def _time_text(self, value: Any, path: str) -> str | None:
        if isinstance(value, dict | list):
            self.error(path, f"expected an ISO-8601 text, found {_type_name(value)}")
            return None
        return value if isinstance(value, str) else str(value)

    def _syntax_problem(self, path: str, text: str, reason: str) -> None:
        self.problems.append(
            Message.make(
                INPUT_SYNTAX,
                Level.ERROR,
                "Unable to parse [${value}] at [${path}]: ${reason}",
                value=shorten(text),
                path=path,
                reason=reason,
            )
        )

    def _business_time(self, parse: Callable[[str], T], text: str, path: str) -> T | None:
        try:
            return parse(text)
        except TimeSyntaxError as exc:
            self._syntax_problem(path, text, exc.reason)
            return None

    def session(self, value: Any, path: str = "") -> Session:
        doc = self.root(value, path)
        if not any(key in doc for key in ("kind", "type", "meta", "uuid", "href", "phase", "executable")):
            self.error(path, "not an execution session: it has none of kind, type, meta, uuid, phase")
            return Session()
        session = Session()
        session.meta = self.meta(doc, path)
        raw_kind = self.text(doc.get("kind", doc.get("type")), pointer(path, "kind"))
        session.kind = (parse_kind(raw_kind, SessionKind) if raw_kind else None) or SessionKind.SCHEDULED
        phase = self.enum(doc.get("phase"), pointer(path, "phase"), SessionPhase, _LEGACY_SESSION_PHASES)
        session.phase = phase or SessionPhase.INITIAL
        session.expires = self.instant(doc.get("expires"), pointer(path, "expires"))
        session.schedule = self.schedule(doc.get("schedule"), pointer(path, "schedule"), False)
        self.components_into(doc, path, False, session)
        cpath = pointer(path, "connectors")
        for index, item in enumerate(self.items(doc.get("connectors"), cpath)):
            where = pointer(cpath, index)
            cdoc = self.mapping(item, where)
            if cdoc is None:
                continue
            session.connectors.append(
                Connector(
                    kind=self.text(cdoc.get("kind", cdoc.get("type")), pointer(where, "kind")),
                    status=self.enum(
                        cdoc.get("status"),
                        pointer(where, "status"),
                        ConnectorStatus,
                        _LEGACY_CONNECTOR_STATUS,
                    ),
                    protocol=self.text(cdoc.get("protocol"), pointer(where, "protocol")),
                    location=self.text(cdoc.get("location"), pointer(where, "location")),
                )
            )
        session.costs = self.json_items(doc.get("costs"), pointer(path, "costs"))
        session.metrics = self.json_items(doc.get("metrics"), pointer(path, "metrics"))
        return session

    def offerset(self, value: Any) -> OfferSet:
        doc = self.root(value, "")
        if not any(key in doc for key in ("result", "offers", "kind", "type", "meta", "uuid", "href")):
            self.error("", "not an offer set: it has none of result, offers, kind, type, meta, uuid")
            self.finish()
        offerset = OfferSet()
        offerset.meta = self.meta(doc, "", flat_description=False)
        raw_result = doc.get("result")
        if isinstance(raw_result, bool):  # YAML 1.1 reads a bare NO as false
            offerset.result = Result.YES if raw_result else Result.NO
        else:
            offerset.result = self.enum(raw_result, "/result", Result)
        offerset.description = self.text(doc.get("description"), "/description")
        for index, item in enumerate(self.items(doc.get("offers"), "/offers")):
            if isinstance(item, dict):
                offerset.offers.append(self.session(item, pointer("/offers", index)))
            else:
                self.error(pointer("/offers", index), f"expected a mapping, found {_type_name(item)}")
        self.finish()
        return offerset

    def update(self, value: Any) -> Update:
        doc = self.root(value, "")
        path = ""
        subject = self._subject(doc, path)
        if "update" in doc:  # v0.8/SEED: {update: {type, path, value}}
            path = "/update"
            doc = self.root(doc["update"], path)
            subject = self._subject(doc, path) or subject
        kind_text = self.text(doc.get("kind", doc.get("type")), pointer(path, "kind")) or ""
        try:
            kind: UpdateKind | None = UpdateKind(kind_text.strip())
        except ValueError:
            kind = None
        target = self.text(doc.get("path"), pointer(path, "path"))
        if target is None:
            self.error(pointer(path, "path"), "an update needs a path")
        value_ = doc.get("value")
        if isinstance(value_, dict | list):
            self.error(pointer(path, "value"), f"expected a single value, found {_type_name(value_)}")
            value_ = None
        update = Update(
            kind=kind,
            kind_text=kind_text,
            path=target or "",
            value=value_,
            delta=self.integer(doc.get("delta"), pointer(path, "delta")),
            units=self.text(doc.get("units"), pointer(path, "units")),
            subject=subject,
        )
        self.finish()
        return update

    def _subject(self, doc: dict[Any, Any], path: str) -> str | None:
        """The session an update body names by ``uuid`` (flat) or ``meta.uuid``, if it names one."""
        named = self.text(doc.get("uuid"), pointer(path, "uuid"))
        meta = doc.get("meta")
        if named is None and isinstance(meta, dict):
            named = self.text(meta.get("uuid"), pointer(pointer(path, "meta"), "uuid"))
        return named.strip() if named is not None else None


def _find_volume(declared: list[VolumeMount], ref: str) -> VolumeMount | None:
    for mount in declared:
        if mount.meta.name == ref or (mount.meta.uuid is not None and str(mount.meta.uuid) == ref.lower()):
            return mount
    return None


def decode_request(doc: Any) -> ExecutionRequest:
    return Reader().request(doc)


def decode_session(doc: Any) -> Session:
    reader = Reader()
    session = reader.session(doc)
    reader.finish()
    return session


def decode_offerset(doc: Any) -> OfferSet:
    return Reader().offerset(doc)


def decode_update(doc: Any) -> Update:
    return Reader().update(doc)
