"""The black-box conformance checklist of docs/protocol.md section 5, through the HTTP API.

Each test names the checklist items it covers. They run against the in-process broker with the
simulated platform and the configured database (SQLite or PostgreSQL).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app_fixtures import wait_for_phase
from execbroker.model.times import format_instant, parse_duration, parse_instant, parse_interval

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
N25 = "https://www.purl.org/ivoa.net/EB/schema/v1.0/types/"
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def docker_request(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "executable": {
            "kind": P + "executable/docker-container.yaml",
            "meta": {"name": "my-exe"},
            "image": {"locations": ["localhost/busybox:test"]},
        },
        "compute": {
            "kind": P + "compute/simple-compute-resource.yaml",
            "meta": {"name": "my-compute"},
            "cores": {"min": 2, "max": 4},
            "memory": {"min": 1, "max": 2},
        },
    }
    doc.update(extra)
    return doc


def offer(client: TestClient, doc: Any, **kw: Any) -> dict[str, Any]:
    response = client.post("/requests", json=doc, headers={"Accept": "application/json"}, **kw)
    assert response.status_code == 303, response.text
    body: dict[str, Any] = response.json()
    return body


def update(client: TestClient, url: str, phase: str) -> Any:
    return client.post(
        url, json={"kind": "uri:enum-value-update", "path": "phase", "value": phase}, headers=JSON
    )


# -- serialisation and HTTP (1-13) ------------------------------------------------------------------


def test_yaml_json_and_default_media(broker: TestClient) -> None:
    """Items 1-7: YAML and JSON bodies, YAML by default, Accept negotiation."""
    doc = docker_request()
    as_yaml = broker.post(
        "/requests", content=yaml.safe_dump(doc), headers={"Content-Type": "application/yaml"}
    )
    assert as_yaml.status_code == 303
    assert as_yaml.headers["content-type"].startswith("application/yaml")  # 6: no Accept -> YAML
    assert yaml.safe_load(as_yaml.text)["result"] == "YES"
    events = list(yaml.parse(as_yaml.text))
    assert not any(isinstance(e, yaml.AliasEvent) for e in events), "shared blocks written in full"
    assert not any(getattr(e, "anchor", None) for e in events)
    as_json = broker.post("/requests", content=json.dumps(doc), headers=JSON)
    assert as_json.headers["content-type"].startswith("application/json")  # 4
    assert as_json.json()["result"] == "YES"
    no_type = broker.post("/requests", content=yaml.safe_dump(doc))  # 3: no Content-Type -> YAML
    assert yaml.safe_load(no_type.text)["result"] == "YES"
    both = broker.post(
        "/requests",
        content=json.dumps(doc),
        headers={"Content-Type": "application/json", "Accept": "application/json, application/yaml"},
    )
    assert both.headers["content-type"].startswith("application/yaml")  # 7
    explicit = broker.post(
        "/requests",
        content=json.dumps(doc),
        headers={"Content-Type": "application/json", "Accept": "application/yaml"},
    )
    assert explicit.headers["content-type"].startswith("application/yaml")  # 5


def test_unacceptable_and_unsupported_media(broker: TestClient) -> None:
    refused = broker.post("/requests", json=docker_request(), headers={"Accept": "image/png"})
    assert refused.status_code == 406
    unsupported = broker.post("/requests", content=b"<x/>", headers={"Content-Type": "application/xml"})
    assert unsupported.status_code == 415
    assert yaml.safe_load(unsupported.text)["error"]  # no Accept: the error body is YAML too


def test_303_location_and_get(broker: TestClient) -> None:
    """Items 8, 9: 303 with a Location ending in the bare uuid, GET answers 200 with the same set."""
    response = broker.post("/requests", json=docker_request(), headers={"Accept": "application/json"})
    assert response.status_code == 303
    location = response.headers["location"]
    offerset_uuid = response.json()["meta"]["uuid"]
    assert location.endswith(f"/offersets/{offerset_uuid}")
    again = broker.get(location, headers={"Accept": "application/json"})
    assert again.status_code == 200
    assert again.json()["meta"]["uuid"] == offerset_uuid


def test_prefer_return_representation(broker: TestClient) -> None:
    response = broker.post(
        "/requests",
        json=docker_request(),
        headers={"Accept": "application/json", "Prefer": "return=representation"},
    )
    assert response.status_code == 200
    assert response.json()["result"] == "YES"


def test_unknown_uuids_are_404(broker: TestClient) -> None:
    """Items 10-12."""
    unknown = uuid.uuid4()
    assert broker.get(f"/offersets/{unknown}").status_code == 404
    assert broker.get(f"/sessions/{unknown}").status_code == 404
    assert update(broker, f"/sessions/{unknown}", "ACCEPTED").status_code == 404
    assert broker.get(f"/compute/{unknown}").status_code == 404


def test_requests_are_not_idempotent(broker: TestClient) -> None:
    """Item 13."""
    first = offer(broker, docker_request())
    second = offer(broker, docker_request())
    assert first["meta"]["uuid"] != second["meta"]["uuid"]
    assert {o["meta"]["uuid"] for o in first["offers"]}.isdisjoint(
        {o["meta"]["uuid"] for o in second["offers"]}
    )


# -- offer set content (14-20) ----------------------------------------------------------------------


def test_yes_with_offers(broker: TestClient) -> None:
    """Items 14, 15."""
    body = offer(broker, docker_request())
    assert body["result"] == "YES"
    assert len(body["offers"]) >= 1


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        (
            {"executable": {"kind": P + "executable/unheard-of.yaml", "meta": {"name": "x"}}},
            "urn:unknown-kind",
        ),
        (
            docker_request(
                compute={"kind": P + "compute/simple-compute-resource.yaml", "cores": {"min": 10000}}
            ),
            None,
        ),
        ({"compute": {"kind": P + "compute/simple-compute-resource.yaml"}}, "urn:executable-required"),
        (docker_request(schedule={"requested": {"duration": "two hours"}}), "urn:input-syntax-fail"),
        (docker_request(schedule={"requested": {"start": "yesterday/PT1H"}}), "urn:input-syntax-fail"),
    ],
    ids=["unknown-kind", "too-many-cores", "no-executable", "bad-duration", "bad-interval"],
)
def test_no_answers_carry_reasons(broker: TestClient, doc: dict[str, Any], kind: str | None) -> None:
    """Items 16-20: NO, no offers, at least one message saying why (never a 5xx)."""
    body = offer(broker, doc)
    assert body["result"] == "NO"
    assert not body.get("offers")
    messages = body["meta"]["messages"]
    assert messages and all(m["message"] for m in messages)
    assert all(isinstance(v, str) for m in messages for v in m.get("values", {}).values())
    if kind:
        assert kind in {m["kind"] for m in messages}


# -- each offer (21-34) -----------------------------------------------------------------------------


def storage_and_data_request() -> dict[str, Any]:
    return docker_request(
        storage=[
            {
                "kind": P + "storage/simple-storage-resource.yaml",
                "meta": {"name": "store"},
                "size": {"min": 2, "max": 5},
            }
        ],
        data=[
            {
                "kind": P + "data/simple-data-resource.yaml",
                "meta": {"name": "d1"},
                "storage": "store",
                "location": "https://example.org/data/one.fits",
            },
            {
                "kind": P + "data/simple-data-resource.yaml",
                "meta": {"name": "d2"},
                "location": "https://example.org/data/two.fits",
            },
        ],
        schedule={"requested": {"duration": "PT30M"}},
    )


def test_every_offer_meets_the_request(broker: TestClient) -> None:
    """Items 21-34."""
    now = datetime.now().astimezone()
    body = offer(broker, storage_and_data_request())
    assert body["result"] == "YES"
    slots = set()
    for item in body["offers"]:
        meta = item["meta"]
        assert uuid.UUID(meta["uuid"]) and meta["url"].endswith(meta["uuid"])  # 21
        assert item["phase"] == "OFFERED"
        assert parse_instant(item["expires"]) > now  # 21
        got = broker.get(meta["url"], headers={"Accept": "application/json"}).json()  # 22
        assert got["meta"]["uuid"] == meta["uuid"] and got["phase"] == "OFFERED"
        compute = item["compute"]
        assert 2 <= compute["cores"]["min"] <= compute["cores"]["max"] <= 4  # 23, 26
        assert 1 <= compute["memory"]["min"] <= compute["memory"]["max"] <= 2  # 24, 26
        named = next(s for s in item["storage"] if s["meta"]["name"] == "store")
        assert 2 <= named["size"]["min"] <= 5  # 25
        schedule = item["schedule"]
        assert parse_duration(schedule["available"]["duration"]) >= timedelta(minutes=30)  # 27
        start = parse_interval(schedule["available"]["start"])
        assert start.width == timedelta(0)  # 29: one slot
        slots.add((start.start, schedule["available"]["duration"], compute["cores"]["max"]))
        assert item["executable"]["image"]["locations"] == ["localhost/busybox:test"]  # 30
        assert (
            item["executable"]["meta"]["name"] == "my-exe" and compute["meta"]["name"] == "my-compute"
        )  # 31
        uuids = [c["meta"]["uuid"] for c in [item["executable"], compute, *item["storage"], *item["data"]]]
        assert len(set(uuids)) == len(uuids)  # 31
        storage_by_uuid = {s["meta"]["uuid"]: s for s in item["storage"]}
        for data in item["data"]:  # 32
            assert data["meta"]["uuid"] in storage_by_uuid[data["storage"]]["data"]
        d1 = next(d for d in item["data"] if d["meta"]["name"] == "d1")
        assert d1["storage"] == named["meta"]["uuid"]
        prep_end = parse_instant(schedule["preparing"]["start"]) + parse_duration(
            schedule["preparing"]["duration"]
        )
        assert prep_end <= start.start  # 33
        end = start.start + parse_duration(schedule["available"]["duration"])
        assert end <= parse_instant(schedule["releasing"]["start"])
        options = item["meta"]["options"]  # 34
        assert any(
            o["kind"] == "uri:enum-value-option" and {"ACCEPTED", "REJECTED"} <= set(o["values"])
            for o in options
        )
    assert len(slots) == len(body["offers"])  # no two offers alike


def test_start_window_is_honoured(broker: TestClient) -> None:
    """Item 28."""
    begin = datetime.now().astimezone() + timedelta(hours=3)
    window = f"{begin.isoformat()}/PT2H"
    body = offer(broker, docker_request(schedule={"requested": {"start": window, "duration": "PT1H"}}))
    assert body["result"] == "YES"
    for item in body["offers"]:
        start = parse_interval(item["schedule"]["available"]["start"]).start
        assert begin - timedelta(seconds=1) <= start <= begin + timedelta(hours=2)


def test_every_component_url_resolves(broker: TestClient) -> None:
    """In every offer of the set (the later ones are written from the first one's document)."""
    answer = offer(broker, storage_and_data_request())
    offers = answer["offers"]
    assert len(offers) >= 2
    again = broker.get(answer["meta"]["url"], headers={"Accept": "application/json"}).json()
    for item in again["offers"]:
        assert item["meta"].pop("modified") == item["meta"]["created"]
    assert again == answer, "the offer set reads back as it was answered"
    seen: set[str] = set()
    for item in offers:
        stored = broker.get(item["meta"]["url"], headers={"Accept": "application/json"}).json()
        assert stored["meta"].pop("modified") == item["meta"]["created"]
        assert stored == item, "an offer reads back as it was answered"
        for component in [item["executable"], item["compute"], *item["storage"], *item["data"]]:
            got = broker.get(component["meta"]["url"], headers={"Accept": "application/json"})
            assert got.status_code == 200
            assert got.json()["meta"]["uuid"] == component["meta"]["uuid"]
            assert component["meta"]["uuid"] not in seen
            seen.add(component["meta"]["uuid"])
        assert item["data"][0]["storage"] == item["storage"][0]["meta"]["uuid"]
        assert item["storage"][0]["data"] == [item["data"][0]["meta"]["uuid"]]


# -- accept / reject / expire / cancel (35-44) ------------------------------------------------------


def test_accept_rejects_siblings_and_second_accept_conflicts(broker: TestClient) -> None:
    """Items 35, 36, 39, 40, 41."""
    body = offer(broker, docker_request())
    assert len(body["offers"]) >= 2
    first, second = body["offers"][0]["meta"]["url"], body["offers"][1]["meta"]["url"]
    accepted = update(broker, first, "ACCEPTED")
    assert accepted.status_code == 200
    assert accepted.json()["phase"] in {"ACCEPTED", "WAITING", "PREPARING", "AVAILABLE", "RUNNING"}
    assert [o["values"] for o in accepted.json()["meta"]["options"]] == [["CANCELLED"]]  # 41
    again = broker.get(body["meta"]["url"], headers={"Accept": "application/json"}).json()
    assert [o["phase"] for o in again["offers"][1:]] == ["REJECTED"] * (len(again["offers"]) - 1)  # 36
    conflict = update(broker, second, "ACCEPTED")  # 39, 40
    assert conflict.status_code == 409
    assert "REJECTED" in conflict.json()["message"]


def test_reject_leaves_siblings_offered(broker: TestClient) -> None:
    """Items 37, 43, 44: the wrapped v0.8 form and the /phase path."""
    body = offer(broker, docker_request())
    first = body["offers"][0]["meta"]["url"]
    rejected = broker.post(
        first,
        json={"update": {"type": "uri:enum-value-update", "path": "/phase", "value": "REJECTED"}},
        headers=JSON,
    )
    assert rejected.status_code == 200 and rejected.json()["phase"] == "REJECTED"
    again = broker.get(body["meta"]["url"], headers={"Accept": "application/json"}).json()
    assert all(o["phase"] == "OFFERED" for o in again["offers"][1:])


#: One offer per request on a 2-core pool, held for one second.
SHORT_LIVED_TINY_POOL = {
    "resolution": "PT1S",
    "min_accept_time": "PT1S",
    "offer_lifetime": "PT1S",
    "offers_per_request": 1,
    "pools": [{"name": "tiny", "cores": 2, "memory": 4, "storage": 10}],
}


def test_offers_expire_and_release(broker_factory: Any) -> None:
    """Items 38, 39, 48: EXPIRED at expiry, accept refused with 409, the slot is free again."""
    client = broker_factory(capacity=SHORT_LIVED_TINY_POOL)
    request = docker_request(
        compute={
            "kind": P + "compute/simple-compute-resource.yaml",
            "cores": {"min": 2, "max": 2},
            "memory": {"min": 1, "max": 1},
        }
    )
    first = offer(client, request)
    assert first["result"] == "YES"
    start_first = first["offers"][0]["schedule"]["available"]["start"]
    # While held, the same slot is not offered again (item 49).
    second = offer(client, request)
    assert second["result"] == "NO" or second["offers"][0]["schedule"]["available"]["start"] != start_first
    time.sleep(1.5)
    url = first["offers"][0]["meta"]["url"]
    expired = wait_for_phase(client, url, {"EXPIRED"})
    assert expired["phase"] == "EXPIRED"
    late = update(client, url, "ACCEPTED")
    assert late.status_code == 409
    third = offer(client, request)
    assert third["result"] == "YES"


def test_an_expired_offer_frees_its_slot_without_waiting_for_the_sweeper(broker_factory: Any) -> None:
    """With no engine to sweep, the next offer request itself expires what is due, in its own
    transaction: the whole pool, held by an offer past its expiry, is offered again at once, and the
    old offer reads EXPIRED (it used to block the slot, and read OFFERED, until the engine's pass)."""
    client = broker_factory(
        capacity=SHORT_LIVED_TINY_POOL,
        engine={"enabled": False},
    )
    whole = {"kind": P + "compute/simple-compute-resource.yaml", "cores": {"min": 2}, "memory": {"min": 4}}
    start = format_instant(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2))
    request = docker_request(compute=whole, schedule={"requested": {"start": start, "duration": "PT10M"}})
    slot = f"{start}/PT0S"  # an exact start
    first = offer(client, request)
    assert first["result"] == "YES" and first["offers"][0]["schedule"]["available"]["start"] == slot
    assert offer(client, request)["result"] == "NO"  # held
    time.sleep(1.2)
    shown = client.get(first["offers"][0]["meta"]["url"], headers=JSON).json()
    assert shown["phase"] == "EXPIRED" and "options" not in shown["meta"]  # past expiry, before any sweep
    again = offer(client, request)
    assert again["result"] == "YES" and again["offers"][0]["schedule"]["available"]["start"] == slot


