"""Dialect codecs: liberal reading, exact writing, and the reference client's rules on v1.0 output."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from execbroker.model.components import (
    Compute,
    ComputeKind,
    Connector,
    Data,
    DataKind,
    Executable,
    ExecutableKind,
    Meta,
    MinMax,
    OfferSet,
    Option,
    OptionKind,
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
from execbroker.model.messages import Level, Message
from execbroker.model.phases import ComponentPhase, ConnectorStatus, SessionPhase
from execbroker.model.text import shorten
from execbroker.model.times import Interval, format_instant
from execbroker.wire.dialects import Dialect, detect_dialect, get_codec, sniff_dialect
from execbroker.wire.errors import DecodeError
from execbroker.wire.kinds import UriStyle, kind_uri, parse_kind
from execbroker.wire.media import MediaType, dump

V10 = get_codec(Dialect.V1_0)
N25 = get_codec(Dialect.N25)
SEED = get_codec(Dialect.SEED)
J25 = get_codec(Dialect.J25)
ALL = [V10, N25, SEED, J25]

PURL = "https://www.purl.org/ivoa.net/"
N25_JUPYTER = PURL + "EB/schema/v1.0/types/executable/jupyter-notebook-1.0"
N25_DOCKER = PURL + "EB/schema/v1.0/types/executable/docker-container-1.0"
N25_COMPUTE = PURL + "EB/schema/v1.0/types/compute/simple-compute-resource-1.0"
N25_VOLUME = PURL + "EB/schema/v1.0/types/volume/simple-volume-mount-1.0"
N25_DATA = PURL + "EB/schema/v1.0/types/data/simple-data-resource-1.0"
N25_STORAGE = PURL + "EB/schema/v1.0/types/storage/simple-storage-resource-1.0"
V10_KINDS = PURL + "Calycopis-openapi/schema/v1.0/kinds/"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def jupyter(**extra: Any) -> dict[str, Any]:
    return {"kind": N25_JUPYTER, "meta": {"name": "nb"}, "location": "https://example.org/nb.ipynb", **extra}


def problems_of(exc: pytest.ExceptionInfo[DecodeError]) -> dict[str, str]:
    return {p.path: p.message for p in exc.value.problems}


# --------------------------------------------------------------------------------------------------
# Kind URIs


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        (V10_KINDS + "compute/simple-compute-resource.yaml", ComputeKind.SIMPLE),
        (PURL + "EB/schema/v1.0/types/compute/simple-compute-resource-1.0", ComputeKind.SIMPLE),
        (PURL + "EB/schema/v1.0/types/computer/simple-compute-resource-1.0", ComputeKind.SIMPLE),
        (PURL + "EB/schema/types/computer/simple-compute-resource-1.0", ComputeKind.SIMPLE),
        (PURL + "EB/schema/types/compute/simple-compute-resource-1.0", ComputeKind.SIMPLE),
        (PURL + "EB/schema/types/resources/compute/simple-compute-resource-1.0", ComputeKind.SIMPLE),
        (
            "http://www.purl.org/ivoa.net/EB/schema/types/compute/simple-compute-resource-1.0",
            ComputeKind.SIMPLE,
        ),
        (
            "https://purl.org/ivoa.net/EB/schema/v1.0//types/compute/simple-compute-resource-1.0",
            ComputeKind.SIMPLE,
        ),
        ("  uri:generic-compute ", ComputeKind.SIMPLE),
        (PURL + "EB/schema/v1.0//types/volume/simple-volume-mount-1.0", VolumeKind.SIMPLE),
        ("uri:filesystem-mount", VolumeKind.SIMPLE),
        ("uri:docker-container-1.0", ExecutableKind.DOCKER_CONTAINER),
        (PURL + "EB/schema/types/executables/docker-container-1.0", ExecutableKind.DOCKER_CONTAINER),
        (PURL + "executable-types/oci-container", ExecutableKind.DOCKER_CONTAINER),
        (V10_KINDS + "executable/singularity-container.yaml", ExecutableKind.SINGULARITY_CONTAINER),
        (PURL + "EB/schema/types/resources/data/Rucio-data-resource-1.0", DataKind.RUCIO),
        (PURL + "EB/schema/types/data/s3-data-resource-1.0", DataKind.S3),
        (V10_KINDS + "data/skao-data-resource.yaml", DataKind.SKAO),
        (PURL + "EB/schema/types/session/execution-session-response-1.0", SessionKind.SCHEDULED),
        (V10_KINDS + "session/simple-execution-session.yaml", SessionKind.SIMPLE),
    ],
)
def test_every_uri_spelling_is_read(uri: str, kind: Any) -> None:
    assert parse_kind(uri, type(kind)) is kind


def test_uri_of_another_family_or_unknown_is_none() -> None:
    assert parse_kind(N25_COMPUTE, ExecutableKind) is None
    assert parse_kind("https://example.org/executable/docker-container-1.0", ExecutableKind) is None
    assert parse_kind(PURL + "EB/schema/v1.0/types/executable/podman-container-1.0", ExecutableKind) is None


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (UriStyle.V10, V10_KINDS + "compute/simple-compute-resource.yaml"),
        (UriStyle.N25, PURL + "EB/schema/v1.0/types/compute/simple-compute-resource-1.0"),
        (UriStyle.V08, PURL + "EB/schema/types/compute/simple-compute-resource-1.0"),
        (UriStyle.J25, PURL + "EB/schema/types/computer/simple-compute-resource-1.0"),
    ],
)
def test_compute_uri_is_exact_per_generation(style: UriStyle, expected: str) -> None:
    assert kind_uri(style, ComputeKind.SIMPLE) == expected


# --------------------------------------------------------------------------------------------------
# Liberal decoding


@pytest.mark.parametrize("codec", ALL, ids=lambda c: c.name)
def test_unknown_kind_is_a_problem_not_an_error(codec: Any) -> None:
    doc = {"executable": {"kind": "https://example.org/my-own-kind", "meta": {"name": "x"}}}
    request = codec.decode_request(doc)
    assert request.executable is not None
    assert request.executable.kind is None
    assert request.executable.kind_uri == "https://example.org/my-own-kind"
    [problem] = request.problems
    assert problem.kind == "urn:unknown-kind"
    assert problem.level is Level.WARN
    assert problem.template == "Unknown ${family} kind [${kind}]"
    assert problem.values["kind"] == "https://example.org/my-own-kind"
    assert problem.values["family"] == "executable"
    assert all(isinstance(v, str) for v in problem.values.values())
    assert problem.text == "Unknown executable kind [https://example.org/my-own-kind]"


def test_component_without_kind_is_a_problem() -> None:
    request = V10.decode_request({"executable": jupyter(), "storage": [{"meta": {"name": "s"}}]})
    [problem] = request.problems
    assert problem.kind == "urn:unknown-kind"
    assert "storage" in problem.rendered and "[s]" in problem.rendered


def test_missing_executable_is_not_an_error() -> None:
    request = N25.decode_request({"compute": {"kind": N25_COMPUTE}})
    assert request.executable is None
    assert request.compute is not None and request.compute.kind is ComputeKind.SIMPLE


def test_unknown_fields_are_dropped_and_noted() -> None:
    doc = {
        "executable": jupyter(colour="blue"),
        "priority": 3,
        "compute": {"kind": N25_COMPUTE, "cores": {"min": 1, "units": "x"}},
    }
    request = N25.decode_request(doc)
    paths = sorted(m.values["path"] for m in request.notes)
    assert paths == ["/compute/cores/units", "/executable/colour", "/priority"]
    assert all(m.kind == "urn:unknown-field" and m.level is Level.WARN for m in request.notes)
    assert request.executable is not None and "colour" not in request.executable.spec
    assert request.problems == []


def test_structural_errors_are_collected_with_paths() -> None:
    doc = {
        "executable": ["not", "a", "mapping"],
        "compute": {"kind": N25_COMPUTE, "cores": {"min": "four", "max": 8}, "memory": {"min": True}},
        "storage": {"kind": N25_STORAGE},
        "data": [{"kind": N25_DATA, "meta": {"uuid": "not-a-uuid"}}, "just text"],
    }
    with pytest.raises(DecodeError) as caught:
        N25.decode_request(doc)
    assert caught.value.status == 400
    problems = problems_of(caught)
    assert set(problems) == {
        "/executable",
        "/compute/cores/min",
        "/compute/memory/min",
        "/storage",
        "/data/0/meta/uuid",
        "/data/1",
    }
    assert "integer" in problems["/compute/cores/min"] and "text" in problems["/compute/cores/min"]
    assert "boolean" in problems["/compute/memory/min"]


@pytest.mark.parametrize("body", [[1, 2], "text", 42, None])
def test_body_that_is_not_a_mapping_is_an_error(body: Any) -> None:
    with pytest.raises(DecodeError) as caught:
        V10.decode_request(body)
    assert [p.path for p in caught.value.problems] == ["/"]


def test_bad_requested_times_are_problems_and_keep_their_text() -> None:
    doc = {"executable": jupyter(), "schedule": {"requested": {"duration": "P1H", "start": "tomorrow"}}}
    request = V10.decode_request(doc)
    assert request.schedule.duration is None and request.schedule.duration_text == "P1H"
    assert request.schedule.start is None and request.schedule.start_text == "tomorrow"
    assert [m.kind for m in request.problems] == ["urn:input-syntax-fail"] * 2
    assert {m.values["path"] for m in request.problems} == {
        "/schedule/requested/duration",
        "/schedule/requested/start",
    }
    again = V10.encode_request(request)
    assert again["schedule"] == {"requested": {"duration": "P1H", "start": "tomorrow"}}


def test_good_requested_times_are_parsed() -> None:
    doc = {
        "executable": jupyter(),
        "schedule": {"requested": {"duration": "PT2H", "start": "2026-01-01T12:00Z/PT1H"}},
    }
    request = N25.decode_request(doc)
    assert request.schedule.duration == timedelta(hours=2)
    assert request.schedule.start == Interval(T0, timedelta(hours=1))
    assert request.problems == []


def test_request_meta_in_every_spelling() -> None:
    assert N25.decode_request({"meta": {"name": "a", "description": "d"}}).meta.name == "a"
    flat = SEED.decode_request({"name": "b", "description": "d"})
    assert (flat.meta.name, flat.meta.description) == ("b", "d")
    assert SEED.encode_request(flat) == {"name": "b", "description": "d"}
    assert N25.encode_request(flat) == {"meta": {"name": "b", "description": "d"}}
    assert V10.encode_request(flat) == {}  # v1.0 has no place for it ...
    assert V10.encode_request(flat, extras=True) == {"meta": {"name": "b", "description": "d"}}  # ... we do


def test_data_and_storage_cross_references_are_kept_as_text() -> None:
    doc = {
        "storage": [{"kind": N25_STORAGE, "meta": {"name": "store"}, "resources": ["d1"]}],
        "data": [{"kind": N25_DATA, "meta": {"name": "d1"}, "storage": "store", "location": "https://x/y"}],
    }
    request = N25.decode_request(doc)
    assert request.storage[0].data == ["d1"]  # the old ``resources`` spelling
    assert request.data[0].storage == "store"  # not resolved here: the broker does that
    assert request.data[0].spec == {"location": "https://x/y"}


# --------------------------------------------------------------------------------------------------
# Volumes


def _volume_request(inline: bool) -> dict[str, Any]:
    mount = {"kind": N25_VOLUME, "meta": {"name": "cal"}, "path": "/cal", "mode": "READONLY"}
    if inline:
        return {"compute": {"kind": N25_COMPUTE, "volumes": [{**mount, "resource": "d1"}]}}
    return {
        "compute": {"kind": N25_COMPUTE, "volumes": ["cal"]},
        "volumes": [
            {**mount, "cardinality": "CONTAINER", "resources": ["d1", "d2"]},
            {"kind": N25_VOLUME, "meta": {"name": "spare"}, "path": "/spare", "resources": ["d3"]},
        ],
    }


@pytest.mark.parametrize("codec", ALL, ids=lambda c: c.name)
def test_both_volume_forms_decode_in_every_dialect(codec: Any) -> None:
    inline = codec.decode_request(_volume_request(inline=True))
    assert [m.resources for m in inline.compute.volumes] == [["d1"]]
    assert inline.volumes == inline.compute.volumes
    listed = codec.decode_request(_volume_request(inline=False))
    assert [v.meta.name for v in listed.volumes] == ["cal", "spare"]
    assert listed.compute.volumes == [listed.volumes[0]]
    assert listed.compute.volumes[0] is listed.volumes[0]
    assert (listed.volumes[0].cardinality, listed.volumes[0].resources) == ("CONTAINER", ["d1", "d2"])
    assert listed.problems == []


def test_volume_name_that_matches_nothing_is_a_problem() -> None:
    request = N25.decode_request({"compute": {"kind": N25_COMPUTE, "volumes": ["nowhere"]}})
    [problem] = request.problems
    assert problem.kind == "urn:resource-not-found"
    assert problem.values == {"volume": "nowhere", "path": "/compute/volumes/0"}
    with pytest.raises(DecodeError) as caught:
        N25.decode_request({"compute": {"kind": N25_COMPUTE, "volumes": [7]}})
    assert list(problems_of(caught)) == ["/compute/volumes/0"]


def test_volumes_are_written_per_dialect() -> None:
    request = N25.decode_request(_volume_request(inline=False))
    v10 = V10.encode_request(request)
    assert "volumes" not in v10
    assert v10["compute"]["volumes"] == [
        {
            "kind": V10_KINDS + "volume/simple-volume-mount.yaml",
            "meta": {"name": "cal"},
            "path": "/cal",
            "mode": "READONLY",
            "resource": "d1",
        }
    ]
    n25 = N25.encode_request(request)
    assert n25 == _volume_request(inline=False)
    seed = SEED.encode_request(request)
    assert seed["compute"]["volumes"] == ["cal"]
    assert seed["volumes"][0]["type"] == PURL + "EB/schema/types/volume/simple-volume-mount-1.0"
    assert seed["volumes"][0]["name"] == "cal"


# --------------------------------------------------------------------------------------------------
# Updates


@pytest.mark.parametrize("codec", ALL, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "doc",
    [
        {"kind": "uri:enum-value-update", "path": "/phase", "value": "ACCEPTED"},
        {"update": {"type": "uri:enum-value-update", "path": "/phase", "value": "ACCEPTED"}},
        {"update": {"kind": "uri:enum-value-update", "path": "/phase", "value": "ACCEPTED"}},
    ],
    ids=["bare", "wrapped-type", "wrapped-kind"],
)
def test_update_forms_decode_everywhere(codec: Any, doc: dict[str, Any]) -> None:
    update = codec.decode_update(doc)
    assert (update.kind, update.path, update.value) == (UpdateKind.ENUM_VALUE, "/phase", "ACCEPTED")


def test_updates_are_written_per_dialect() -> None:
    update = Update(UpdateKind.ENUM_VALUE, "uri:enum-value-update", "phase", "CANCELLED")
    bare = {"kind": "uri:enum-value-update", "path": "phase", "value": "CANCELLED"}
    assert V10.encode_update(update) == bare
    assert N25.encode_update(update) == bare
    wrapped = {"update": {"type": "uri:enum-value-update", "path": "phase", "value": "CANCELLED"}}
    assert SEED.encode_update(update) == wrapped
    assert J25.encode_update(update) == wrapped
    delta = Update(UpdateKind.INTEGER_DELTA, "uri:integer-delta-update", "/compute/cores", delta=-2, units="")
    assert V10.decode_update(V10.encode_update(delta)) == delta


def test_unknown_update_kind_is_kept_for_the_api_to_refuse() -> None:
    update = V10.decode_update({"kind": "uri:teleport-update", "path": "phase", "value": "X"})
    assert update.kind is None and update.kind_text == "uri:teleport-update"


def test_update_without_path_or_with_a_structured_value_is_an_error() -> None:
    with pytest.raises(DecodeError) as caught:
        V10.decode_update({"update": {"type": "uri:enum-value-update", "value": {"a": 1}}})
    assert set(problems_of(caught)) == {"/update/path", "/update/value"}


# --------------------------------------------------------------------------------------------------
# Sessions and offer sets


def rich_session(phase: SessionPhase = SessionPhase.OFFERED) -> Session:
    """A session with one of everything the model holds."""
    attached = VolumeMount(
        kind=VolumeKind.SIMPLE,
        meta=Meta(uuid=UUID("00000000-0000-4000-8000-00000000000a"), name="cal"),
        path="/cal",
        mode="READONLY",
        cardinality="CONTAINER",
        resources=["d1", "d2"],
    )
    unnamed = VolumeMount(kind=VolumeKind.SIMPLE, path="/scratch", mode="READWRITE", resources=["s1"])
    spare = VolumeMount(kind=VolumeKind.SIMPLE, meta=Meta(name="spare"), path="/spare", resources=["d3"])
    component_schedule = Schedule(
        preparing=Step(T0, timedelta(seconds=45)),
        available=Window(Interval(T0 + timedelta(minutes=1)), None),
        releasing=Step(T0 + timedelta(hours=2), timedelta(seconds=1)),
    )
    message = Message.make("urn:value-capped", Level.INFO, "Cores capped at ${max}", max=16)
    return Session(
        kind=SessionKind.SCHEDULED,
        meta=Meta(
            uuid=UUID("5EC79894-814F-4F81-9561-2FE4BFC6010D"),
            name="offer-0",
            url="http://broker/sessions/5ec79894-814f-4f81-9561-2fe4bfc6010d",
            description="first offer",
            created=T0,
            modified=T0 + timedelta(seconds=3),
            messages=[message],
            options=[Option(OptionKind.ENUM_VALUE, "phase", ["ACCEPTED", "REJECTED"])],
        ),
        phase=phase,
        expires=T0 + timedelta(minutes=5),
        schedule=Schedule(
            preparing=Step(T0, timedelta(minutes=1)),
            available=Window(Interval(T0 + timedelta(minutes=1), timedelta(minutes=30)), timedelta(hours=2)),
            releasing=Step(T0 + timedelta(hours=2, minutes=1), timedelta(seconds=10)),
        ),
        executable=Executable(
            kind=ExecutableKind.DOCKER_CONTAINER,
            meta=Meta(uuid=UUID("00000000-0000-4000-8000-000000000001"), name="exe"),
            phase=ComponentPhase.INITIALIZING,
            schedule=component_schedule,
            spec={"image": {"locations": ["ghcr.io/x/y:1"]}, "privileged": False, "command": ["run"]},
        ),
        compute=Compute(
            kind=ComputeKind.SIMPLE,
            meta=Meta(uuid=UUID("00000000-0000-4000-8000-000000000002"), name="cpu"),
            phase=ComponentPhase.AVAILABLE,
            cores=MinMax(4, 8),
            memory=MinMax(2, 4),
            volumes=[attached, unnamed],
        ),
        storage=[
            Storage(
                kind=StorageKind.SIMPLE,
                meta=Meta(uuid=UUID("00000000-0000-4000-8000-000000000003"), name="store"),
                size=MinMax(100, None),
                data=["00000000-0000-4000-8000-000000000004"],
            )
        ],
        data=[
            Data(
                kind=DataKind.SKAO,
                meta=Meta(uuid=UUID("00000000-0000-4000-8000-000000000004"), name="d1"),
                storage="00000000-0000-4000-8000-000000000003",
                spec={"skao": {"namespace": "ns", "datasize": 1024, "replicas": [{"rsename": "R1"}]}},
            )
        ],
        volumes=[attached, spare, unnamed],
        connectors=[Connector("uri:jupyter", ConnectorStatus.AVAILABLE, "HTTPS", "https://nb/")],
        costs=[{"kind": V10_KINDS + "costs/simple-minmax-float-cost.yaml", "min": 1.0, "max": 2.5}],
        metrics=[{"kind": V10_KINDS + "metrics/simple-minmax-float-metric.yaml", "min": 3.0}],
    )


def view(obj: Any) -> Any:
    return asdict(obj)


def test_v10_with_extras_keeps_everything_in_the_model() -> None:
    session = rich_session()
    stored = json.loads(dump(V10.encode_session(session, extras=True), MediaType.JSON))
    again = V10.decode_session(stored)
    assert view(again) == view(session)
    # identity of mounts survives too: the attached ones are the declared ones
    assert again.compute is not None
    assert again.compute.volumes[0] is again.volumes[0]
    assert again.compute.volumes[1] is again.volumes[2]


def test_v10_with_extras_keeps_request_meta_and_mounts() -> None:
    request = N25.decode_request({"meta": {"name": "req"}, **_volume_request(inline=False)})
    again = V10.decode_request(V10.encode_request(request, extras=True))
    assert again.meta.name == "req"
    assert [view(v) for v in again.volumes] == [view(v) for v in request.volumes]
    assert again.compute is not None and again.compute.volumes[0] is again.volumes[0]


@pytest.mark.parametrize("codec", [N25, SEED, J25], ids=lambda c: c.name)
def test_sessions_round_trip_in_every_dialect(codec: Any) -> None:
    session = rich_session(SessionPhase.AVAILABLE)
    again = codec.decode_session(codec.encode_session(session))
    assert again.executable is not None and session.executable is not None and again.compute is not None
    assert again.phase is SessionPhase.AVAILABLE
    assert again.meta.uuid == session.meta.uuid and again.meta.url == session.meta.url
    assert again.meta.options == session.meta.options
    assert [m.template for m in again.meta.messages] == ["Cores capped at ${max}"]
    assert again.connectors == session.connectors
    assert again.schedule == session.schedule
    assert again.executable.schedule == session.executable.schedule
    assert again.compute.phase is ComponentPhase.AVAILABLE
    assert again.expires == session.expires
    assert [(v.cardinality, v.resources) for v in again.volumes] == [
        (v.cardinality, v.resources) for v in session.volumes
    ]


def test_seed_writes_v08_phase_names_and_drops_v10_fields() -> None:
    doc = SEED.encode_session(rich_session(SessionPhase.INITIAL))
    assert doc["phase"] == "PROPOSED"
    assert SEED.encode_session(rich_session(SessionPhase.AVAILABLE))["phase"] == "READY"
    assert SEED.encode_session(rich_session(SessionPhase.OFFERED))["phase"] == "OFFERED"
    assert doc["type"] == PURL + "EB/schema/types/session/execution-session-response-1.0"
    assert doc["uuid"] == "5ec79894-814f-4f81-9561-2fe4bfc6010d"
    assert doc["href"] == "http://broker/sessions/5ec79894-814f-4f81-9561-2fe4bfc6010d"
    assert doc["options"] == [
        {"type": "uri:enum-value-option", "path": "phase", "values": ["ACCEPTED", "REJECTED"]}
    ]
    assert doc["messages"][0]["type"] == "urn:value-capped"
    assert doc["connectors"][0]["type"] == "uri:jupyter"
    for absent in ("kind", "meta", "costs", "metrics", "modified"):
        assert absent not in doc
    assert "command" not in doc["executable"]
    assert doc["executable"]["privileged"] is False
    assert "compute" in doc and "computer" not in doc
    assert SEED.decode_session(doc).phase is SessionPhase.INITIAL


def test_j25_writes_its_own_quirks() -> None:
    doc = J25.encode_session(rich_session())
    assert "computer" in doc and "compute" not in doc
    assert doc["computer"]["type"] == PURL + "EB/schema/types/computer/simple-compute-resource-1.0"
    assert set(doc["schedule"]) == {"offered"}
    assert doc["executable"]["schedule"]["offered"]["available"] == {"start": "2026-01-01T12:01:00Z"}
    assert doc["schedule"]["offered"]["available"]["start"] == "2026-01-01T12:01:00Z/PT30M"


def test_offersets_round_trip() -> None:
    offerset = OfferSet(
        meta=Meta(uuid=UUID("2d67672a-4b39-424d-94be-9d1ac48b5810"), name="set", created=T0),
        result=Result.YES,
        description="two offers",
        offers=[rich_session(), rich_session(SessionPhase.REJECTED)],
    )
    for codec in ALL:
        again = codec.decode_offerset(codec.encode_offerset(offerset))
        assert again.result is Result.YES and again.description == "two offers"
        assert [o.phase for o in again.offers] == [SessionPhase.OFFERED, SessionPhase.REJECTED]
    assert V10.encode_offerset(offerset)["kind"] == V10_KINDS + "offerset/execution-offerset.yaml"
    assert (
        N25.encode_offerset(offerset)["kind"] == PURL + "EB/schema/v1.0/types/offerset/execution-offerset-1.0"
    )
    assert SEED.encode_offerset(offerset)["type"] == PURL + "EB/schema/types/offerset/offerset-response-1.0"
    no = OfferSet(meta=Meta(messages=[Message.make("urn:x", Level.ERROR, "No")]), result=Result.NO)
    assert "offers" not in V10.encode_offerset(no)
    assert V10.decode_offerset({"result": False}).result is Result.NO  # a YAML 1.1 bare NO


def test_session_decoding_refuses_non_documents() -> None:
    with pytest.raises(DecodeError):
        V10.decode_session({"timestamp": "x", "status": 400})
    with pytest.raises(DecodeError) as caught:
        V10.decode_session({"kind": "x", "phase": "SLEEPING"})
    assert list(problems_of(caught)) == ["/phase"]


# --------------------------------------------------------------------------------------------------
# The reference client's rules (reference-client.md 4) on v1.0 output


def test_v10_session_satisfies_the_reference_client() -> None:
    session = rich_session()
    session.kind = SessionKind.SIMPLE  # must still go out as the scheduled kind
    doc = json.loads(dump(V10.encode_session(session), MediaType.JSON))
    assert doc["kind"] == V10_KINDS + "session/scheduled-execution-session.yaml"
    assert doc["meta"]["uuid"] == "5ec79894-814f-4f81-9561-2fe4bfc6010d"  # lower case
    assert doc["schedule"]["available"]["start"] == "2026-01-01T12:01:00Z/PT30M"
    assert doc["executable"]["schedule"]["available"]["start"] == "2026-01-01T12:01:00Z/PT0S"
    assert doc["schedule"]["preparing"]["start"] == "2026-01-01T12:00:00Z"
    assert doc["schedule"]["available"]["duration"] == "PT2H"
    assert doc["meta"]["messages"][0]["values"] == {"max": "16"}
    assert doc["meta"]["options"][0]["kind"] == "uri:enum-value-option"
    assert doc["compute"]["cores"] == {"min": 4, "max": 8}
    assert isinstance(doc["compute"]["cores"]["min"], int)
    assert isinstance(doc["data"][0]["skao"]["datasize"], int)
    assert doc["data"][0]["storage"] == "00000000-0000-4000-8000-000000000003"
    assert doc["executable"]["phase"] in [p.value for p in ComponentPhase]
    assert doc["connectors"][0] == {
        "kind": "uri:jupyter",
        "status": "AVAILABLE",
        "protocol": "HTTPS",
        "location": "https://nb/",
    }
    assert doc["compute"]["volumes"][0]["resource"] == "d1"
    assert doc["executable"]["command"] == ["run"]
    assert len(doc["costs"]) == 1 and len(doc["metrics"]) == 1


def test_v10_message_values_are_always_strings() -> None:
    message = Message(kind="urn:x", level=Level.WARN, template="${n}", values={"n": 5})  # type: ignore[dict-item]
    doc = V10.encode_session(Session(meta=Meta(messages=[message])))
    assert doc["meta"]["messages"][0]["values"] == {"n": "5"}


def test_v10_omits_what_is_absent() -> None:
    doc = V10.encode_session(Session(phase=SessionPhase.ACCEPTED))
    assert doc == {"kind": V10_KINDS + "session/scheduled-execution-session.yaml", "phase": "ACCEPTED"}


# --------------------------------------------------------------------------------------------------
# Dialect detection


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"executable": {"type": PURL + "EB/schema/types/executable/jupyter-notebook-1.0"}}, Dialect.SEED),
        ({"computer": {"type": PURL + "EB/schema/types/computer/simple-compute-resource-1.0"}}, Dialect.J25),
        ({"executable": {"type": "x"}, "computer": {}}, Dialect.J25),
        ({"name": "flat", "executable": {"name": "e"}}, Dialect.SEED),
        ({"executable": jupyter()}, Dialect.N25),
        ({"executable": {"kind": V10_KINDS + "executable/jupyter-notebook.yaml"}}, Dialect.V1_0),
        ({"update": {"type": "uri:enum-value-update", "path": "phase", "value": "ACCEPTED"}}, Dialect.SEED),
        ({"kind": "uri:enum-value-update", "path": "phase", "value": "ACCEPTED"}, Dialect.N25),
        ({"uuid": "u", "type": "t", "offers": [{"schedule": {"offered": {}}}]}, Dialect.J25),
        ({}, Dialect.N25),
        ([], Dialect.N25),
    ],
)
def test_sniff_dialect(doc: Any, expected: Dialect) -> None:
    assert sniff_dialect(doc, Dialect.N25) is expected
    assert detect_dialect(doc, Dialect.N25) is expected


def test_v10_endpoints_decide_whatever_the_body() -> None:
    seed_body = {
        "name": "x",
        "executable": {"type": PURL + "EB/schema/types/executable/jupyter-notebook-1.0"},
    }
    assert detect_dialect(seed_body, Dialect.V1_0) is Dialect.V1_0
    assert detect_dialect(seed_body, Dialect.N25) is Dialect.SEED


def test_get_codec_accepts_values() -> None:
    assert get_codec("seed") is SEED
    assert get_codec(Dialect.J25) is J25


def test_instants_are_written_with_four_digit_years_and_trimmed_fractions() -> None:
    assert format_instant(datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0005-01-02T03:04:05Z"
    assert format_instant(datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)) == "2026-01-01T00:00:00.5Z"
    assert format_instant(datetime(2026, 1, 1, 1, tzinfo=UTC) - timedelta(hours=1)) == "2026-01-01T00:00:00Z"


def test_shorten_cuts_long_text_with_an_ellipsis() -> None:
    assert shorten("abc") == "abc"
    cut = shorten("x" * 500)
    assert len(cut) == 80 and cut.endswith("\u2026")
