"""The Python client against a real broker: ``execbroker serve`` started as a subprocess by the test.

Also holds the broker launcher that tests/test_cli.py imports (BrokerProcess, start_broker, fixtures).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from execbroker.client import (
    AsyncClient,
    BrokerUnavailable,
    Client,
    Conflict,
    InvalidRequest,
    NotFound,
    Rejected,
    SessionFailed,
    WaitTimeout,
)
from execbroker.client.protocol import Waiter, base_of
from execbroker.model.components import Meta, Session
from execbroker.model.phases import SessionPhase
from execbroker.wire.dialects import Dialect, get_codec
from processes import BrokerProcess, free_port, write_config
from processes import start_broker as launch_broker

KINDS = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds"
DOCKER = f"{KINDS}/executable/docker-container.yaml"
COMPUTE = f"{KINDS}/compute/simple-compute-resource.yaml"

#: Fast simulated timings: a session runs for one second, offers live two seconds.
FAST_CONFIG: dict[str, Any] = {
    "platform": {
        "kind": "simulated",
        "simulated": {
            "executables": {
                "docker-container": {"prepare": "PT0S", "run": "PT1S", "release": "PT0S"},
                "jupyter-notebook": {"prepare": "PT0S", "run": "PT1S", "release": "PT0S"},
            },
            "data": {},
        },
    },
    "capacity": {"resolution": "PT1S", "offer_lifetime": "PT2S", "min_accept_time": "PT1S"},
    "engine": {"poll_interval": "PT0.2S"},
    "logging": {"json_format": False},
}


def request_doc(*, cores: int = 1, fail: str | None = None, name: str = "hello") -> dict[str, Any]:
    """A v1.0 request for a small docker container; ``fail`` injects a simulated platform failure."""
    executable: dict[str, Any] = {
        "kind": DOCKER,
        "meta": {"name": name},
        "image": {"locations": ["ghcr.io/ivoa/hello-world:latest"]},
    }
    if fail:
        executable["environment"] = {"EXECBROKER_SIMULATE_FAIL": fail}
    return {
        "executable": executable,
        "compute": {
            "kind": COMPUTE,
            "meta": {"name": "compute"},
            "cores": {"min": cores},
            "memory": {"min": 1},
        },
        "schedule": {"requested": {"duration": "PT10M"}},
    }


def start_broker(workdir: Path, **overrides: Any) -> BrokerProcess:
    """Run ``execbroker serve`` on a free port with FAST_CONFIG and wait until it is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {"data_dir": str(workdir / "data"), **json.loads(json.dumps(FAST_CONFIG))}
    for key, value in overrides.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    path = write_config(workdir / "broker.yaml", config)
    try:
        return launch_broker(path, workdir / "broker.log", timeout=60)
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    running = start_broker(tmp_path_factory.mktemp("broker"))
    yield running
    running.stop()


@pytest.fixture
def client(broker: BrokerProcess) -> Iterator[Client]:
    with Client(broker.url, timeout=10) as c:
        yield c


def unused_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def earliest(offers: list[Session]) -> Session:
    def start(offer: Session) -> float:
        window = offer.schedule.available if offer.schedule else None
        return window.start.start.timestamp() if window and window.start else float("inf")

    return min(offers, key=start)


# -- the happy path ------------------------------------------------------------------------------


def test_yes_answer_accept_and_wait_until_completed(client: Client) -> None:
    offerset = client.request_offers(request_doc())
    assert offerset.result is not None and offerset.result.value == "YES"
    assert offerset.offers and all(o.phase is SessionPhase.OFFERED for o in offerset.offers)
    assert client.offerset(str(offerset.meta.uuid)).meta.uuid == offerset.meta.uuid

    offer = earliest(offerset.offers)
    accepted = client.accept(str(offer.meta.uuid))
    assert accepted.meta.uuid == offer.meta.uuid
    assert accepted.phase not in (SessionPhase.OFFERED, SessionPhase.REJECTED)

    final = client.wait(str(offer.meta.uuid), timeout=60)
    assert final.phase is SessionPhase.COMPLETED
    # Accepting one offer rejected its siblings.
    for sibling in offerset.offers:
        if sibling.meta.uuid != offer.meta.uuid:
            assert client.session(str(sibling.meta.uuid)).phase is SessionPhase.REJECTED


