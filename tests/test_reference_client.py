"""Speak exactly as the reference implementation's generated client does (docs/reference-client.md 3-5).

JSON only; N25 kinds in the requests; the 303 followed with a GET and no body; updates
``{"kind": "uri:enum-value-update", "path": "/phase", "value": ...}``; the broker configured with
examples/reference-policy.yaml (the reference's demonstration platform policy, as configuration).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app_fixtures import wait_for_phase
from execbroker.api.app import create_app
from execbroker.config import load_settings

N25 = "https://www.purl.org/ivoa.net/EB/schema/v1.0/types/"
V10 = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "identity",
    "User-Agent": "OpenAPI-Generator/1.0.0/python",
    "Content-Type": "application/json",
}
REPO = Path(__file__).resolve().parent.parent
INSTANT_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
LIFECYCLE = {
    "INITIALIZING",
    "WAITING",
    "PREPARING",
    "AVAILABLE",
    "RUNNING",
    "RELEASING",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
}


@pytest.fixture
def reference_broker(tmp_path: Path, database_url: str) -> Any:
    config = yaml.safe_load((REPO / "examples" / "reference-policy.yaml").read_text())
    config["data_dir"] = str(tmp_path / "data")
    config["database"] = {"url": database_url}
    # Timings like the reference's own mock (a few seconds of preparation), not zero: its client
    # checks the phase it reads right after a direct execution.
    config["platform"] = {
        "kind": "simulated",
        "simulated": {
            "executables": {"docker-container": {"prepare": "PT2S", "run": "PT0.3S", "release": "PT0S"}},
            "data": {},
        },
    }
    config.setdefault("capacity", {})["resolution"] = "PT1S"
    config["capacity"].setdefault("min_accept_time", "PT1S")
    config["engine"] = {"poll_interval": "PT0.1S"}
    path = tmp_path / "reference.yaml"
    path.write_text(yaml.safe_dump(config))
    with TestClient(create_app(load_settings(path)), base_url="http://127.0.0.1:8082") as client:
        yield client


def docker(**fields: Any) -> dict[str, Any]:
    exe = {
        "kind": N25 + "executable/docker-container-1.0",
        "meta": {"name": "exe"},
        "image": {"locations": ["ghcr.io/ivoa/cantliei:latest"]},
        "privileged": False,
    }
    exe.update(fields)
    return exe


def submit(client: TestClient, body: dict[str, Any], path: str = "/requests") -> dict[str, Any]:
    """submit_execution: POST, follow the 303 with a GET (urllib3 does this), expect 200."""
    response = client.post(path, json=body, headers=HEADERS, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert response.request.method == "GET"
    doc: dict[str, Any] = response.json()
    return doc


def check_session_contract(session: dict[str, Any], prefix: str) -> None:
    assert session["kind"] == prefix + (
        "session/scheduled-execution-session.yaml"
        if prefix == V10
        else "session/scheduled-execution-session-1.0"
    )
    uuid.UUID(session["meta"]["uuid"])
    for component in [
        session.get("executable"),
        session.get("compute"),
        *session.get("storage", []),
        *session.get("data", []),
    ]:
        if component is None:
            continue
        assert component["kind"].startswith(prefix)
        assert component["phase"] in LIFECYCLE
        schedule = component.get("schedule", {})
        for step in ("preparing", "releasing"):
            if step in schedule and "start" in schedule[step]:
                assert INSTANT_WITH_ZONE.match(schedule[step]["start"]), schedule[step]
        if "available" in schedule and "start" in schedule["available"]:
            assert "/" in schedule["available"]["start"]
    for message in session["meta"].get("messages", []):
        assert message["level"] in {"DEBUG", "WARN", "ERROR", "INFO", "OTHER"}
        assert all(isinstance(v, str) for v in message.get("values", {}).values())
    compute = session.get("compute")
    if compute:
        assert isinstance(compute["cores"]["min"], int) and isinstance(compute["memory"]["max"], int)
    for data in session.get("data", []):
        assert isinstance(data["storage"], str) and data["storage"] == data["storage"].lower()


def test_v10_client_sends_n25_gets_v10(reference_broker: TestClient) -> None:
    doc = submit(reference_broker, {"executable": docker()})
    assert doc["result"] == "YES" and doc["offers"]
    for session in doc["offers"]:
        check_session_contract(session, V10)
        assert session["compute"]["meta"]["uuid"]  # a default compute is present


def test_105_client_on_offersets_gets_n25(reference_broker: TestClient) -> None:
    doc = submit(reference_broker, {"executable": docker()}, path="/offersets")
    assert doc["result"] == "YES"
    check_session_contract(doc["offers"][0], N25)


def test_redirect_not_followed_uses_last_segment(reference_broker: TestClient) -> None:
    response = reference_broker.post(
        "/requests", json={"executable": docker()}, headers=HEADERS, follow_redirects=False
    )
    assert response.status_code == 303
    tail = response.headers["location"].rsplit("/", 1)[-1]
    assert reference_broker.get(f"/offersets/{tail}", headers=HEADERS).status_code == 200


@pytest.mark.parametrize(
    ("body", "result"),
    [
        (
            {
                "executable": docker(
                    network={
                        "ports": [
                            {"access": True, "internal": {"port": 8080}, "protocol": "HTTP", "path": "/myapp"}
                        ]
                    }
                )
            },
            "YES",
        ),
        (
            {
                "executable": docker(
                    network={
                        "ports": [
                            {
                                "access": True,
                                "internal": {"port": 8080},
                                "protocol": "HTTP",
                                "path": "/badpath",
                            }
                        ]
                    }
                )
            },
            "NO",
        ),
        ({"executable": docker(network={"ports": [{"access": True, "internal": {"port": 1234}}]})}, "NO"),
        ({"executable": docker(network={"ports": [{"access": True, "internal": {"port": -1}}]})}, "NO"),
        (
            {
                "executable": docker(
                    network={"ports": [{"access": True, "internal": {"port": 80}, "protocol": "FTP"}]}
                )
            },
            "NO",
        ),
        ({"executable": docker(privileged=True)}, "NO"),
        (
            {
                "executable": {
                    "kind": N25 + "executable/jupyter-notebook-1.0",
                    "meta": {"name": "nb"},
                    "location": "http://example.com/valid-notebook.ipynb",
                }
            },
            "YES",
        ),
        (
            {
                "executable": {
                    "kind": N25 + "executable/jupyter-notebook-1.0",
                    "meta": {"name": "nb"},
                    "location": "http://example.com/blacklisted.ipynb",
                }
            },
            "NO",
        ),
        ({"executable": {"kind": N25 + "executable/jupyter-notebook-1.0", "meta": {"name": "nb"}}}, "NO"),
        (
            {
                "executable": docker(),
                "compute": {
                    "kind": N25 + "compute/simple-compute-resource-1.0",
                    "cores": {"min": 4, "max": 8},
                    "memory": {"min": 2, "max": 4},
                },
            },
            "YES",
        ),
        (
            {
                "executable": docker(),
                "compute": {"kind": N25 + "compute/simple-compute-resource-1.0", "cores": {"min": 20}},
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "compute": {
                    "kind": N25 + "compute/simple-compute-resource-1.0",
                    "cores": {"min": 4, "max": 32},
                },
            },
            "YES",
        ),
        (
            {
                "executable": docker(),
                "compute": {"kind": N25 + "compute/simple-compute-resource-1.0", "memory": {"min": 20}},
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "storage": [
                    {
                        "kind": N25 + "storage/simple-storage-resource-1.0",
                        "meta": {"name": "s"},
                        "size": {"min": 100, "max": 5000},
                    }
                ],
                "data": [
                    {
                        "kind": N25 + "data/simple-data-resource-1.0",
                        "meta": {"name": "d"},
                        "storage": "s",
                        "location": "https://example.org/data/good-file.fits",
                    }
                ],
            },
            "YES",
        ),
        (
            {
                "executable": docker(),
                "storage": [
                    {
                        "kind": N25 + "storage/simple-storage-resource-1.0",
                        "meta": {"name": "s"},
                        "size": {"min": 2000},
                    }
                ],
                "data": [
                    {
                        "kind": N25 + "data/simple-data-resource-1.0",
                        "meta": {"name": "d"},
                        "storage": "s",
                        "location": "https://example.org/data/good-file.fits",
                    }
                ],
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/simple-data-resource-1.0",
                        "meta": {"name": "d"},
                        "location": "http://example.com/excluded.vot",
                    }
                ],
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/S3-data-resource-1.0",
                        "meta": {"name": "d"},
                        "endpoint": "https://s3.valid.example.com",
                        "template": "t",
                        "bucket": "b",
                        "object": "o",
                    }
                ],
            },
            "YES",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/S3-data-resource-1.0",
                        "meta": {"name": "d"},
                        "endpoint": "https://s3.forbidden.example.com",
                        "template": "t",
                        "bucket": "b",
                    }
                ],
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/ivoa-data-resource-1.0",
                        "meta": {"name": "d"},
                        "ivoa": {"ivoid": "ivo://example.com/valid-resource"},
                    }
                ],
            },
            "YES",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/ivoa-data-resource-1.0",
                        "meta": {"name": "d"},
                        "ivoa": {"ivoid": "ivo://example.com/excluded"},
                    }
                ],
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/skao-data-resource-1.0",
                        "meta": {"name": "d"},
                        "ivoa": {"ivoid": "ivo://x/y"},
                        "skao": {
                            "namespace": "excluded-namespace-one",
                            "objectname": "o",
                            "objecttype": "FILE",
                            "datasize": 1024,
                            "replicas": [{"rsename": "R", "dataurl": "https://r/x"}],
                        },
                    }
                ],
            },
            "NO",
        ),
        (
            {
                "executable": docker(),
                "data": [
                    {
                        "kind": N25 + "data/simple-data-resource-1.0",
                        "meta": {"name": "d"},
                        "storage": "missing",
                        "location": "https://example.org/data/x",
                    }
                ],
            },
            "NO",
        ),
    ],
)
def test_validator_table(reference_broker: TestClient, body: dict[str, Any], result: str) -> None:
    doc = submit(reference_broker, body)
    assert doc["result"] == result, doc.get("meta", {}).get("messages")
    if result == "YES":
        compute = doc["offers"][0]["compute"]
        assert compute["cores"]["max"] <= 16 and compute["memory"]["max"] <= 16


def test_resource_registration(reference_broker: TestClient) -> None:
    body = {
        "executable": docker(),
        "storage": [{"kind": N25 + "storage/simple-storage-resource-1.0", "meta": {"name": "named-store"}}],
        "data": [
            {
                "kind": N25 + "data/simple-data-resource-1.0",
                "meta": {"name": "named-data"},
                "storage": "named-store",
                "location": "https://example.org/data/a.fits",
            },
            {
                "kind": N25 + "data/simple-data-resource-1.0",
                "meta": {"name": "loose"},
                "location": "https://example.org/data/b.fits",
            },
        ],
    }
    offer = submit(reference_broker, body)["offers"][0]
    assert offer["storage"][0]["meta"]["name"] == "named-store"
    assert offer["data"][0]["meta"]["name"] == "named-data"
    assert offer["data"][0]["storage"] == str(uuid.UUID(offer["storage"][0]["meta"]["uuid"]))
    assert len(offer["storage"]) == 2 and offer["data"][1]["storage"] == offer["storage"][1]["meta"]["uuid"]


def test_direct_then_cancel_and_complete(reference_broker: TestClient) -> None:
    session = reference_broker.post(
        "/direct", json={"executable": docker()}, headers=HEADERS, follow_redirects=True
    ).json()
    assert session["phase"] in {"ACCEPTED", "PREPARING", "WAITING"}  # never OFFERED
    check_session_contract(session, V10)
    cancelled = reference_broker.post(
        f"/sessions/{session['meta']['uuid']}",
        json={"kind": "uri:enum-value-update", "path": "/phase", "value": "CANCELLED"},
        headers=HEADERS,
    )
    assert cancelled.status_code == 200 and cancelled.json()["phase"] == "CANCELLED"
    second = reference_broker.post(
        "/sessions", json={"executable": docker()}, headers=HEADERS, follow_redirects=True
    ).json()
    url = f"/sessions/{second['meta']['uuid']}"
    assert wait_for_phase(reference_broker, url, {"COMPLETED", "FAILED"})["phase"] == "COMPLETED"
