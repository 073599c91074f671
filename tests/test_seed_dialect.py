"""A seed-era client: curl without -L, YAML, ``type`` discriminators, the ``update:`` wrapper.

The answers come back in the dialect of the request (seed/v0.8, or the June-2025 variant), also on
later GETs, and ``?dialect=`` switches an answer to another dialect.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from app_fixtures import wait_for_phase

SEED = "https://www.purl.org/ivoa.net/EB/schema/types/"
SEED_REQUEST = """
name: notebook-test
executable:
  name: notebook
  type: https://www.purl.org/ivoa.net/EB/schema/types/executable/jupyter-notebook-1.0
  location: https://example.org/notebooks/test.ipynb
compute:
  name: compute
  type: https://www.purl.org/ivoa.net/EB/schema/types/compute/simple-compute-resource-1.0
  cores: {min: 2, max: 4}
  volumes: [calibration]
volumes:
  - name: calibration
    type: https://www.purl.org/ivoa.net/EB/schema/types/volume/simple-volume-mount-1.0
    path: /calibration
    mode: READONLY
    cardinality: CONTAINER
    resources: [cal-data]
data:
  - name: cal-data
    type: https://www.purl.org/ivoa.net/EB/schema/types/data/skao-data-resource-1.0
    ivoa: {ivoid: "ivo://example.org/data?cal"}
    skao:
      namespace: testing
      objectname: calibration.fits
      objecttype: FILE
      datasize: 1024
      replicas: [{rsename: SPSRC_STORM, dataurl: "https://example.org/cal.fits"}]
schedule:
  requested: {duration: PT30M}
"""


def test_seed_script_flow(broker: TestClient) -> None:
    answer = broker.post("/offersets", content=SEED_REQUEST)  # curl without -L: read the 303 body
    assert answer.status_code == 303
    offerset = yaml.safe_load(answer.text)
    assert offerset["result"] == "YES" and offerset["name"] == "notebook-test"
    assert offerset["type"] == SEED + "offerset/offerset-response-1.0"
    offer = offerset["offers"][0]
    assert offer["type"] == SEED + "session/execution-session-response-1.0"
    assert offer["href"].endswith(offer["uuid"]) and "meta" not in offer
    assert offer["compute"]["type"] == SEED + "compute/simple-compute-resource-1.0"
    assert offer["data"][0]["skao"]["replicas"][0]["rsename"] == "SPSRC_STORM"
    assert offer["data"][0]["storage"] == offer["storage"][0]["uuid"]
    update = "update:\n  type: uri:enum-value-update\n  path: phase\n  value: ACCEPTED\n"
    accepted = yaml.safe_load(broker.post(offer["href"], content=update).text)
    assert accepted["phase"] in {"ACCEPTED", "WAITING", "PREPARING"}
    done = wait_for_phase(broker, offer["href"], {"COMPLETED", "FAILED"})
    assert done["phase"] == "COMPLETED"
    seed_view = yaml.safe_load(broker.get(offer["href"]).text)
    assert seed_view["type"] == SEED + "session/execution-session-response-1.0"  # still the seed dialect
    v10 = broker.get(f"{offer['href']}?dialect=v1.0", headers={"Accept": "application/json"}).json()
    assert (
        v10["kind"].endswith("session/scheduled-execution-session.yaml")
        and v10["meta"]["uuid"] == offer["uuid"]
    )


def test_june_2025_example_comes_back_in_its_dialect(broker: TestClient, reference_examples: Path) -> None:
    request = (reference_examples / "example-005" / "example-005-001-offerset-request.yaml").read_text()
    offerset = yaml.safe_load(broker.post("/offersets", content=request).text)
    assert offerset["result"] == "YES"
    offer = offerset["offers"][0]
    assert "computer" in offer and "compute" not in offer
    assert "offered" in offer["schedule"]


def test_dialect_parameter_applies_to_the_answers_of_posts_too(broker: TestClient) -> None:
    """``?dialect=`` asks for any response document in another dialect: the answer to a POST too, and
    its Location keeps asking for it. A bad value is refused before anything is booked."""
    as_json = {"Accept": "application/json", "Content-Type": "application/yaml"}
    seed = broker.post("/offersets?dialect=v1.0", content=SEED_REQUEST, headers=as_json)
    assert seed.status_code == 303 and seed.headers["location"].endswith("?dialect=v1.0")
    offers = seed.json()["offers"]
    assert offers and all("kind" in o and "meta" in o and "type" not in o for o in offers)
    assert (
        broker.get(seed.headers["location"], headers=as_json).json()["offers"][0]["meta"]["uuid"]
        == (offers[0]["meta"]["uuid"])
    )
    v10 = {
        "executable": {
            "kind": "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/executable/"
            "docker-container.yaml",
            "image": {"locations": ["x"]},
        }
    }
    headers = {"Accept": "application/json"}
    answered = broker.post("/requests?dialect=seed", json=v10, headers=headers).json()
    assert answered["offers"] and all(o["type"].startswith(SEED) for o in answered["offers"])
    direct = broker.post("/direct?dialect=seed", json=v10, headers=headers)
    assert direct.status_code == 303 and direct.json()["type"].startswith(SEED)
    before = broker.get("/platform", headers=headers).json()["pools"][0]["reservations"]
    assert broker.post("/requests?dialect=nonsense", json=v10, headers=headers).status_code == 400
    assert broker.get("/platform", headers=headers).json()["pools"][0]["reservations"] == before