def test_an_offer_expires_when_its_preparation_is_due(broker_factory: Any) -> None:
    """An offer cannot be accepted once its slot would start late: it expires at its preparation start
    (or at the end of its lifetime, if that is sooner), and the earliest offer leaves min_accept_time
    to accept it. Accepted, the session carries no expiry."""
    client = broker_factory(
        capacity={"resolution": "PT1S", "min_accept_time": "PT2S", "offer_lifetime": "PT1H"},
        platform={
            "kind": "simulated",
            "simulated": {"executables": {"docker-container": {"prepare": "PT3S", "run": "PT0.3S"}}},
        },
    )
    before = datetime.now().astimezone()
    body = offer(client, docker_request(schedule={"requested": {"duration": "PT1M"}}))
    after = datetime.now().astimezone()
    assert body["result"] == "YES"
    for item in body["offers"]:
        preparing = parse_instant(item["schedule"]["preparing"]["start"])
        expires = parse_instant(item["expires"])
        assert expires == min(preparing, parse_instant(item["meta"]["created"]) + timedelta(hours=1))
        assert preparing >= before + timedelta(seconds=2)  # min_accept_time, then the preparation
        assert parse_duration(item["schedule"]["preparing"]["duration"]) == timedelta(seconds=3)
    first = body["offers"][0]
    assert parse_instant(first["expires"]) <= after + timedelta(seconds=3)  # the lead, plus the grid
    sibling = max(body["offers"], key=lambda o: parse_instant(o["expires"]))
    assert parse_instant(sibling["expires"]) > parse_instant(first["expires"])  # a later slot, held longer
    accepted = update(client, sibling["meta"]["url"], "ACCEPTED")
    assert accepted.status_code == 200 and "expires" not in accepted.json()
    # The first offer was rejected by that accept; a fresh one, left until its preparation is due, expires.
    late = offer(client, docker_request(schedule={"requested": {"duration": "PT1M"}}))["offers"][0]
    time.sleep(max(0.0, (parse_instant(late["expires"]) - datetime.now().astimezone()).total_seconds()) + 0.2)
    refused = update(client, late["meta"]["url"], "ACCEPTED")
    assert refused.status_code == 409, refused.text


