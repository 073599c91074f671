"""Restart safety with real processes: kill -9 in any phase loses and repeats nothing; replicas share work."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from processes import BrokerProcess, start_broker, write_config

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
# Direct execution prepares at once (a wait shorter than engine.waiting_threshold shows no WAITING).
ORDER = ["ACCEPTED", "PREPARING", "AVAILABLE", "RUNNING", "RELEASING", "COMPLETED"]


def config(tmp_path: Path, database_url: str, prepare: str, run: str, release: str) -> Path:
    timing = {"prepare": prepare, "run": run, "release": release}
    return write_config(
        tmp_path / "config.yaml",
        {
            "data_dir": str(tmp_path / "data"),
            "database": {"url": database_url},
            "capacity": {
                "resolution": "PT1S",
                "min_accept_time": "PT1S",
                "pools": [{"name": "p", "cores": 64, "memory": 128, "storage": 100}],
            },
            "platform": {
                "kind": "simulated",
                "simulated": {"executables": {"docker-container": timing}, "data": {}},
            },
            "engine": {"poll_interval": "PT0.2S", "late_after": "PT1S"},
            "logging": {"json_format": False},
        },
    )


def direct(url: str) -> str:
    body = {
        "executable": {
            "kind": P + "executable/docker-container.yaml",
            "meta": {"name": "x"},
            "image": {"locations": ["localhost/busybox:test"]},
        },
        "schedule": {"requested": {"duration": "PT1M"}},
    }
    response = httpx.post(f"{url}/direct", json=body, headers={"Accept": "application/json"})
    assert response.status_code == 303, response.text
    return str(response.json()["meta"]["uuid"])


def phases(url: str, uuids: list[str]) -> dict[str, str]:
    return {
        u: httpx.get(f"{url}/sessions/{u}", headers={"Accept": "application/json"}).json()["phase"]
        for u in uuids
    }


def events(url: str, uuid: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(
        f"{url}/sessions/{uuid}/events", headers={"Accept": "application/json"}
    ).json()["items"]
    return items


def wait_all(url: str, uuids: list[str], final: set[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        seen = phases(url, uuids)
        if all(p in final for p in seen.values()):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"not all final: {seen}")


@pytest.mark.slow
def test_kill_9_in_every_phase(tmp_path: Path, database_url: str) -> None:
    path = config(tmp_path, database_url, "PT2S", "PT3S", "PT1S")
    broker: BrokerProcess = start_broker(path, tmp_path / "broker.log")
    try:
        uuids = [direct(broker.url) for _ in range(4)]
        for round_, pause in enumerate(
            (0.7, 1.5, 1.5, 2.0)
        ):  # kills in WAITING/PREPARING, RUNNING, RELEASING
            time.sleep(pause)
            broker.kill()
            if round_ == 0:
                time.sleep(3)  # stay down while steps fall due: they must catch up, and say so
            broker = start_broker(path, tmp_path / "broker.log", port=int(broker.url.rsplit(":", 1)[1]))
        final = wait_all(broker.url, uuids, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=60)
        assert set(final.values()) == {"COMPLETED"}, final
        for uuid in uuids:
            transitions = [e["to"] for e in events(broker.url, uuid)]
            assert transitions == ORDER, (uuid, transitions)  # nothing lost, nothing repeated
        late = [
            m
            for uuid in uuids
            for m in httpx.get(f"{broker.url}/sessions/{uuid}", headers={"Accept": "application/json"})
            .json()["meta"]
            .get("messages", [])
            if m["kind"] == "urn:late-step"
        ]
        assert late, "steps that fell due while the broker was down say how late they ran"
    finally:
        broker.stop()


@pytest.mark.slow
def test_replicas_share_the_work_once(tmp_path: Path, database_url: str) -> None:
    path = config(tmp_path, database_url, "PT0S", "PT0.5S", "PT0S")
    brokers = [start_broker(path, tmp_path / f"b{i}.log") for i in range(2)]
    try:
        uuids = [direct(brokers[i % 2].url) for i in range(16)]
        final = wait_all(brokers[0].url, uuids, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=60)
        assert set(final.values()) == {"COMPLETED"}
        actors: set[str] = set()
        for uuid in uuids:
            items = events(brokers[1].url, uuid)
            assert [e["to"] for e in items] == ORDER
            actors.update(e["actor"] for e in items if e["to"] != "ACCEPTED")
        assert len(actors) >= 1
    finally:
        for broker in brokers:
            broker.stop()
