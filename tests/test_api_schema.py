"""Checklist item 53: documents the broker actually answers with validate against the v1.0 schema."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from test_wire_golden import COMPONENTS_URI, _check_session, validate

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
JSON = {"Accept": "application/json"}
REQUEST = {
    "executable": {
        "kind": P + "executable/docker-container.yaml",
        "meta": {"name": "x"},
        "image": {"locations": ["localhost/busybox:test"]},
    },
    "compute": {
        "kind": P + "compute/simple-compute-resource.yaml",
        "cores": {"min": 1, "max": 2},
        "volumes": [
            {
                "kind": P + "volume/simple-volume-mount.yaml",
                "path": "/in",
                "mode": "READONLY",
                "resource": "d",
            }
        ],
    },
    "data": [
        {
            "kind": P + "data/skao-data-resource.yaml",
            "meta": {"name": "d"},
            "skao": {
                "namespace": "ns",
                "objectname": "o",
                "objecttype": "FILE",
                "datasize": 10,
                "replicas": [{"rsename": "R", "dataurl": "https://example.org/o"}],
            },
        }
    ],
}


def test_offer_sets_sessions_and_no_answers_validate(broker: TestClient) -> None:
    yes = broker.post("/requests", json=REQUEST, headers=JSON).json()
    validate(yes, COMPONENTS_URI + "#/components/schemas/OfferSetResponse")
    for offer in yes["offers"]:
        _check_session(offer)
    url = yes["offers"][0]["meta"]["url"]
    accepted = broker.post(
        url, json={"kind": "uri:enum-value-update", "path": "phase", "value": "ACCEPTED"}, headers=JSON
    ).json()
    _check_session(accepted)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        session = broker.get(url, headers=JSON).json()
        _check_session(session)  # in every phase it passes through
        if session["phase"] in {"COMPLETED", "FAILED"}:
            break
        time.sleep(0.05)
    assert session["phase"] == "COMPLETED"
    no = broker.post("/requests", json={"compute": REQUEST["compute"]}, headers=JSON).json()
    validate(no, COMPONENTS_URI + "#/components/schemas/OfferSetResponse")
    assert no["result"] == "NO"
