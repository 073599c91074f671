"""Lifecycle details: the booked slot ends while the executable still runs."""

from __future__ import annotations

from typing import Any

from app_fixtures import wait_for_phase

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
JSON = {"Accept": "application/json"}


def test_the_platform_stops_an_executable_when_its_slot_ends(broker_factory: Any) -> None:
    client = broker_factory(
        platform={
            "kind": "simulated",
            "simulated": {
                "executables": {"docker-container": {"prepare": "PT0S", "run": "PT1H", "release": "PT0S"}},
                "data": {},
            },
        },
        capacity={
            "resolution": "PT1S",
            "min_accept_time": "PT1S",
            "limits": {"max_duration": "PT3S"},
            "pools": [{"name": "p", "cores": 8, "memory": 8, "storage": 10}],
        },
        engine={"poll_interval": "PT0.1S", "stop_grace": "PT0.5S"},
    )
    body = {
        "executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}},
        "schedule": {"requested": {"duration": "PT2S"}},
    }
    url = client.post("/direct", json=body, headers=JSON).headers["location"]
    wait_for_phase(client, url, {"RUNNING"})
    done = wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=30)
    assert done["phase"] == "COMPLETED"  # the run was cut short by the slot, as booked: not a failure
    ended = [m for m in done["meta"]["messages"] if m["kind"] == "urn:slot-ended"]
    assert len(ended) == 1
    # The simulated platform's stopped run exits with 143 (TERM), as a container would.
    assert ended[0]["message"].endswith("the executable was stopped (it exited with code 143)")
    assert ended[0]["values"]["code"] == "143"
    events = [e["to"] for e in client.get(f"{url}/events", headers=JSON).json()["items"]]
    assert events[-3:] == ["RUNNING", "RELEASING", "COMPLETED"]


def test_the_engine_survives_a_database_outage(broker_factory: Any, monkeypatch: Any) -> None:
    """A failed database read between passes (an outage, a failover) must not end the engine: it
    used to stop for good, /readyz said so and no session moved again until a restart."""
    from sqlalchemy.exc import OperationalError

    from execbroker.engine import reconciler

    real = reconciler.next_due
    failures = {"left": 3}

    def flaky(conn: Any) -> Any:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OperationalError("SELECT next due", {}, Exception("the database is unreachable"))
        return real(conn)

    monkeypatch.setattr(reconciler, "next_due", flaky)
    client = broker_factory()
    body = {"executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}}}
    url = client.post("/direct", json=body, headers=JSON).headers["location"]
    done = wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=30)
    assert failures["left"] == 0  # the outage happened
    assert done["phase"] == "COMPLETED"
    assert client.get("/readyz", headers=JSON).status_code == 200