def test_direct_execution_needs_no_time_to_accept(broker_factory: Any) -> None:
    client = broker_factory(capacity={"resolution": "PT1S", "min_accept_time": "PT1H"})
    response = client.post("/direct", json=docker_request(), headers={"Accept": "application/json"})
    assert response.status_code == 303, response.text
    preparing = parse_instant(response.json()["schedule"]["preparing"]["start"])
    assert preparing <= datetime.now().astimezone() + timedelta(seconds=2)


def test_the_engines_grace_after_a_slot_is_booked_with_the_release(broker_factory: Any) -> None:
    """The engine stops an executable stop_grace after its slot ends, then releases: the booking, and
    so the offered releasing step, covers both (a probe saw a run outlast its booking by the grace)."""
    client = broker_factory(
        engine={"poll_interval": "PT0.1S", "stop_grace": "PT7S"},
        platform={
            "kind": "simulated",
            "simulated": {"executables": {"docker-container": {"release": "PT2S", "run": "PT0.3S"}}},
        },
    )
    item = offer(client, docker_request())["offers"][0]
    assert parse_duration(item["schedule"]["releasing"]["duration"]) == timedelta(seconds=9)


def test_illegal_updates(broker: TestClient) -> None:
    url = offer(broker, docker_request())["offers"][0]["meta"]["url"]
    assert update(broker, url, "COMPLETED").status_code == 409
    assert update(broker, url, "SLEEPING").status_code == 422
    wrong_kind = broker.post(
        url, json={"kind": "uri:string-value-update", "path": "phase", "value": "x"}, headers=JSON
    )
    assert wrong_kind.status_code == 422
    wrong_path = broker.post(
        url, json={"kind": "uri:enum-value-update", "path": "cores", "value": "x"}, headers=JSON
    )
    assert wrong_path.status_code == 422


