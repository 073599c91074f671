"""Fixtures that connect tests to the shared reference data and to the real backends.

The backends (dockerd, podman, PostgreSQL, moto S3, Rucio) are started once per machine by
``scripts/services-up.sh``, which writes their addresses to ``.ci-work/services.env``;
``scripts/test.sh`` sources that file. A fixture whose backend is missing fails its test with the
reason and what to run: a missing backend must never turn a service-backed test into a skip.

Database choice: ``EXECBROKER_TEST_DB=sqlite`` (default) or ``postgresql``; ``database_url`` gives
every test its own fresh database either way, so the whole suite runs on both.
"""

from __future__ import annotations

import os
import secrets
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent

if (Path(__file__).parent / "app_fixtures.py").exists():
    pytest_plugins: list[str] = ["app_fixtures"]


def _unavailable(reason: str) -> NoReturn:
    pytest.fail(f"{reason} (start the backends: bash scripts/services-up.sh)", pytrace=False)


def require_env(name: str, what: str) -> str:
    """The value of ``name``, or fail the calling test saying which backend is missing."""
    value = os.environ.get(name, "").strip()
    if not value:
        _unavailable(
            f"{what} is not configured: {name} is unset (run scripts/services-up.sh "
            f"and source .ci-work/services.env, or use scripts/test.sh)"
        )
    return value


# ----------------------------------------------------------------------------- reference data


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared/ directory (docs and reference data), beside the repository by default."""
    path = Path(os.environ.get("EXECBROKER_SHARED", str(REPO_ROOT.parent / "shared"))).resolve()
    if not path.is_dir():
        _unavailable(f"shared directory {path} not found (set EXECBROKER_SHARED)")
    return path


@pytest.fixture(scope="session")
def reference_examples(shared_dir: Path) -> Path:
    """shared/reference/examples: the reference documents tests may load."""
    path = shared_dir / "reference" / "examples"
    if not path.is_dir():
        _unavailable(f"reference examples {path} not found")
    return path


# ----------------------------------------------------------------------------- databases


def selected_db_kind() -> str:
    """Which database the suite runs on: 'sqlite' (default) or 'postgresql'."""
    kind = os.environ.get("EXECBROKER_TEST_DB", "sqlite").strip().lower() or "sqlite"
    if kind not in {"sqlite", "postgresql"}:
        raise pytest.UsageError(f"EXECBROKER_TEST_DB must be sqlite or postgresql, not {kind!r}")
    return kind


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Creates an empty database on the server behind ``admin_url``; drops it (forcibly) on exit.

    One database per test keeps tests independent without relying on the code under test to
    clean up after itself, and ``WITH (FORCE)`` drops it even if a test leaked a connection.
    """
    name = f"t_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """SQLAlchemy URL of the throwaway PostgreSQL server's maintenance database."""
    return require_env("EXECBROKER_TEST_PG_URL", "PostgreSQL")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database for this test alone (SQLite file or fresh PG database)."""
    if selected_db_kind() == "postgresql":
        admin_url = request.getfixturevalue("postgres_admin_url")
        with fresh_postgres_database(admin_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'broker.db'}"


# ----------------------------------------------------------------------------- containers


@pytest.fixture(scope="session")
def docker_host() -> str:
    """Docker engine socket URL, e.g. unix:///run/docker.sock."""
    return require_env("EXECBROKER_TEST_DOCKER_HOST", "Docker engine")


@pytest.fixture(scope="session")
def podman_host() -> str:
    """Podman's Docker-compatible API socket URL."""
    return require_env("EXECBROKER_TEST_PODMAN_HOST", "podman service")


@pytest.fixture(scope="session")
def test_image() -> str:
    """A local-only busybox image present in both engines (never pulled from a registry)."""
    return require_env("EXECBROKER_TEST_IMAGE", "container test image")


# ----------------------------------------------------------------------------- S3


def reset_moto(endpoint: str) -> None:
    """Wipes every bucket and object on the moto server, so each test starts from nothing."""
    req = urllib.request.Request(f"{endpoint.rstrip('/')}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status != 200:
            raise RuntimeError(f"moto reset answered HTTP {resp.status}")


@pytest.fixture
def s3_endpoint() -> str:
    """Endpoint URL of the moto S3 server, emptied before the test."""
    endpoint = require_env("EXECBROKER_TEST_S3_URL", "moto S3 server")
    try:
        reset_moto(endpoint)
    except OSError as exc:
        _unavailable(f"moto S3 server at {endpoint} does not answer: {exc}")
    return endpoint


# ----------------------------------------------------------------------------- Rucio


@dataclass(frozen=True)
class RucioEnv:
    """How to reach the test Rucio server, with a client config file and the venv that has rucio."""

    url: str
    account: str
    user: str
    password: str
    rse: str
    cfg: Path
    python: Path


@pytest.fixture(scope="session")
def rucio_env() -> RucioEnv:
    """The Rucio server started by services-up.sh (posix RSE, scope 'test', userpass auth)."""
    env = RucioEnv(
        url=require_env("EXECBROKER_TEST_RUCIO_URL", "Rucio server"),
        account=require_env("EXECBROKER_TEST_RUCIO_ACCOUNT", "Rucio account"),
        user=require_env("EXECBROKER_TEST_RUCIO_USER", "Rucio user"),
        password=require_env("EXECBROKER_TEST_RUCIO_PASSWORD", "Rucio password"),
        rse=require_env("EXECBROKER_TEST_RUCIO_RSE", "Rucio RSE"),
        cfg=Path(require_env("EXECBROKER_TEST_RUCIO_CFG", "Rucio client config")),
        python=Path(require_env("EXECBROKER_TEST_RUCIO_PYTHON", "Rucio venv python")),
    )
    for path in (env.cfg, env.python):
        if not path.exists():
            _unavailable(f"Rucio file {path} does not exist (rerun scripts/services-up.sh)")
    return env
