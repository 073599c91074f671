"""Values at the edges: every one gets a clear refusal (400, or a NO that says why), never a 500 and
never a silent default."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
JSON = {"Accept": "application/json"}


def request(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "executable": {"kind": P + "executable/docker-container.yaml", "image": {"locations": ["x"]}},
        "schedule": {"requested": {"duration": "PT10M"}},
    }
    doc.update(extra)
    return doc


def ask(broker: TestClient, doc: dict[str, Any], path: str = "/requests") -> dict[str, Any]:
    response = broker.post(path, json=doc, headers=JSON, follow_redirects=True)
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


def no_with(body: dict[str, Any], *fragments: str) -> str:
    """The answer is a NO whose messages mention every fragment; returns the messages' text."""
    assert body["result"] == "NO", body
    text = " | ".join(m.get("message", "") for m in body["meta"].get("messages", []))
    for fragment in fragments:
        assert fragment in text, text
    return text


@pytest.mark.parametrize(
    "duration",
    [
        "PT99999999999999S",
        "P99999999999D",
        "P1000000000W",
        "PT999999999999999999999H",
        "PT" + "9" * 5000 + "S",
    ],
)
def test_durations_too_long_to_hold_are_refused(broker: TestClient, duration: str) -> None:
    body = ask(broker, request(schedule={"requested": {"duration": duration}}))
    text = no_with(body, "longer than P36525D")
    assert len(text) < 1000  # the 5000-digit value is cut short in the message


@pytest.mark.parametrize(
    "start",
    [
        "2026-11-24T00:00:00Z/PT99999999999999999999H",
        "P99999999999D/2026-11-24T00:00:00Z",
        "2026-11-24T00:00:00Z/P999999999D",
    ],
)
def test_start_windows_too_long_to_hold_are_refused(broker: TestClient, start: str) -> None:
    body = ask(broker, request(schedule={"requested": {"duration": "PT10M", "start": start}}))
    no_with(body, "longer than P36525D")


@pytest.mark.parametrize(
    "start",
    ["P1D/0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00/PT1H", "9999-12-31T23:59:59-01:00/PT1H"],
)
def test_instants_at_the_calendar_edges_are_refused(broker: TestClient, start: str) -> None:
    body = ask(broker, request(schedule={"requested": {"duration": "PT10M", "start": start}}))
    no_with(body, "outside the years 1900 to 8999")


def test_bad_offsets_get_plain_words_not_python_text(broker: TestClient) -> None:
    body = ask(
        broker, request(schedule={"requested": {"duration": "PT10M", "start": "2026-01-01T00:00:00+99:00"}})
    )
    text = no_with(body, "not a valid date and time")
    assert "timedelta" not in text


def test_seed_dialect_start_list_with_an_overflowing_interval(broker: TestClient) -> None:
    doc = {
        "executable": {
            "type": "https://www.purl.org/ivoa.net/EB/schema/types/executable/docker-container-1.0",
            "name": "x",
            "image": "x",
        },
        "schedule": {"requested": {"duration": "PT10M", "start": ["2026-11-24T00:00:00Z/P99999999999D"]}},
    }
    response = broker.post("/offersets", json=doc, headers=JSON, follow_redirects=True)
    assert response.status_code < 500, response.text


@pytest.mark.parametrize(
    "query", ["start=0001-01-01T00:00:00%2B01:00", "end=9999-12-31T23:59:59-01:00", "start=P99999999999D"]
)
def test_platform_report_refuses_out_of_range_times(broker: TestClient, query: str) -> None:
    response = broker.get(f"/platform?{query}", headers=JSON)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("path", ["/sessions", "/offersets"])
def test_listing_offsets_beyond_64_bits_are_400(broker: TestClient, path: str) -> None:
    response = broker.get(f"{path}?offset=99999999999999999999", headers=JSON)
    assert response.status_code == 400, response.text
    assert "offset" in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/offersets", "phase=FOO"),
        ("/offersets", "offerset=x"),
        ("/sessions", "result=MAYBE"),
        ("/sessions", "sort=x"),
    ],
)
def test_listings_refuse_parameters_they_do_not_read(broker: TestClient, path: str, query: str) -> None:
    response = broker.get(f"{path}?{query}", headers=JSON)
    assert response.status_code == 400, response.text
    assert query.split("=")[0] in response.json()["message"]


def test_empty_dialect_parameter_is_refused(broker: TestClient) -> None:
    body = ask(broker, request())
    response = broker.get(f"{body['offers'][0]['meta']['url']}?dialect=", headers=JSON)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("wait", ["nan", "NaN"])
def test_wait_that_is_not_a_number_is_400(broker: TestClient, wait: str) -> None:
    body = ask(broker, request())
    response = broker.get(f"{body['offers'][0]['meta']['url']}?WAIT={wait}", headers=JSON)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "compute",
    [
        {"cores": {"min": 0, "max": 0}},
        {"memory": {"min": 0, "max": 0}},
        {"cores": {"min": 0, "max": 2}},
    ],
)
def test_zero_cores_or_memory_is_refused(broker: TestClient, compute: dict[str, Any]) -> None:
    doc = request(compute={"kind": P + "compute/simple-compute-resource.yaml", **compute})
    text = no_with(ask(broker, doc), "must be at least 1")
    assert "cores" in text or "memory" in text
    direct = broker.post("/direct", json=doc, headers=JSON, follow_redirects=True)
    assert direct.status_code == 400, direct.text


@pytest.mark.parametrize("duration", ["PT0S", "PT0M", "P0D"])
def test_zero_duration_is_refused_not_defaulted(broker: TestClient, duration: str) -> None:
    body = ask(broker, request(schedule={"requested": {"duration": duration}}))
    no_with(body, "must be longer than zero")


@pytest.mark.parametrize(
    ("costs", "where"),
    [
        ([{"kind": "x", "min": -1, "max": "abc"}], "/costs/0/max"),
        ([{"min": 1.0}], "/costs/0/kind"),
        ([{"kind": "x", "min": 3.0, "max": 2.0}], "/costs/0"),
        ([{"kind": "x", "min": True}], "/costs/0/min"),
    ],
)
def test_unsound_cost_items_are_400(broker: TestClient, costs: list[Any], where: str) -> None:
    response = broker.post("/requests", json=request(costs=costs), headers=JSON)
    assert response.status_code == 400, response.text
    assert where in [p["path"] for p in response.json()["problems"]]


def test_costs_are_kept_and_said_to_be_unevaluated(broker: TestClient) -> None:
    costs = [{"kind": P + "costs/simple-minmax-float-cost.yaml", "min": 1.0, "max": 2.5}]
    body = ask(broker, request(costs=costs))
    assert body["result"] == "YES"
    texts = [m["message"] for m in body["meta"]["messages"]]
    assert any("costs are kept with it but not evaluated" in t for t in texts), texts


def test_a_repeated_key_is_400_not_last_one_wins(broker: TestClient) -> None:
    body = (
        '{"executable": {"kind": "' + P + 'executable/docker-container.yaml", "image": {"locations": ["x"]}},'
        ' "schedule": {"requested": {"duration": "PT10M", "duration": "PT20M"}}}'
    )
    response = broker.post(
        "/requests", content=body, headers={**JSON, "Content-Type": "application/json"}, follow_redirects=True
    )
    assert response.status_code == 400, response.text
    problems = response.json()["problems"]
    assert [p["path"] for p in problems] == ["/schedule/requested"]
    assert "Duplicate key [duration]" in problems[0]["message"]