# -- lifecycle (42, 45-47) --------------------------------------------------------------------------


def test_session_runs_to_completion_in_order(broker: TestClient) -> None:
    """Items 45, 46: forward only, AVAILABLE no later than the start."""
    body = offer(broker, docker_request(schedule={"requested": {"duration": "PT1M"}}))
    url = body["offers"][0]["meta"]["url"]
    assert update(broker, url, "ACCEPTED").status_code == 200
    done = wait_for_phase(broker, url, {"COMPLETED", "FAILED"})
    assert done["phase"] == "COMPLETED"
    assert all(c["phase"] == "COMPLETED" for c in [done["executable"], done["compute"]])
    events = broker.get(f"{url}/events", headers={"Accept": "application/json"})
    if events.status_code == 200:
        phases = [e["to"] for e in events.json()["items"]]
        order = ["ACCEPTED", "PREPARING", "AVAILABLE", "RUNNING", "RELEASING", "COMPLETED"]
        assert phases == order


def test_a_session_booked_for_later_waits(broker: TestClient) -> None:
    """A slot an hour away: WAITING until its preparation starts, cancellable meanwhile."""
    begin = datetime.now().astimezone() + timedelta(hours=1)
    body = offer(
        broker, docker_request(schedule={"requested": {"start": begin.isoformat(), "duration": "PT1H"}})
    )
    url = body["offers"][0]["meta"]["url"]
    assert update(broker, url, "ACCEPTED").status_code == 200
    waiting = wait_for_phase(broker, url, {"WAITING"})
    assert [o["values"] for o in waiting["meta"]["options"]] == [["CANCELLED"]]
    cancelled = update(broker, url, "CANCELLED").json()
    assert cancelled["phase"] == "CANCELLED"
    # Nothing was prepared, so no engine step ends the components: they end with the session.
    assert {cancelled[key]["phase"] for key in ("executable", "compute")} == {"CANCELLED"}


