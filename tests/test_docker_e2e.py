"""Real execution through the broker: a container accepted through the API runs with its data staged and
mounted, its outcome is reported faithfully, and nothing of it is left on the host afterwards.

Parametrised over the Docker Engine and Podman's Docker-compatible API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import pytest
from fastapi.testclient import TestClient

from app_fixtures import CLIENT, FAST_PLATFORM, wait_for_phase
from execbroker.api.app import create_app
from execbroker.config import load_settings

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
JSON = {"Accept": "application/json"}


@pytest.fixture(params=["docker", "podman"])
def engine_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("docker_host" if request.param == "docker" else "podman_host")
    return url


@pytest.fixture
def real_broker(tmp_path: Path, database_url: str, engine_url: str) -> Any:
    import yaml

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "hello.txt").write_text("hello from the data lake\n")
    config = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": database_url},
        "platform": {
            "kind": "docker",
            "docker": {
                "base_url": engine_url,
                "work_dir": str(tmp_path / "work"),
                "pull": False,
                "stop_grace_seconds": 1,
            },
        },
        "capacity": {
            "resolution": "PT1S",
            "min_accept_time": "PT1S",
            "pools": [{"name": "p", "cores": 4, "memory": 8, "storage": 20}],
        },
        "policy": {"data": {"simple": {"file_roots_allowed": [str(inputs)]}}},
        "staging": {"allowed_file_roots": [str(inputs)]},
        "engine": {"poll_interval": "PT0.2S", "stop_grace": "PT1S"},
        "logging": {"json_format": False},
    }
    assert FAST_PLATFORM  # the simulated timings are not used here
    path = tmp_path / "docker.yaml"
    path.write_text(yaml.safe_dump(config))
    with TestClient(create_app(load_settings(path)), **CLIENT) as client:
        yield client, inputs


def leftovers(engine_url: str, session: str) -> tuple[list[Any], list[Any]]:
    client = docker.DockerClient(base_url=engine_url)
    try:
        label = f"org.execbroker.session={session}"
        containers = client.containers.list(all=True, filters={"label": label})
        volumes = client.volumes.list(filters={"label": label})
        return containers, volumes
    finally:
        client.close()


def request(image: str, inputs: Path, command: list[str], duration: str = "PT2M") -> dict[str, Any]:
    return {
        "executable": {
            "kind": P + "executable/docker-container.yaml",
            "meta": {"name": "reader"},
            "image": {"locations": [image]},
            "command": command,
        },
        "compute": {
            "kind": P + "compute/simple-compute-resource.yaml",
            "cores": {"min": 1},
            "memory": {"min": 1},
            "volumes": [
                {
                    "kind": P + "volume/simple-volume-mount.yaml",
                    "path": "/input",
                    "mode": "READONLY",
                    "resource": "greeting",
                }
            ],
        },
        "data": [
            {
                "kind": P + "data/simple-data-resource.yaml",
                "meta": {"name": "greeting"},
                "location": f"file://{inputs / 'hello.txt'}",
            }
        ],
        "schedule": {"requested": {"duration": duration}},
    }


def test_container_reads_staged_data_and_leaves_nothing(
    real_broker: Any, engine_url: str, test_image: str
) -> None:
    client, inputs = real_broker
    body = client.post(
        "/requests", json=request(test_image, inputs, ["sh", "-c", "cat /input/*"]), headers=JSON
    ).json()
    assert body["result"] == "YES", body["meta"].get("messages")
    url = body["offers"][0]["meta"]["url"]
    assert (
        client.post(
            url, json={"kind": "uri:enum-value-update", "path": "phase", "value": "ACCEPTED"}, headers=JSON
        ).status_code
        == 200
    )
    done = wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=90)
    assert done["phase"] == "COMPLETED", done["meta"].get("messages")
    logs = client.get(f"{url}/logs")
    assert logs.status_code == 200 and "hello from the data lake" in logs.text
    containers, volumes = leftovers(engine_url, done["meta"]["uuid"])
    assert containers == [] and volumes == []


def test_failed_container_reports_exit_code(real_broker: Any, engine_url: str, test_image: str) -> None:
    client, inputs = real_broker
    response = client.post(
        "/direct", json=request(test_image, inputs, ["sh", "-c", "echo oops; exit 3"]), headers=JSON
    )
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    done = wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=90)
    assert done["phase"] == "FAILED"
    text = " ".join(m["message"] for m in done["meta"]["messages"])
    assert "3" in text and "oops" in text
    assert leftovers(engine_url, done["meta"]["uuid"]) == ([], [])


def test_cancel_stops_and_removes(real_broker: Any, engine_url: str, test_image: str) -> None:
    client, inputs = real_broker
    command = ["sh", "-c", "trap 'exit 143' TERM; sleep 300 & wait"]
    url = client.post("/direct", json=request(test_image, inputs, command), headers=JSON).headers["location"]
    wait_for_phase(client, url, {"RUNNING"}, timeout=90)
    cancelled = client.post(
        url, json={"kind": "uri:enum-value-update", "path": "phase", "value": "CANCELLED"}, headers=JSON
    )
    assert cancelled.json()["phase"] == "CANCELLED"
    uuid = cancelled.json()["meta"]["uuid"]
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and leftovers(engine_url, uuid) != ([], []):
        time.sleep(0.5)
    assert leftovers(engine_url, uuid) == ([], [])
    session = client.get(url, headers=JSON).json()
    assert session["executable"]["phase"] == "CANCELLED"


def test_a_declared_checksum_is_checked_through_the_broker(
    real_broker: Any, engine_url: str, test_image: str
) -> None:
    """The checksum a request declares reaches the stager: a wrong one fails the session before it
    runs (a probe found it dropped while reading the request, so bad data passed)."""
    client, inputs = real_broker
    doc = request(test_image, inputs, ["sh", "-c", "cat /input/*"])
    doc["data"][0]["checksum"] = {"type": "sha256", "value": "0" * 64}
    response = client.post("/direct", json=doc, headers=JSON)
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    kept = client.get(url, headers=JSON).json()["data"][0]
    assert kept["checksum"] == {"type": "sha256", "value": "0" * 64}
    done = wait_for_phase(client, url, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=90)
    assert done["phase"] == "FAILED"
    text = " ".join(m["message"] for m in done["meta"].get("messages", []))
    assert "checksum" in text.lower(), text
    containers, volumes = leftovers(engine_url, done["meta"]["uuid"])
    assert containers == [] and volumes == []
