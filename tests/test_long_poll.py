"""UWS-style blocking reads: GET /sessions/{uuid}?WAIT=<s>[&PHASE=<phase>]."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app_fixtures import wait_for_phase
from execbroker.services.notify import Notifier
from processes import start_broker, write_config

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


def test_notifier_wakes_only_the_named_sessions() -> None:
    async def scenario() -> None:
        notifier = Notifier()
        notifier.bind(asyncio.get_running_loop())
        waits = {f"s{i}": asyncio.ensure_future(notifier.wait_change(f"s{i}", 5)) for i in range(200)}
        await asyncio.sleep(0.05)
        assert sorted(notifier.watched()) == sorted(waits)
        notifier.session_changed(["s7"])
        await asyncio.sleep(0.05)
        assert [key for key, task in waits.items() if task.done()] == ["s7"]
        assert waits["s7"].result() is True
        notifier.session_changed([key for key in waits if key != "s7"])
        results = await asyncio.gather(*waits.values())
        assert all(results) and notifier.watched() == []
        assert await notifier.wait_change("lonely", 0.05) is False  # a timeout is not a change
        assert notifier.watched() == []

    asyncio.run(scenario())


def test_a_wait_sees_a_change_made_by_another_process(tmp_path: Path, database_url: str) -> None:
    """Two brokers on one database: a long-poll on one returns when the other cancels the session."""
    config: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": database_url},
        "platform": SLOW,
        "capacity": {"resolution": "PT1S", "min_accept_time": "PT1S"},
        "logging": {"json_format": False},
    }
    first = start_broker(write_config(tmp_path / "a.yaml", config), tmp_path / "a.log")
    second = start_broker(
        write_config(tmp_path / "b.yaml", {**config, "engine": {"enabled": False}}), tmp_path / "b.log"
    )
    try:
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        body = {
            "executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}},
            "schedule": {"requested": {"start": later, "duration": "PT1H"}},
        }
        offer = httpx.post(f"{first.url}/requests", json=body, headers=JSON).json()["offers"][0]
        uuid = offer["meta"]["uuid"]
        update = {"kind": "uri:enum-value-update", "path": "phase", "value": "ACCEPTED"}
        assert httpx.post(f"{first.url}/sessions/{uuid}", json=update, headers=JSON).status_code == 200
        url = f"{first.url}/sessions/{uuid}"
        deadline = time.monotonic() + 20
        while httpx.get(url, headers=JSON).json()["phase"] != "WAITING" and time.monotonic() < deadline:
            time.sleep(0.1)
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            waiting = pool.submit(httpx.get, f"{url}?WAIT=30", headers=JSON, timeout=40)
            time.sleep(1.0)
            cancel = {"kind": "uri:enum-value-update", "path": "phase", "value": "CANCELLED"}
            assert httpx.post(f"{second.url}/sessions/{uuid}", json=cancel, headers=JSON).status_code == 200
            answer = waiting.result()
        assert answer.json()["phase"] == "CANCELLED"
        assert time.monotonic() - started < 5  # the shared poll saw it, long before WAIT ran out
    finally:
        first.stop()
        second.stop()