def test_a_releasing_session_cannot_be_cancelled(broker_factory: Any) -> None:
    """The draft allows CANCELLED from INITIAL to RUNNING: a releasing session ends as it ran."""
    client = broker_factory(
        platform={
            "kind": "simulated",
            "simulated": {"executables": {"docker-container": {"run": "PT0.2S", "release": "PT3S"}}},
        }
    )
    url = offer(client, docker_request())["offers"][0]["meta"]["url"]
    assert update(client, url, "ACCEPTED").status_code == 200
    releasing = wait_for_phase(client, url, {"RELEASING"})
    assert releasing["meta"].get("options", []) == []
    refused = update(client, url, "CANCELLED")
    assert refused.status_code == 409, refused.text
    assert wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"})["phase"] == "COMPLETED"


def test_cancel_ends_in_cancelled(broker: TestClient) -> None:
    """Item 42."""
    url = offer(broker, docker_request())["offers"][0]["meta"]["url"]
    assert update(broker, url, "ACCEPTED").status_code == 200
    cancelled = update(broker, url, "CANCELLED")
    assert cancelled.status_code == 200 and cancelled.json()["phase"] == "CANCELLED"
    time.sleep(0.3)
    assert broker.get(url, headers={"Accept": "application/json"}).json()["phase"] == "CANCELLED"


