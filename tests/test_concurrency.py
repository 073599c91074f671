"""No overbooking: many concurrent offer requests and accepts, from several server processes on one database.

On PostgreSQL the processes serialise on the pool row lock; on SQLite on the database's write lock
(BEGIN IMMEDIATE). Afterwards the live reservations are swept: at no instant may their sum exceed the pool.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from execbroker.store import tables
from processes import start_broker, write_config

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
POOL = {"name": "shared", "cores": 8, "memory": 16, "storage": 100}


def request_doc(start: datetime) -> dict[str, Any]:
    return {
        "executable": {
            "kind": P + "executable/docker-container.yaml",
            "meta": {"name": "x"},
            "image": {"locations": ["localhost/busybox:test"]},
        },
        "compute": {
            "kind": P + "compute/simple-compute-resource.yaml",
            "cores": {"min": 2, "max": 4},
            "memory": {"min": 1, "max": 3},
        },
        "schedule": {"requested": {"start": f"{start.isoformat()}/PT3H", "duration": "PT1H"}},
    }


def peak_usage(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    R = tables.reservations
    with engine.connect() as conn:
        rows = conn.execute(
            select(R.c.start_at, R.c.end_at, R.c.cores, R.c.memory, R.c.storage).where(R.c.live.is_(True))
        ).all()
    engine.dispose()
    events: list[tuple[float, int, int, int, int]] = []
    for start, end, cores, memory, storage in rows:
        events.append((start, 1, cores, memory, storage))
        events.append((end, -1, -cores, -memory, -storage))
    events.sort(key=lambda e: (e[0], e[1]))  # half-open: ends before starts at the same instant
    used = [0, 0, 0]
    peak = [0, 0, 0]
    for _, _, *delta in events:
        used = [u + d for u, d in zip(used, delta, strict=True)]
        peak = [max(p, u) for p, u in zip(peak, used, strict=True)]
    return {"cores": peak[0], "memory": peak[1], "storage": peak[2], "reservations": len(rows)}


@pytest.mark.slow
def test_several_processes_never_overbook(tmp_path: Path, database_url: str) -> None:
    config = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": database_url},
        "capacity": {"pools": [POOL], "resolution": "PT60S", "offer_lifetime": "PT10M"},
        "platform": {"kind": "simulated"},
        "logging": {"json_format": False},
    }
    path = write_config(tmp_path / "config.yaml", config)
    brokers = [start_broker(path, tmp_path / f"broker-{i}.log") for i in range(3)]
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    rng = random.Random(7)
    try:

        def one(i: int) -> tuple[str, list[str]]:
            url = brokers[i % len(brokers)].url
            with httpx.Client(timeout=30) as client:
                response = client.post(
                    f"{url}/requests",
                    json=request_doc(start),
                    headers={"Accept": "application/json", "Prefer": "return=representation"},
                )
                assert response.status_code == 200, response.text
                body = response.json()
                offers = [o["meta"]["url"] for o in body.get("offers", [])]
                if offers and rng.random() < 0.5:
                    client.post(
                        offers[-1],
                        json={"kind": "uri:enum-value-update", "path": "phase", "value": "ACCEPTED"},
                        headers={"Accept": "application/json"},
                    )
                return body["result"], offers

        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(one, range(60)))
    finally:
        for broker in brokers:
            broker.stop()
    answers = [r for r, _ in results]
    assert "YES" in answers and "NO" in answers  # the platform filled up, and said so
    peak = peak_usage(database_url)
    assert peak["reservations"] > 0
    assert peak["cores"] <= POOL["cores"], peak
    assert peak["memory"] <= POOL["memory"], peak
