"""No input ever gets a 500: random documents, random bytes and mutated real requests at every POST."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
KINDS = [
    P + "executable/docker-container.yaml",
    P + "compute/simple-compute-resource.yaml",
    P + "data/skao-data-resource.yaml",
    "https://www.purl.org/ivoa.net/EB/schema/types/computer/x-1.0",
    "x",
]
KEYS = [
    "executable",
    "compute",
    "storage",
    "data",
    "volumes",
    "schedule",
    "requested",
    "start",
    "duration",
    "kind",
    "type",
    "meta",
    "name",
    "uuid",
    "cores",
    "memory",
    "size",
    "min",
    "max",
    "image",
    "locations",
    "location",
    "skao",
    "replicas",
    "update",
    "path",
    "value",
    "phase",
    "resource",
    "resources",
    "mode",
    "network",
    "ports",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.sampled_from(KINDS),
    st.sampled_from(["PT1H", "P1Y", "2026-01-01T00:00:00Z/PT1H", "READONLY", "ACCEPTED", "PT0S"]),
    # Times at and past the edges of what datetime can hold (these once overflowed into a 500).
    st.sampled_from(
        [
            "PT99999999999999S",
            "P1000000000W",
            "PT" + "9" * 400 + "S",
            "2026-11-24T00:00:00Z/P999999999D",
            "P99999999999D/2026-11-24T00:00:00Z",
            "0001-01-01T00:00:00+01:00/PT1H",
            "9999-12-31T23:59:59-01:00/PT1H",
            "2026-01-01T00:00:00+99:00",
        ]
    ),
    st.text(max_size=20),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=30,
)
CHECK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


_OFFERS: dict[int, str] = {}


def assert_no_500(response: Any) -> None:
    assert response.status_code < 500, response.text


@CHECK
@given(doc=documents)
def test_random_documents(broker: TestClient, doc: Any) -> None:
    for path in ("/requests", "/offersets", "/direct"):
        assert_no_500(
            broker.post(
                path,
                content=json.dumps(doc),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
        )


@CHECK
@given(raw=st.binary(max_size=300))
def test_random_bytes_as_yaml(broker: TestClient, raw: bytes) -> None:
    assert_no_500(broker.post("/requests", content=raw, headers={"Content-Type": "application/yaml"}))


@CHECK
@given(doc=documents)
def test_random_updates(broker: TestClient, doc: Any) -> None:
    if id(broker) not in _OFFERS:
        body = {"executable": {"kind": KINDS[0], "image": {"locations": ["x"]}}}
        offers = broker.post("/requests", json=body, headers={"Accept": "application/json"}).json()["offers"]
        _OFFERS[id(broker)] = offers[0]["meta"]["url"]
    response = broker.post(
        _OFFERS[id(broker)],
        content=json.dumps(doc),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert_no_500(response)
