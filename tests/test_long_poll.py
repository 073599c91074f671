"""UWS-style blocking reads: GET /sessions/{uuid}?WAIT=<s>[&PHASE=<phase>]."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app_fixtures import wait_for_phase

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
JSON = {"Accept": "application/json"}
SLOW = {
    "kind": "simulated",
    "simulated": {
        "executables": {"docker-container": {"prepare": "PT0S", "run": "PT1.5S", "release": "PT0S"}},
        "data": {},
    },
}


def direct(client: TestClient) -> str:
    body = {"executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}}}
    response = client.post("/direct", json=body, headers=JSON)
    assert response.status_code == 303
    return str(response.headers["location"])


def test_wait_returns_when_the_phase_changes(broker_factory) -> None:  # type: ignore[no-untyped-def]
    client = broker_factory(platform=SLOW)
    url = direct(client)
    wait_for_phase(client, url, {"RUNNING"})
    started = time.monotonic()
    doc = client.get(f"{url}?WAIT=20", headers=JSON).json()
    waited = time.monotonic() - started
    assert doc["phase"] != "RUNNING"
    assert 0.2 < waited < 10  # blocked while RUNNING, returned at the change, long before 20 s


def test_wait_with_phase_returns_at_once_when_not_in_it(broker_factory) -> None:  # type: ignore[no-untyped-def]
    client = broker_factory(platform=SLOW)
    url = direct(client)
    started = time.monotonic()
    doc = client.get(f"{url}?WAIT=10&PHASE=COMPLETED", headers=JSON).json()
    assert time.monotonic() - started < 2
    assert doc["phase"] != "COMPLETED"


def test_wait_times_out_on_a_final_phase(broker: TestClient) -> None:
    body = {"executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}}}
    offer = broker.post("/requests", json=body, headers=JSON).json()["offers"][0]["meta"]["url"]
    broker.post(
        offer, json={"kind": "uri:enum-value-update", "path": "phase", "value": "REJECTED"}, headers=JSON
    )
    started = time.monotonic()
    assert broker.get(f"{offer}?WAIT=5", headers=JSON).json()["phase"] == "REJECTED"
    assert time.monotonic() - started < 2  # nothing more will happen: no reason to block
    assert broker.get(f"{offer}?WAIT=abc", headers=JSON).status_code == 400