def test_failed_release_fails_the_session(broker_factory: Any) -> None:
    """Item 47: a tear-down failure makes the session FAILED even though the run succeeded."""
    client = broker_factory()
    request = docker_request()
    request["executable"]["environment"] = {"EXECBROKER_SIMULATE_FAIL": "release"}
    url = offer(client, request)["offers"][0]["meta"]["url"]
    update(client, url, "ACCEPTED")
    done = wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"})
    assert done["phase"] == "FAILED"
    assert any("release" in m["message"].lower() for m in done["meta"]["messages"])


# -- storage and direct execution (50-52) -----------------------------------------------------------


def test_unreachable_external_storage_is_no(broker: TestClient) -> None:
    """Item 50: a file:// location the platform may not read."""
    request = docker_request(
        data=[
            {
                "kind": P + "data/simple-data-resource.yaml",
                "meta": {"name": "secret"},
                "location": "file:///etc/shadow",
            }
        ]
    )
    body = offer(broker, request)
    assert body["result"] == "NO"


def test_direct_execution(broker: TestClient) -> None:
    """Items 51, 52."""
    response = broker.post("/direct", json=docker_request(), headers={"Accept": "application/json"})
    assert response.status_code == 303
    session = response.json()
    assert session["phase"] in {"ACCEPTED", "WAITING", "PREPARING"}
    assert [o["values"] for o in session["meta"]["options"]] == [["CANCELLED"]]
    assert "expires" not in session
    assert response.headers["location"].endswith(f"/sessions/{session['meta']['uuid']}")
    assert (
        wait_for_phase(broker, response.headers["location"], {"COMPLETED", "FAILED"})["phase"] == "COMPLETED"
    )
    bad = broker.post(
        "/direct",
        json={"compute": {"kind": P + "compute/simple-compute-resource.yaml"}},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["phase"] == "FAILED" and bad.json()["meta"]["messages"]


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b"executable: [unclosed",
        b"\xff\xfe not utf-8",
        b"a: &a [1]\nb: *a\n" * 1,
        b"{}" * 0 + b"x: 1",
    ],
    ids=["list", "bad-yaml", "not-utf8", "alias", "scalar-doc"],
)
def test_malformed_bodies_never_500(broker: TestClient, body: bytes) -> None:
    response = broker.post(
        "/requests", content=body, headers={"Content-Type": "application/yaml", "Accept": "application/json"}
    )
    assert response.status_code in (303, 400)
    if response.status_code == 400:
        assert response.json()["problems"]


