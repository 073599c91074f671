"""Writing an offer from another offer's document (``restamp``) gives what encoding the offer would.

The broker writes the first offer of a set in full and the others from its document; a difference
between the two paths would show up as offers that depend on their position in the set.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execbroker.model.components import MinMax, Schedule, Session, Step, Window
from execbroker.model.ids import uuid7, uuid7_texts
from execbroker.model.times import Interval
from execbroker.wire.dialects import Dialect, get_codec
from execbroker.wire.dialects.encoding import OfferChanges

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
BASE = "http://broker.example/api"
NOW = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)


def _meta(family: str, name: str | None) -> dict[str, Any]:
    ident = str(uuid.uuid4())
    meta: dict[str, Any] = {
        "uuid": ident,
        "url": f"{BASE}/{family}/{ident}",
        "created": "2026-11-23T12:00:00Z",
    }
    if name:
        meta["name"] = name
    return meta


def _schedule(start: datetime, prepare: int, length: int, release: int) -> Schedule:
    begin = start - timedelta(seconds=prepare)
    end = start + timedelta(seconds=length)
    return Schedule(
        preparing=Step(begin, timedelta(seconds=prepare)),
        available=Window(Interval(start), timedelta(seconds=length)),
        releasing=Step(end, timedelta(seconds=release)),
    )


def _offer_document(stores: int, datas: int, named: bool) -> dict[str, Any]:
    codec = get_codec(Dialect.V1_0)
    storage: list[dict[str, Any]] = [
        {
            "kind": P + "storage/simple-storage-resource.yaml",
            "meta": _meta("storage", f"store-{i}" if named else None),
            "phase": "INITIALIZING",
            "size": {"min": 1, "max": 1},
        }
        for i in range(stores)
    ]
    data: list[dict[str, Any]] = []
    for i in range(datas):
        item: dict[str, Any] = {
            "kind": P + "data/simple-data-resource.yaml",
            "meta": _meta("data", f"data-{i}" if named else None),
            "phase": "INITIALIZING",
            "location": f"https://data.example/{i}",
        }
        if storage:
            target = storage[i % len(storage)]
            item["storage"] = target["meta"]["uuid"]
            target.setdefault("data", []).append(item["meta"]["uuid"])
        data.append(item)
    doc: dict[str, Any] = {
        "kind": P + "session/scheduled-execution-session.yaml",
        "meta": {**_meta("sessions", "set-offer-0" if named else None), "options": []},
        "phase": "OFFERED",
        "expires": "2026-11-23T12:05:00Z",
        "executable": {
            "kind": P + "executable/docker-container.yaml",
            "meta": _meta("executables", "exe"),
            "phase": "INITIALIZING",
            "image": {"locations": ["busybox"]},
            "environment": {"A": "1"},
        },
        "compute": {
            "kind": P + "compute/simple-compute-resource.yaml",
            "meta": _meta("compute", None),
            "phase": "INITIALIZING",
            "cores": {"min": 2, "max": 2},
            "memory": {"min": 3, "max": 3},
        },
        "storage": storage,
        "data": data,
    }
    session = codec.decode_session(doc)
    schedule = _schedule(NOW, 30, 3600, 5)
    session.schedule = schedule
    for component in session.components():
        component.schedule = copy.deepcopy(schedule)
    return codec.encode_session(session)


def _expected(
    template: dict[str, Any],
    renames: dict[str, str],
    name: str | None,
    schedule: Schedule,
    cores: int,
    memory: int,
    sizes: list[int],
    expires: datetime | None,
) -> dict[str, Any]:
    """Build the other offer the slow way: decode, change every field, encode."""
    codec = get_codec(Dialect.V1_0)
    session: Session = codec.decode_session(copy.deepcopy(template))
    session.meta.name = name
    if expires is not None:
        session.expires = expires
    items: list[Any] = [session, *session.components()]
    for item in items:
        old = str(item.meta.uuid)
        item.meta.uuid = uuid.UUID(renames[old])
        assert item.meta.url is not None
        item.meta.url = item.meta.url.replace(old, renames[old])
        item.schedule = copy.deepcopy(schedule)
    assert session.compute is not None
    session.compute.cores = MinMax(cores, cores)
    session.compute.memory = MinMax(memory, memory)
    for store, size in zip(session.storage, sizes, strict=True):
        store.size = MinMax(size, size)
        store.data = [renames[d] for d in store.data]
    for item in session.data:
        if item.storage:
            item.storage = renames[item.storage]
    return codec.encode_session(session)


@settings(max_examples=60, deadline=None)
@given(
    stores=st.integers(0, 3),
    datas=st.integers(0, 3),
    named=st.booleans(),
    offset=st.integers(0, 7 * 86400),
    prepare=st.integers(0, 3600),
    length=st.integers(60, 86400),
    release=st.integers(0, 600),
    cores=st.integers(1, 64),
    memory=st.integers(1, 256),
    size=st.integers(1, 100),
    expiry=st.none() | st.integers(1, 600),
)
def test_restamp_equals_encoding_the_changed_offer(
    stores: int,
    datas: int,
    named: bool,
    offset: int,
    prepare: int,
    length: int,
    release: int,
    cores: int,
    memory: int,
    size: int,
    expiry: int | None,
) -> None:
    template = _offer_document(stores, datas, named)
    before = copy.deepcopy(template)
    olds = [template["meta"]["uuid"]]
    for key in ("executable", "compute"):
        olds.append(template[key]["meta"]["uuid"])
    for key in ("storage", "data"):
        olds.extend(item["meta"]["uuid"] for item in template.get(key, []))
    renames = {old: str(uuid7()) for old in olds}
    schedule = _schedule(NOW + timedelta(seconds=offset), prepare, length, release)
    sizes = [size + i for i in range(stores)]
    name = "set-offer-2" if named else None

    expires = None if expiry is None else NOW + timedelta(seconds=expiry)
    changes = OfferChanges(renames, name, schedule, cores, memory, sizes, expires)
    stamped = get_codec(Dialect.V1_0).restamp_session(template, changes)

    assert stamped == _expected(template, renames, name, schedule, cores, memory, sizes, expires)
    assert template == before, "the template must not change"
    assert not set(olds) & {v for v in _uuids(stamped)}, "no identity of the template is kept"


def _uuids(doc: object) -> list[str]:
    out: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "uuid":
                out.append(value)
            else:
                out.extend(_uuids(value))
    elif isinstance(doc, list):
        for value in doc:
            out.extend(_uuids(value))
    return out


def test_restamp_refuses_a_url_without_its_uuid() -> None:
    template = _offer_document(0, 0, False)
    template["meta"]["url"] = "http://elsewhere/x"
    renames = {u: str(uuid7()) for u in _uuids(template)}
    with pytest.raises(ValueError, match="does not end with its uuid"):
        get_codec(Dialect.V1_0).restamp_session(
            template, OfferChanges(renames, None, _schedule(NOW, 0, 60, 0), 1, 1, [])
        )


def test_uuid7_is_time_ordered_and_unique() -> None:
    values = [uuid7() for _ in range(2000)]
    assert len(set(values)) == len(values)
    assert all(v.version == 7 and v.variant == uuid.RFC_4122 for v in values)
    texts = [t for _ in range(300) for t in uuid7_texts(1)] + uuid7_texts(300) + uuid7_texts(1000)
    assert all(str(uuid.UUID(t)) == t and uuid.UUID(t).version == 7 for t in texts)
    assert len(set(texts)) == len(texts)
    stamps = [v.int >> 80 for v in values]
    assert stamps == sorted(stamps)
    assert abs(stamps[-1] - datetime.now(UTC).timestamp() * 1000) < 60_000
