"""Configuration: YAML file, EXECBROKER_* environment, validation with clear errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from execbroker.config import ConfigError, load_settings


def test_defaults_give_sqlite_and_the_simulated_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///") and settings.platform.kind == "simulated"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server: {port: 9000}\ncapacity: {offers_per_request: 2}\n")
    monkeypatch.setenv("EXECBROKER_SERVER__PORT", "9100")
    settings = load_settings(path)
    assert settings.server.port == 9100 and settings.capacity.offers_per_request == 2


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("server: {port: -1}\n", "server.port"),
        ("capacity: {pools: []}\n", "capacity.pools"),
        ("platfrom: {kind: docker}\n", "platfrom"),
        # A misspelt key in a nested section must not be ignored (the protection it names stays off).
        ("platform: {kind: docker, docker: {read_only_root: true}}\n", "platform.docker.read_only_root"),
        ("staging: {max_byte: 10}\n", "staging.max_byte"),
        ("staging: {s3: {endpoints: {'http://x': {verify: false}}}}\n", "verify"),
        ("staging: {rucio: {url: u, account: a, username: n, password: p, rse: X}}\n", "rse"),
        ("- a list\n", "mapping"),
        ("server: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_configuration_names_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert needle in str(info.value)


def test_commands_exit_non_zero_on_bad_configuration(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server: {port: nope}\n")
    for command in (["serve"], ["config", "show"]):
        result = subprocess.run(
            [sys.executable, "-m", "execbroker.cli.main", *command, "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert "server.port" in result.stderr and "Traceback" not in result.stderr


def test_config_show_prints_the_effective_configuration(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text("capacity: {horizon: P2D}\n")
    result = subprocess.run(
        [sys.executable, "-m", "execbroker.cli.main", "config", "show", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    shown = yaml.safe_load(result.stdout)
    assert shown["capacity"]["horizon"] == "P2D" and shown["platform"]["kind"] == "simulated"
