"""The ``execbroker`` client commands against real brokers (``execbroker serve`` subprocesses)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from execbroker.cli.main import app
from execbroker.client import Client, Conflict
from execbroker.model.phases import SessionPhase
from execbroker.model.times import format_instant
from test_client import BrokerProcess, earliest, request_doc, start_broker, unused_url

runner = CliRunner()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    running = start_broker(tmp_path_factory.mktemp("broker-a"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def second_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    running = start_broker(tmp_path_factory.mktemp("broker-b"))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No broker from the developer's environment or config file leaks into a test."""
    monkeypatch.delenv("EXECBROKER_URL", raising=False)
    monkeypatch.delenv("EXECBROKER_CLIENT_CONFIG", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)  # tables off a terminal are wide enough for a uuid
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, list(args), env=env)
    # Only deliberate exits: an escaped exception would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def write(tmp_path: Path, doc: Any, name: str = "request.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


# -- offers --------------------------------------------------------------------------------------


def test_offers_prints_one_table_and_json_parses_back(broker: BrokerProcess, tmp_path: Path) -> None:
    request = write(tmp_path, request_doc())
    table = invoke("offers", request, "--broker", broker.url)
    assert table.exit_code == 0, table.output
    for column in ("broker", "offer", "start", "duration", "cores", "memory", "storage", "expires"):
        assert column in table.stdout

    result = invoke("offers", request, "--broker", broker.url, "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = doc["offers"]
    assert rows and all(row["broker"] == broker.url for row in rows)
    assert [row["start"] for row in rows] == sorted(row["start"] for row in rows)
    assert doc["answers"][0]["result"] == "YES"
    with Client(broker.url) as client:
        assert client.session(rows[0]["offer"]).phase is SessionPhase.OFFERED


def test_offers_yaml_parses_back(broker: BrokerProcess, tmp_path: Path) -> None:
    result = invoke("offers", write(tmp_path, request_doc()), "-b", broker.url, "--output", "yaml")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    assert doc["offers"][0]["cores"] >= 1
    assert doc["offers"][0]["url"].endswith(doc["offers"][0]["offer"])


def test_offers_from_two_brokers_in_one_table(
    broker: BrokerProcess, second_broker: BrokerProcess, tmp_path: Path
) -> None:
    request = write(tmp_path, request_doc())
    result = invoke("offers", request, "-b", broker.url, "-b", second_broker.url, "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["offers"]
    assert {row["broker"] for row in rows} == {broker.url, second_broker.url}
    assert [row["start"] for row in rows] == sorted(row["start"] for row in rows)

    table = invoke("offers", request, "-b", broker.url, "-b", second_broker.url)
    assert table.exit_code == 0
    assert broker.url in table.stdout and second_broker.url in table.stdout


def test_a_no_answer_exits_3_with_the_reasons(broker: BrokerProcess, tmp_path: Path) -> None:
    result = invoke("offers", write(tmp_path, request_doc(cores=100_000)), "--broker", broker.url)
    assert result.exit_code == 3
    assert "answered NO" in result.stderr
    with Client(broker.url) as client:
        reasons = client.request_offers(request_doc(cores=100_000)).meta.messages
    assert reasons
    for reason in reasons:
        assert reason.rendered in result.stderr


def test_broker_down_is_a_plain_message_and_exit_1(tmp_path: Path) -> None:
    url = unused_url()
    result = invoke("offers", write(tmp_path, request_doc()), "--broker", url)
    assert result.exit_code == 1
    assert f"Cannot reach the broker at {url}" in result.stderr
    watch = invoke("watch", "0b7c1f3e-0000-4000-8000-000000000000", "--broker", url)
    assert watch.exit_code == 1
    assert "Cannot reach the broker" in watch.stderr


# -- run, accept, watch, cancel ------------------------------------------------------------------


def test_run_goes_from_request_to_completed(broker: BrokerProcess, tmp_path: Path) -> None:
    result = invoke("run", write(tmp_path, request_doc()), "--broker", broker.url, "--pick", "earliest")
    assert result.exit_code == 0, result.output
    assert "accepting offer" in result.stderr
    assert "COMPLETED" in result.stdout
    assert "executable hello" in result.stdout


def test_run_with_json_output_prints_the_final_session(broker: BrokerProcess, tmp_path: Path) -> None:
    result = invoke(
        "run", write(tmp_path, request_doc()), "-b", broker.url, "--pick", "largest", "-o", "json"
    )
    assert result.exit_code == 0, result.output
    session = json.loads(result.stdout)
    assert session["phase"] == "COMPLETED"
    assert session["executable"]["meta"]["name"] == "hello"


def test_a_failing_session_exits_4(broker: BrokerProcess, tmp_path: Path) -> None:
    result = invoke("run", write(tmp_path, request_doc(fail="run")), "--broker", broker.url)
    assert result.exit_code == 4, result.output
    assert "FAILED" in result.stderr


def test_accept_by_url_then_cancel_and_watch_exits_5(broker: BrokerProcess) -> None:
    with Client(broker.url) as client:
        offer = earliest(client.request_offers(request_doc()).offers)
    assert offer.meta.url is not None
    accepted = invoke("accept", offer.meta.url)
    assert accepted.exit_code == 0, accepted.output
    assert "ACCEPTED" in accepted.stdout or "WAITING" in accepted.stdout or "PREPARING" in accepted.stdout

    cancelled = invoke("cancel", str(offer.meta.uuid), "--broker", broker.url)
    assert cancelled.exit_code == 0, cancelled.output
    assert "CANCELLED" in cancelled.stdout

    time.sleep(1.2)  # so that "now" and the time of the cancel differ in whole seconds
    watched = invoke("watch", str(offer.meta.uuid), "--broker", broker.url)
    assert watched.exit_code == 5
    assert "CANCELLED" in watched.stdout
    # An ended session's lines carry the time of its last change, not the time of the watch.
    with Client(broker.url) as client:
        modified = client.session(str(offer.meta.uuid)).meta.modified
    assert modified is not None
    assert format_instant(modified.replace(microsecond=0)) in watched.stdout


def test_accept_with_watch_follows_to_completed(broker: BrokerProcess) -> None:
    with Client(broker.url) as client:
        offer = earliest(client.request_offers(request_doc()).offers)
    result = invoke("accept", str(offer.meta.uuid), "-b", broker.url, "--watch")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # One line per change, ending with the session COMPLETED.
    assert any(line.endswith("session COMPLETED") for line in lines)
    assert any("executable hello COMPLETED" in line for line in lines)


def test_accepting_an_expired_offer_exits_1_with_the_brokers_message(broker: BrokerProcess) -> None:
    with Client(broker.url) as client:
        offer = client.request_offers(request_doc()).offers[0]
        time.sleep(3)  # offer_lifetime is PT2S
        result = invoke("accept", str(offer.meta.uuid), "--broker", broker.url)
        with pytest.raises(Conflict) as caught:
            client.accept(str(offer.meta.uuid))
    assert result.exit_code == 1
    assert caught.value.message in result.stderr


def test_reject_and_show(broker: BrokerProcess) -> None:
    with Client(broker.url) as client:
        offer = client.request_offers(request_doc()).offers[0]
    rejected = invoke("reject", str(offer.meta.uuid), "-b", broker.url, "-o", "json")
    assert rejected.exit_code == 0, rejected.output
    assert json.loads(rejected.stdout)["phase"] == "REJECTED"
    shown = invoke("show", str(offer.meta.uuid), "-b", broker.url)
    assert shown.exit_code == 0
    assert "REJECTED" in shown.stdout and "executable hello" in shown.stdout


# -- sessions and broker resolution --------------------------------------------------------------


def test_sessions_lists_with_the_url_from_the_environment(broker: BrokerProcess, tmp_path: Path) -> None:
    with Client(broker.url) as client:
        offer = earliest(client.request_offers(request_doc()).offers)
        client.accept(str(offer.meta.uuid))
        client.wait(str(offer.meta.uuid), timeout=60)
    result = invoke(
        "sessions", "--phase", "completed", "--limit", "500", "-o", "json", env={"EXECBROKER_URL": broker.url}
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert str(offer.meta.uuid) in {row["uuid"] for row in rows}
    assert all(row["phase"] == "COMPLETED" for row in rows)

    as_yaml = invoke("sessions", "-o", "yaml", "--limit", "500", env={"EXECBROKER_URL": broker.url})
    assert str(offer.meta.uuid) in {row["uuid"] for row in yaml.safe_load(as_yaml.stdout)}

    # --broker wins over EXECBROKER_URL.
    overridden = invoke("sessions", "--broker", unused_url(), env={"EXECBROKER_URL": broker.url})
    assert overridden.exit_code == 1


def test_broker_url_from_the_config_file(broker: BrokerProcess, tmp_path: Path) -> None:
    config = tmp_path / "xdg" / "execbroker" / "client.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"broker": broker.url}))
    result = invoke("sessions")
    assert result.exit_code == 0, result.output
    assert broker.url in result.stdout

    config.write_text("broker: not a url\n")
    bad = invoke("sessions")
    assert bad.exit_code == 1
    assert "not a broker URL" in bad.stderr


def test_a_bad_phase_is_a_usage_error() -> None:
    result = invoke("sessions", "--phase", "SLEEPING", "--broker", unused_url())
    assert result.exit_code == 2
    assert "not a session phase" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["sessions", "--broker", "notaurl"],
        ["sessions", "--broker", "http://localhost:99999"],
        ["sessions", "--broker", "http://[::1"],
        ["sessions", "--broker", "http://127.0.0.1:9/sessions"],
        ["sessions", "--broker", "http://127.0.0.1:9/eb/requests/"],
        ["show", "", "--broker", "http://127.0.0.1:9"],
        ["show", "  ", "--broker", "http://127.0.0.1:9"],
        ["show", "..", "--broker", "http://127.0.0.1:9"],
        ["show", "a/b", "--broker", "http://127.0.0.1:9"],
        ["show", "http://[::1"],
        ["show", "http://localhost:99999/sessions/x"],
        ["accept", ""],
        ["reject", ""],
        ["cancel", ""],
        ["watch", ""],
        ["logs", ""],
    ],
)
def test_unusable_brokers_and_session_names_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("execbroker: ")


def test_offers_with_a_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("offers", write(tmp_path, request_doc()), "-b", "http://localhost:99999")
    assert result.exit_code == 2, result.output
    assert "not a broker URL" in result.stderr


# -- validate ------------------------------------------------------------------------------------


def test_validate_accepts_a_good_request(tmp_path: Path) -> None:
    result = invoke("validate", write(tmp_path, request_doc()))
    assert result.exit_code == 0, result.output
    assert ": valid" in result.stdout
    as_json = invoke("validate", write(tmp_path, request_doc()), "-o", "json")
    assert json.loads(as_json.stdout)["valid"] is True


def test_validate_gives_the_messages_a_broker_gives(broker: BrokerProcess, tmp_path: Path) -> None:
    bad = request_doc()
    bad["schedule"] = {"requested": {"duration": "one hour"}}
    result = invoke("validate", write(tmp_path, bad), "-o", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    local = {m["message"] for m in report["messages"]}
    assert local
    with Client(broker.url) as client:
        answer = client.request_offers(bad)
    assert answer.result is not None and answer.result.value == "NO"
    assert local <= {m.rendered for m in answer.meta.messages}


def test_validate_reports_structural_problems_with_paths(tmp_path: Path) -> None:
    result = invoke("validate", write(tmp_path, {"executable": ["not", "a", "mapping"]}))
    assert result.exit_code == 1
    assert "NOT valid" in result.stdout
    assert "/executable" in result.stdout

    missing = invoke("validate", write(tmp_path, {"compute": request_doc()["compute"]}, "no-exec.yaml"))
    assert missing.exit_code == 1
    assert "An executable is required" in missing.stdout

    unreadable = tmp_path / "broken.yaml"
    unreadable.write_text("executable: [unclosed\n")
    broken = invoke("validate", str(unreadable))
    assert broken.exit_code == 1
    assert "NOT valid" in broken.stdout


def test_help_documents_the_exit_codes() -> None:
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout and "FAILED" in result.stdout
    top = invoke("--help")
    for command in ("offers", "run", "accept", "reject", "cancel", "watch", "sessions", "validate", "serve"):
        assert command in top.stdout


def test_a_missing_request_file_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("offers", str(tmp_path / "nope.yaml"), "--broker", unused_url())
    assert result.exit_code == 2