def test_structural_errors_list_paths(broker: TestClient) -> None:
    doc = docker_request()
    doc["compute"]["cores"] = {"min": "many"}
    doc["storage"] = "not-a-list"
    response = broker.post("/requests", json=doc, headers={"Accept": "application/json"})
    assert response.status_code == 400
    paths = {p["path"] for p in response.json()["problems"]}
    assert "/compute/cores/min" in paths and "/storage" in paths


def test_body_too_large(broker_factory: Any) -> None:
    client = broker_factory(server={"max_body_bytes": 2048})
    response = client.post(
        "/requests", content=b"x: " + b"a" * 5000, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 413


def test_listings_and_pagination(broker: TestClient) -> None:
    for _ in range(3):
        offer(broker, docker_request())
    page = broker.get("/sessions?limit=5&phase=OFFERED", headers={"Accept": "application/json"}).json()
    assert page["total"] >= 12 and len(page["items"]) == 5 and "next" in page
    nxt = broker.get(page["next"], headers={"Accept": "application/json"}).json()
    assert {i["uuid"] for i in nxt["items"]}.isdisjoint({i["uuid"] for i in page["items"]})
    sets = broker.get("/offersets?result=YES", headers={"Accept": "application/json"}).json()
    assert sets["total"] == 3


def test_urls_follow_the_host_the_client_used(broker: TestClient) -> None:
    """The base URL is cached per Host header: each client still sees its own host in every URL."""
    for host in ("broker.test", "other.example:8443", "broker.test"):
        answer = broker.post(
            "/requests",
            json=docker_request(),
            headers={**JSON, "Host": host, "Prefer": "return=representation"},
        ).json()
        assert answer["meta"]["url"].startswith(f"http://{host}/offersets/")
        assert all(o["meta"]["url"].startswith(f"http://{host}/sessions/") for o in answer["offers"])


def test_an_update_that_names_another_session_is_refused(broker: TestClient) -> None:
    """WD-era rule: an update body MAY repeat the offer's id; if it does it MUST match the URL."""
    offers = offer(broker, docker_request())["offers"]
    first, second = offers[0]["meta"], offers[1]["meta"]
    change = {"kind": "uri:enum-value-update", "path": "phase", "value": "REJECTED"}
    for body in (
        {**change, "uuid": second["uuid"]},
        {**change, "meta": {"uuid": second["uuid"]}},
        {"update": {**change, "uuid": second["uuid"]}},
    ):
        wrong = broker.post(first["url"], json=body, headers=JSON)
        assert wrong.status_code == 400, body
        assert second["uuid"] in wrong.json()["message"] and first["uuid"] in wrong.json()["message"]
    assert broker.get(first["url"], headers=JSON).json()["phase"] == "OFFERED"  # nothing changed
    right = broker.post(first["url"], json={**change, "uuid": first["uuid"].upper()}, headers=JSON)
    assert right.status_code == 200 and right.json()["phase"] == "REJECTED"


def test_uuids_in_urls_are_case_insensitive(broker: TestClient) -> None:
    answer = offer(broker, docker_request())
    first = answer["offers"][0]["meta"]
    upper = first["uuid"].upper()
    assert broker.get(f"/sessions/{upper}", headers=JSON).json()["meta"]["uuid"] == first["uuid"]
    assert broker.get(f"/offersets/{answer['meta']['uuid'].upper()}", headers=JSON).status_code == 200
    assert broker.get(f"/sessions/{upper}/events", headers=JSON).json()["session"] == first["uuid"]
    waited = broker.get(f"/sessions/{upper}?WAIT=0", headers=JSON)
    assert waited.status_code == 200
    rejected = broker.post(
        f"/sessions/{upper}",
        json={"kind": "uri:enum-value-update", "path": "phase", "value": "REJECTED"},
        headers=JSON,
    )
    assert rejected.status_code == 200 and rejected.json()["phase"] == "REJECTED"
