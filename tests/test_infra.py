"""Proves that each service fixture in conftest.py reaches a real, working backend.

If one of these fails, every test built on that fixture is suspect, so they are kept small and
each checks something only the real service could do (run a container, keep a row, store bytes,
issue a token), not merely that an address is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import boto3
import botocore.config
import docker
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import RucioEnv, fresh_postgres_database, selected_db_kind

pytestmark = pytest.mark.timeout(120)


def _run_container(client: docker.DockerClient, image: str, command: list[str]) -> tuple[int, bytes]:
    """create + start rather than run(): run() would try to pull from a registry if the image were missing."""
    container = client.containers.create(image, command, network_mode="none")
    try:
        container.start()
        status = int(container.wait(timeout=60)["StatusCode"])
        return status, bytes(container.logs())
    finally:
        container.remove(force=True)


def _engine_names(client: docker.DockerClient) -> list[str]:
    return [str(c.get("Name")) for c in client.version().get("Components", [])]


@pytest.mark.docker
def test_docker_engine_runs_the_test_image(docker_host: str, test_image: str) -> None:
    client = docker.DockerClient(base_url=docker_host)
    try:
        assert client.ping() is True
        assert "Engine" in _engine_names(client), "expected the real dockerd, not podman's API"
        status, logs = _run_container(client, test_image, ["sh", "-c", "echo out-$((6*7)); exit 3"])
    finally:
        client.close()
    assert (status, logs) == (3, b"out-42\n")


@pytest.mark.docker
def test_podman_service_runs_the_test_image(podman_host: str, test_image: str) -> None:
    client = docker.DockerClient(base_url=podman_host)
    try:
        assert client.ping() is True
        assert "Podman Engine" in _engine_names(client)
        status, logs = _run_container(client, test_image, ["sh", "-c", "id -u; exit 0"])
    finally:
        client.close()
    assert (status, logs) == (0, b"0\n")


def test_database_url_gives_an_empty_writable_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
            conn.execute(text("INSERT INTO probe (id, note) VALUES (1, 'kept')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM probe WHERE id = 1")).scalar_one() == "kept"
            if selected_db_kind() == "postgresql":
                name = conn.execute(text("SELECT current_database()")).scalar_one()
                assert name == make_url(database_url).database
                assert name.startswith("t_")
    finally:
        engine.dispose()
    assert make_url(database_url).get_backend_name() == selected_db_kind()


@pytest.mark.postgres
def test_fresh_postgres_database_is_created_empty_and_dropped(postgres_admin_url: str) -> None:
    with fresh_postgres_database(postgres_admin_url) as url:
        name = make_url(url).database
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one() == name
            tables = conn.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
            assert tables == 0
        # The connection pool is left open on purpose: the drop must succeed anyway (WITH (FORCE)).
    admin = create_engine(postgres_admin_url)
    try:
        with admin.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name})
            assert left.scalar_one() == 0
    finally:
        admin.dispose()
        engine.dispose()


@pytest.mark.s3
@pytest.mark.parametrize("round_", [1, 2])
def test_moto_s3_put_get_starts_empty(s3_endpoint: str, round_: int) -> None:
    # Run twice: the second round sees no bucket only if the fixture's reset really wiped the first's.
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="infra-check")
    body = f"payload {round_}".encode()
    s3.put_object(Bucket="infra-check", Key="dir/obj.txt", Body=body)
    assert s3.get_object(Bucket="infra-check", Key="dir/obj.txt")["Body"].read() == body


@pytest.mark.rucio
def test_rucio_rest_token_whoami_and_rse(rucio_env: RucioEnv) -> None:
    auth = urllib.request.Request(
        f"{rucio_env.url}/auth/userpass",
        headers={
            "X-Rucio-Account": rucio_env.account,
            "X-Rucio-Username": rucio_env.user,
            "X-Rucio-Password": rucio_env.password,
        },
    )
    with urllib.request.urlopen(auth, timeout=30) as resp:
        assert resp.status == 200
        token = resp.headers["X-Rucio-Auth-Token"]
    assert token and token.startswith(f"{rucio_env.account}-{rucio_env.user}-")
    headers = {"X-Rucio-Auth-Token": token}
    # /accounts/whoami answers 303 to /accounts/<account>; urllib follows it and keeps the token.
    with urllib.request.urlopen(
        urllib.request.Request(f"{rucio_env.url}/accounts/whoami", headers=headers), timeout=30
    ) as resp:
        assert json.loads(resp.read())["account"] == rucio_env.account
    with urllib.request.urlopen(
        urllib.request.Request(f"{rucio_env.url}/rses/", headers=headers), timeout=30
    ) as resp:
        rses = {json.loads(line)["rse"] for line in resp.read().decode().splitlines() if line.strip()}
    assert rucio_env.rse in rses


@pytest.mark.rucio
def test_rucio_client_venv_uses_the_config(rucio_env: RucioEnv) -> None:
    script = (
        "from rucio.client import Client\n"
        "c = Client()\n"
        "print(c.whoami()['account'])\n"
        f"print(sorted(p['scheme'] for p in c.get_protocols({rucio_env.rse!r})))\n"
    )
    done = subprocess.run(
        [str(rucio_env.python), "-c", script],
        env={**os.environ, "RUCIO_CONFIG": str(rucio_env.cfg)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [rucio_env.account, "['file']"]
