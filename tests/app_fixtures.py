"""Fixtures that run the broker in process: settings, the ASGI app with its lifespan, a test client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from execbroker.config import Settings, load_settings

CLIENT: dict[str, Any] = {"base_url": "http://broker.test", "follow_redirects": False}

#: Simulated timings for tests: every step takes no time at all.
FAST_PLATFORM: dict[str, Any] = {
    "kind": "simulated",
    "simulated": {
        "executables": {
            "docker-container": {"prepare": "PT0S", "run": "PT0.3S", "release": "PT0S"},
            "jupyter-notebook": {"prepare": "PT0S", "run": "PT0.3S", "release": "PT0S"},
            "singularity-container": {"prepare": "PT0S", "run": "PT0.3S", "release": "PT0S"},
        },
        "data": {},
    },
}


def make_settings(tmp_path: Path, database_url: str, **sections: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": database_url},
        "platform": FAST_PLATFORM,
        "capacity": {
            "resolution": "PT1S",
            "min_accept_time": "PT1S",
            "pools": [{"name": "test", "cores": 256, "memory": 1024, "storage": 10000}],
        },
        "engine": {"poll_interval": "PT0.1S"},
        "logging": {"json_format": False},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(base))
    return load_settings(path)


@pytest.fixture
def settings_factory(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def factory(**sections: Any) -> Settings:
        return make_settings(tmp_path, database_url, **sections)

    return factory


@pytest.fixture
def broker(settings_factory: Callable[..., Settings]) -> Iterator[TestClient]:
    """A broker with fast simulated timings, its engine running."""
    from execbroker.api.app import create_app

    with TestClient(
        create_app(settings_factory()), base_url="http://broker.test", follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def broker_factory(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Brokers with custom configuration sections; closed at the end of the test."""
    opened: list[TestClient] = []

    from execbroker.api.app import create_app

    def factory(**sections: Any) -> TestClient:
        client = TestClient(
            create_app(settings_factory(**sections)), base_url="http://broker.test", follow_redirects=False
        )
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.__exit__(None, None, None)


def wait_for_phase(client: TestClient, url: str, phases: set[str], timeout: float = 20.0) -> dict[str, Any]:
    """Poll a session until its phase is one of ``phases``; fail with the last state otherwise."""
    deadline = time.monotonic() + timeout
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        doc = client.get(url, headers={"Accept": "application/json"}).json()
        if doc.get("phase") in phases:
            return doc
        time.sleep(0.05)
    raise AssertionError(f"{url} did not reach {phases}; last seen {doc.get('phase')}: {doc}")
