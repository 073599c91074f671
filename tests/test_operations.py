"""Operations endpoints: service root, health, readiness, VOSI, metrics, request ids, the platform report."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from execbroker.model.times import format_instant, parse_instant

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
JSON = {"Accept": "application/json"}


def test_root_health_and_readiness(broker: TestClient) -> None:
    root = broker.get("/", headers=JSON).json()
    assert root["service"] == "execbroker" and root["links"]["requests"].endswith("/requests")
    assert broker.get("/healthz").status_code == 200
    ready = broker.get("/readyz", headers=JSON)
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert ready.json()["notes"] == ["database reachable, schema current, engine running"]


def test_readiness_says_when_the_engine_is_off(broker_factory: Any) -> None:
    client = broker_factory(engine={"enabled": False})
    ready = client.get("/readyz", headers=JSON).json()
    assert ready["ready"] is True
    assert ready["notes"] == ["database reachable, schema current, engine disabled in this process"]


def test_vosi_availability_and_capabilities(broker: TestClient) -> None:
    availability = ET.fromstring(broker.get("/availability").content)
    assert availability.tag.endswith("availability")
    available = next(e for e in availability if e.tag.endswith("available"))
    assert available.text == "true"
    caps = ET.fromstring(broker.get("/capabilities").content)
    standards = {c.get("standardID") for c in caps.iter("capability")}
    assert "ivo://ivoa.net/std/VOSI#availability" in standards
    assert broker.head("/capabilities").status_code == 200
    assert broker.head("/availability").status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/healthz", "/metrics", "/availability", "/capabilities", "/offersets"]
)
def test_head_is_get_without_the_body(broker: TestClient, path: str) -> None:
    got = broker.get(path, headers={"Accept": "application/json"})
    head = broker.head(path, headers={"Accept": "application/json"})
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if path not in ("/metrics", "/availability"):  # these change from one call to the next
        assert head.headers["content-length"] == got.headers["content-length"]


def test_head_of_a_session_and_of_a_post_only_path(broker: TestClient) -> None:
    kind = (
        "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/executable/docker-container.yaml"
    )
    body = {"executable": {"kind": kind, "image": {"locations": ["x"]}}}
    answer = broker.post(
        "/requests", json=body, headers={"Accept": "application/json"}, follow_redirects=True
    )
    url = answer.json()["offers"][0]["meta"]["url"]
    head = broker.head(url)
    assert head.status_code == 200 and head.content == b""
    assert broker.head("/sessions/00000000-0000-0000-0000-000000000000").status_code == 404
    assert broker.head("/requests").status_code == 405


def test_logs_of_a_session_without_output_is_404_saying_why(broker: TestClient) -> None:
    body = {"executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}}}
    answer = broker.post("/requests", json=body, headers=JSON, follow_redirects=True)
    url = answer.json()["offers"][0]["meta"]["url"]
    offered = broker.get(f"{url}/logs", headers=JSON)
    assert offered.status_code == 404
    assert "No output yet: the session is OFFERED" in offered.json()["message"]
    broker.post(url, json={"kind": "uri:enum-value-update", "path": "phase", "value": "REJECTED"})
    rejected = broker.get(f"{url}/logs", headers=JSON)
    assert rejected.status_code == 404
    assert "simulated platform runs nothing" in rejected.json()["message"]
    assert broker.get("/sessions/00000000-0000-0000-0000-000000000000/logs").status_code == 404


def test_openapi_has_unique_operation_ids(broker: TestClient) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = broker.get("/openapi.json").json()
    ids = [
        op["operationId"] for item in spec["paths"].values() for op in item.values() if "operationId" in op
    ]
    assert len(ids) == len(set(ids))


def test_request_id_is_echoed_or_made(broker: TestClient) -> None:
    assert broker.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert len(broker.get("/healthz").headers["x-request-id"]) == 32


def test_metrics_count_requests_and_phases(broker: TestClient) -> None:
    broker.get("/healthz")
    text = broker.get("/metrics").text
    assert 'execbroker_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "execbroker_sessions{" in text and "execbroker_engine_lag_seconds" in text


def test_openapi_lists_the_protocol(broker: TestClient) -> None:
    paths = broker.get("/openapi.json").json()["paths"]
    for path in ("/requests", "/direct", "/offersets/{uuid}", "/sessions/{uuid}", "/platform"):
        assert path in paths


def test_platform_report_shows_holds(broker: TestClient) -> None:
    doc = {
        "executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}},
        "compute": {"kind": P + "compute/simple-compute-resource.yaml", "cores": {"min": 3, "max": 3}},
    }
    body = broker.post("/requests", json=doc, headers=JSON).json()
    assert body["result"] == "YES"
    start = datetime.now(UTC) - timedelta(minutes=1)
    report = broker.get(f"/platform?start={format_instant(start)}", headers=JSON).json()
    pool = report["pools"][0]
    assert pool["totals"]["cores"] == 256
    assert (report["offer_lifetime"], report["min_accept_time"]) == ("PT5M", "PT1S")  # as configured
    assert pool["reservations"] == len(body["offers"])
    assert max(step["cores"] for step in pool["profile"]) >= 3
    assert broker.get("/platform?start=nonsense", headers=JSON).status_code == 400
    # A range that ends while the offers still hold: no step down to zero at its end.
    first = min(o["schedule"]["available"]["start"].split("/")[0] for o in body["offers"])
    end = format_instant(parse_instant(first) + timedelta(minutes=30))
    inside = broker.get(f"/platform?start={format_instant(start)}&end={end}", headers=JSON).json()
    steps = inside["pools"][0]["profile"]
    assert steps[-1]["cores"] >= 3 and all(step["from"] < end for step in steps)


def test_a_bug_answers_500_with_a_body_and_the_request_id(broker: TestClient) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    broker.app.add_api_route("/broken-for-test", broken)  # type: ignore[attr-defined]
    response = broker.get("/broken-for-test", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-42"
    assert response.json() == {
        "status": 500,
        "error": "internal-error",
        "message": "Internal error (request req-42)",
    }
    assert 'route="/broken-for-test",status="500"' in broker.get("/metrics").text