def test_handles_read_like_pyvo(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "request.yaml"
    path.write_text(yaml.safe_dump(request_doc(name="from-a-file")))
    answer = client.submit(path).raise_if_no()
    assert answer.yes
    handle = answer.offers[0].accept()
    assert handle.phase is not SessionPhase.OFFERED
    handle.wait({"COMPLETED"}, timeout=60).raise_if_error()
    assert handle.phase is SessionPhase.COMPLETED
    assert handle.session.executable is not None and handle.session.executable.meta.name == "from-a-file"


def test_wait_for_an_intermediate_phase_returns_at_or_past_it(client: Client) -> None:
    offer = earliest(client.request_offers(request_doc()).offers)
    client.accept(str(offer.meta.uuid))
    reached = client.wait(str(offer.meta.uuid), {SessionPhase.RUNNING}, timeout=60)
    assert reached.phase in (SessionPhase.RUNNING, SessionPhase.RELEASING, SessionPhase.COMPLETED)
    assert client.wait(str(offer.meta.uuid), timeout=60).phase is SessionPhase.COMPLETED


def test_request_from_a_model_object(client: Client) -> None:
    model = get_codec(Dialect.V1_0).decode_request(request_doc(name="model"))
    offerset = client.request_offers(model)
    assert offerset.offers
    assert offerset.offers[0].executable is not None
    assert offerset.offers[0].executable.meta.name == "model"


def test_async_client_does_the_same(broker: BrokerProcess) -> None:
    async def scenario() -> tuple[SessionPhase, SessionPhase]:
        async with AsyncClient(broker.url, timeout=10) as client:
            answer = (await client.submit(request_doc())).raise_if_no()
            handle = await answer.offers[0].accept()
            first = handle.phase
            await handle.wait(timeout=60)
            handle.raise_if_error()
            return first, handle.phase

    first, last = asyncio.run(scenario())
    assert first is not SessionPhase.OFFERED
    assert last is SessionPhase.COMPLETED


def test_sessions_are_listed_and_filtered(client: Client) -> None:
    offer = earliest(client.request_offers(request_doc()).offers)
    client.accept(str(offer.meta.uuid))
    client.wait(str(offer.meta.uuid), timeout=60)
    completed = client.sessions(phase="COMPLETED", limit=500)
    assert str(offer.meta.uuid) in {row.uuid for row in completed}
    assert all(row.phase is SessionPhase.COMPLETED for row in completed)
    offered = client.sessions(phase=[SessionPhase.OFFERED], limit=500)
    assert str(offer.meta.uuid) not in {row.uuid for row in offered}


def test_direct_execution_runs_at_once(client: Client) -> None:
    session = client.direct(request_doc())
    assert session.phase not in (SessionPhase.OFFERED, SessionPhase.FAILED)
    assert client.wait(str(session.meta.uuid), timeout=60).phase is SessionPhase.COMPLETED


# -- failure paths -------------------------------------------------------------------------------


def test_a_no_answer_carries_its_reasons(client: Client) -> None:
    offerset = client.request_offers(request_doc(cores=100_000))
    assert offerset.result is not None and offerset.result.value == "NO"
    assert not offerset.offers
    assert offerset.meta.messages
    with pytest.raises(Rejected) as caught:
        client.request_offers(request_doc(cores=100_000), check=True)
    assert caught.value.messages
    assert caught.value.message == caught.value.messages[0].rendered
    with pytest.raises(Rejected):
        client.submit(request_doc(cores=100_000)).raise_if_no()


def test_direct_refusal_is_rejected_with_reasons(client: Client) -> None:
    with pytest.raises(Rejected) as caught:
        client.direct(request_doc(cores=100_000))
    assert caught.value.status == 400
    assert caught.value.messages


def test_broker_down_is_unavailable_with_the_url() -> None:
    url = unused_url()
    with Client(url, timeout=2) as client, pytest.raises(BrokerUnavailable) as caught:
        client.request_offers(request_doc())
    assert url in caught.value.message
    assert caught.value.status is None


def test_async_broker_down_is_unavailable() -> None:
    async def scenario() -> None:
        async with AsyncClient(unused_url(), timeout=2) as client:
            await client.session(str(uuid.uuid4()))

    with pytest.raises(BrokerUnavailable):
        asyncio.run(scenario())


def test_accepting_an_expired_offer_is_a_conflict_with_the_brokers_message(client: Client) -> None:
    offer = client.request_offers(request_doc()).offers[0]
    time.sleep(3)  # offer_lifetime is PT2S
    with pytest.raises(Conflict) as caught:
        client.accept(str(offer.meta.uuid))
    assert caught.value.status == 409
    assert caught.value.error == "illegal-transition"
    assert str(offer.meta.uuid) in caught.value.message or "EXPIRED" in caught.value.message.upper()
    assert client.session(str(offer.meta.uuid)).phase is SessionPhase.EXPIRED


def test_a_failing_session_raises_session_failed(client: Client) -> None:
    answer = client.submit(request_doc(fail="run")).raise_if_no()
    handle = answer.offers[0].accept().wait(timeout=60)
    assert handle.phase is SessionPhase.FAILED
    with pytest.raises(SessionFailed) as caught:
        handle.raise_if_error()
    assert caught.value.session.phase is SessionPhase.FAILED
    assert caught.value.messages, "a FAILED session says why"


def test_cancel_then_accept_again_is_a_conflict(client: Client) -> None:
    offer = earliest(client.request_offers(request_doc()).offers)
    client.accept(str(offer.meta.uuid))
    cancelled = client.cancel(str(offer.meta.uuid))
    assert cancelled.phase is SessionPhase.CANCELLED
    assert client.wait(str(offer.meta.uuid), timeout=10).phase is SessionPhase.CANCELLED
    with pytest.raises(Conflict):
        client.accept(str(offer.meta.uuid))


def test_unknown_session_is_not_found(client: Client) -> None:
    with pytest.raises(NotFound) as caught:
        client.session(str(uuid.uuid4()))
    assert caught.value.status == 404


def test_wait_times_out_with_the_last_state(client: Client) -> None:
    offer = earliest(client.request_offers(request_doc()).offers)
    client.accept(str(offer.meta.uuid))
    with pytest.raises(WaitTimeout) as caught:
        client.wait(str(offer.meta.uuid), {"COMPLETED"}, timeout=0.2)
    assert caught.value.session.phase is not SessionPhase.COMPLETED
    client.cancel(str(offer.meta.uuid))


def test_an_unreadable_request_file_is_refused_locally(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("executable: [unclosed\n")
    with pytest.raises(InvalidRequest):
        client.request_offers(path)


# -- long-poll and its fallback -------------------------------------------------------------------


def test_wait_long_polls_a_real_broker(broker: BrokerProcess) -> None:
    """One long-poll per phase change, not one GET per poll interval."""
    requests: list[httpx.Request] = []
    transport = httpx.HTTPTransport()

    class Counting(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            requests.append(request)
            return transport.handle_request(request)

    with Client(broker.url, timeout=10, transport=Counting()) as client:
        offer = earliest(client.request_offers(request_doc()).offers)
        client.accept(str(offer.meta.uuid))
        requests.clear()
        assert client.wait(str(offer.meta.uuid), timeout=60, poll=0.01).phase is SessionPhase.COMPLETED
    polls = [r for r in requests if "WAIT" in r.url.params]
    assert polls, "the wait used ?WAIT="
    assert all(r.url.params.get("PHASE") for r in polls)
    # With poll=0.01 a plain poller would send hundreds of GETs in the ~1.5 s the session takes.
    assert len(requests) < 20


def test_wait_falls_back_to_polling_when_wait_is_ignored() -> None:
    """A broker that ignores ?WAIT= answers at once; the client then sleeps ``poll`` between GETs."""
    codec = get_codec(Dialect.V1_0)
    sid = uuid.uuid4()
    phases = [SessionPhase.WAITING] * 4 + [SessionPhase.COMPLETED]
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        phase = phases[min(len(seen) - 1, len(phases) - 1)]
        body = codec.encode_session(Session(meta=Meta(uuid=sid), phase=phase))
        return httpx.Response(200, json=body)

    with Client("http://broker.invalid", transport=httpx.MockTransport(handler)) as client:
        final = client.wait(str(sid), timeout=10, poll=0.2)
    assert final.phase is SessionPhase.COMPLETED
    assert len(seen) == 5
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    # The first long-poll follows the first GET at once; every early answer after it costs a pause.
    assert min(gaps[1:]) >= 0.15


def test_waiter_stops_at_a_final_phase_that_was_not_wanted() -> None:
    waiter = Waiter("x", frozenset({SessionPhase.RUNNING}), timeout=1, poll=1)
    assert waiter.done(Session(phase=SessionPhase.FAILED))
    assert waiter.done(Session(phase=SessionPhase.RELEASING))
    assert not waiter.done(Session(phase=SessionPhase.PREPARING))


def test_session_urls_name_their_broker() -> None:
    assert base_of("http://h:1/prefix/sessions/abc") == ("http://h:1/prefix", "abc")
    assert base_of("https://h/sessions/abc/") == ("https://h", "abc")
    assert base_of("abc") is None
    assert base_of("http://h/other/abc") is None


def test_follow_rides_out_a_broker_restart(tmp_path: Path) -> None:
    """The broker survives a restart, so a watch does too: it keeps asking while nobody answers."""
    slow = {
        "simulated": {
            "executables": {"docker-container": {"prepare": "PT0S", "run": "PT4S", "release": "PT0S"}}
        }
    }
    first = start_broker(tmp_path, platform=slow)
    url = first.url
    port = int(url.rsplit(":", 1)[1])
    try:
        with Client(url, timeout=10) as c:
            offer = earliest(c.request_offers(request_doc()).offers)
            c.accept(str(offer.meta.uuid))
            seen = []
            for session in c.follow(str(offer.meta.uuid), timeout=90, patience=30):
                seen.append(session.phase)
                if first.process.poll() is None:
                    first.kill()  # mid-session: the follower is left with a refused connection
                    time.sleep(1.0)
                    config = tmp_path / "broker.yaml"
                    second = launch_broker(config, tmp_path / "broker.log", port=port, timeout=60)
        assert seen[-1] is SessionPhase.COMPLETED, seen
    finally:
        first.kill()
        if "second" in locals():
            second.stop()


def test_follow_gives_up_when_the_broker_stays_down(tmp_path: Path) -> None:
    running = start_broker(tmp_path)
    with Client(running.url, timeout=5) as c:
        offer = earliest(c.request_offers(request_doc()).offers)
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable):
            for _ in c.follow(str(offer.meta.uuid), timeout=60, patience=1.5):
                if running.process.poll() is None:
                    running.kill()
                    started = time.monotonic()
        assert 1.4 <= time.monotonic() - started < 10
