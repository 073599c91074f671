"""The docker platform against the real Docker engine AND Podman's Docker-compatible API.

Every test checks through the engine API (not through the platform) that nothing with the
session label survives release. Images are the local ``localhost/busybox:test``; nothing is
ever pulled from a registry (a missing image uses a ``localhost/`` name that cannot resolve).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import docker
import pytest
from pydantic import ValidationError

from execbroker.model.components import (
    Compute,
    ComputeKind,
    Data,
    DataKind,
    Executable,
    ExecutableKind,
    Meta,
    MinMax,
    Session,
    Storage,
    StorageKind,
    VolumeMount,
)
from execbroker.model.phases import ComponentPhase
from execbroker.platforms.base import RunState, RunStatus
from execbroker.platforms.docker import DockerPlatform
from execbroker.platforms.docker_config import DockerPlatformConfig
from execbroker.platforms.docker_layout import Layout, MountPlan
from execbroker.staging.config import StagingConfig
from execbroker.staging.registry import StagerRegistry
from test_staging_http import FileServer

pytestmark = pytest.mark.docker

LABEL = "org.execbroker.session"
#: Sessions made by this module: swept from the engine after each test, so that a test that
#: fails before its own release leaves nothing behind for the next one.
CREATED: list[str] = []


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest) -> str:
    fixture = "docker_host" if request.param == "docker" else "podman_host"
    host: str = request.getfixturevalue(fixture)
    return host


@pytest.fixture
def api(engine: str) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=engine)
    yield client
    while CREATED:
        flt = {"label": f"{LABEL}={CREATED.pop()}"}
        for container in client.containers.list(all=True, filters=flt):
            container.remove(force=True)
        for volume in client.volumes.list(filters=flt):
            volume.remove(force=True)
    client.close()


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """(allowed data root with one input file, platform work dir)."""
    data_root = tmp_path / "data"
    data_root.mkdir()
    (data_root / "local.txt").write_text("content from a local file\n")
    return data_root, tmp_path / "work"


def make_platform(engine: str, roots: tuple[Path, Path], **config: Any) -> DockerPlatform:
    data_root, work = roots
    staging = StagingConfig(allowed_file_roots=[data_root])
    settings: dict[str, Any] = {"pull": False, "stop_grace_seconds": 2, **config}
    conf = DockerPlatformConfig(base_url=engine, work_dir=work, **settings)
    return DockerPlatform(conf, StagerRegistry.from_config(staging))


def make_session(
    image: str,
    command: list[str],
    data: list[Data] | None = None,
    *,
    spec: dict[str, Any] | None = None,
    cores: int = 1,
    memory: int = 1,
) -> Session:
    storage = Storage(kind=StorageKind.SIMPLE, meta=Meta(uuid=uuid4(), name="scratch"))
    items = data or []
    for item in items:
        item.storage = str(storage.meta.uuid)
    mounts = (
        [VolumeMount(path="/input", mode="READONLY", resources=[items[0].meta.name or ""])] if items else []
    )
    mounts.append(VolumeMount(path="/output", mode="READWRITE", resources=["scratch"]))
    uuid = uuid4()
    CREATED.append(str(uuid))
    return Session(
        meta=Meta(uuid=uuid),
        executable=Executable(
            kind=ExecutableKind.DOCKER_CONTAINER,
            meta=Meta(uuid=uuid4()),
            spec={"image": {"locations": [image]}, "command": command, **(spec or {})},
        ),
        compute=Compute(
            kind=ComputeKind.SIMPLE,
            meta=Meta(uuid=uuid4()),
            cores=MinMax(cores, cores),
            memory=MinMax(memory, memory),
            volumes=mounts,
        ),
        storage=[storage],
        data=items,
    )


def simple_data(name: str, location: str) -> Data:
    return Data(kind=DataKind.SIMPLE, meta=Meta(uuid=uuid4(), name=name), spec={"location": location})


async def wait_exit(platform: DockerPlatform, session: Session, state: dict[str, Any]) -> RunStatus:
    for _ in range(150):
        status = await platform.status(session, state)
        if status.state == RunState.EXITED:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"container did not exit: {status}")


def leftovers(api: docker.DockerClient, session: Session) -> list[str]:
    flt = {"label": f"{LABEL}={session.meta.uuid}"}
    containers = api.containers.list(all=True, filters=flt)
    volumes = api.volumes.list(filters=flt)
    return [c.name for c in containers] + [v.name for v in volumes]


@pytest.mark.parametrize("stage_via", ["mountpoint", "archive"])
def test_run_reads_staged_data_and_release_removes_everything(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path], stage_via: str
) -> None:
    data_root, work = roots
    platform = make_platform(engine, roots, stage_via=stage_via)

    async def scenario(server: FileServer) -> None:
        server.files["/remote.txt"] = b"content from an http server\n"
        data = [
            simple_data("inputs", f"{server.base}/remote.txt"),
            simple_data("local", f"file://{data_root}/local.txt"),
        ]
        session = make_session(
            test_image,
            [
                "sh",
                "-c",
                "cat /input/remote.txt /input/local.txt; echo done > /output/result; echo $GREETING",
            ],
            data,
            spec={"environment": {"GREETING": "hello-env"}},
        )
        assert platform.supports(session) == []
        state: dict[str, Any] = {}
        prepared = await platform.prepare(session, state)
        assert prepared.ok, prepared.messages
        assert prepared.phases[session.storage[0].meta.uuid] == ComponentPhase.AVAILABLE  # type: ignore[index]
        for item in data:
            assert prepared.phases[item.meta.uuid] == ComponentPhase.AVAILABLE  # type: ignore[index]
        assert {m["source"] for m in prepared.measurements} == {
            f"http:127.0.0.1:{server.server.server_address[1]}",
            "file",
        }
        assert set(state["staged"]) == {str(d.meta.uuid) for d in data}
        # prepare again (a retry after a crash) does not stage again
        assert (await platform.prepare(session, state)).measurements == []

        started = await platform.start(session, state)
        assert started.ok, started.messages
        # start again is harmless: same container
        assert (await platform.start(session, state)).ok
        status = await wait_exit(platform, session, state)
        assert status.exit_code == 0 and status.messages == []
        logs = await platform.logs(session, state)
        assert logs is not None
        assert "content from an http server" in logs
        assert "content from a local file" in logs
        assert "hello-env" in logs

        inspected = api.containers.get(state["container"]).attrs["HostConfig"]
        assert inspected["NanoCpus"] == 1_000_000_000
        assert inspected["Memory"] == 1024**3
        assert not inspected.get("Privileged")

        released = await platform.release(session, state)
        assert released.ok, released.messages
        assert leftovers(api, session) == []
        assert not (work / str(session.meta.uuid)).exists()
        # logs survive the container, from state
        assert "content from a local file" in (await platform.logs(session, state) or "")
        # release is repeatable
        assert (await platform.release(session, state)).ok

    with FileServer() as server:
        asyncio.run(scenario(server))
    asyncio.run(platform.close())


def test_failing_command_reports_exit_code_and_log_tail(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots)
    session = make_session(
        test_image,
        ["sh", "-c", "for i in $(seq 1 30); do echo line-$i; done; sleep 0.3; echo oops >&2; exit 3"],
    )

    async def scenario() -> None:
        state: dict[str, Any] = {}
        assert (await platform.prepare(session, state)).ok
        assert (await platform.start(session, state)).ok
        status = await wait_exit(platform, session, state)
        assert status.exit_code == 3
        text = status.messages[0].rendered
        assert status.messages[0].kind == "urn:execution-failed"
        assert "exited with code 3" in text
        assert "oops" in text and "line-30" in text
        assert "line-5\n" not in text  # only the tail
        assert (await platform.release(session, state)).ok
        assert leftovers(api, session) == []
        await platform.close()

    asyncio.run(scenario())


def test_stop_is_quick_and_release_after_a_restart_removes_everything(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    data_root, work = roots
    platform = make_platform(engine, roots, stage_via="archive")
    session = make_session(
        test_image,
        ["sh", "-c", 'trap "exit 143" TERM; echo sleeping; sleep 300 & wait'],
        [simple_data("local", f"file://{data_root}/local.txt")],
    )

    async def scenario() -> None:
        state: dict[str, Any] = {}
        assert (await platform.prepare(session, state)).ok
        assert (await platform.start(session, state)).ok
        assert (await platform.status(session, state)).state == RunState.RUNNING
        began = time.monotonic()
        assert (await platform.stop(session, state)).ok
        assert time.monotonic() - began < 5
        status = await platform.status(session, state)
        assert status.state == RunState.EXITED and status.exit_code == 143
        assert "stopped by the broker" in status.messages[0].rendered
        assert (await platform.stop(session, state)).ok  # stopping again is harmless
        await platform.close()

        # A crash mid-staging leaves a file behind in the work dir.
        stray = work / str(session.meta.uuid) / "staging" / "half"
        stray.mkdir(parents=True)
        (stray / "part").write_text("x")
        assert leftovers(api, session)

        fresh = make_platform(engine, roots)  # the broker restarted and lost its state
        released = await fresh.release(session, {})
        assert released.ok, released.messages
        assert leftovers(api, session) == []
        assert not (work / str(session.meta.uuid)).exists()
        await fresh.close()

    asyncio.run(scenario())


def test_cancel_while_running_stops_and_removes(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots)
    session = make_session(test_image, ["sh", "-c", 'trap "exit 143" TERM; sleep 300 & wait'])

    async def scenario() -> None:
        state: dict[str, Any] = {}
        assert (await platform.prepare(session, state)).ok
        assert (await platform.start(session, state)).ok
        began = time.monotonic()
        assert (await platform.stop(session, state)).ok
        assert (await platform.release(session, state)).ok
        assert time.monotonic() - began < 8
        assert leftovers(api, session) == []
        await platform.close()

    asyncio.run(scenario())


def test_image_digest_is_verified(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots)
    image_id = api.images.get(test_image).id

    async def scenario() -> None:
        wrong = make_session(
            test_image, ["true"], spec={"image": {"locations": [test_image], "digest": "sha256:" + "0" * 64}}
        )
        state: dict[str, Any] = {}
        outcome = await platform.prepare(wrong, state)
        assert not outcome.ok
        assert "digest" in outcome.messages[0].rendered
        assert "image" not in state
        assert (await platform.release(wrong, state)).ok
        assert leftovers(api, wrong) == []

        right = make_session(
            test_image, ["true"], spec={"image": {"locations": [test_image], "digest": image_id}}
        )
        state = {}
        assert (await platform.prepare(right, state)).ok
        assert state["image"] == image_id
        assert (await platform.release(right, state)).ok
        await platform.close()

    asyncio.run(scenario())


def test_absent_image_fails_prepare_without_a_registry(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    absent = f"localhost/execbroker-absent-{uuid4().hex[:8]}:never"

    async def scenario() -> None:
        # With pulling disabled: a clear message at once.
        platform = make_platform(engine, roots)
        session = make_session(absent, ["true"])
        state: dict[str, Any] = {}
        outcome = await platform.prepare(session, state)
        assert not outcome.ok
        assert f"not available here (tried {absent})" in outcome.messages[0].rendered
        assert (await platform.release(session, state)).ok
        await platform.close()
        # With pulling enabled: the pull of a localhost/ name goes to loopback only and fails.
        pulling = make_platform(engine, roots, pull=True, pull_timeout_seconds=60)
        session = make_session(absent, ["true"])
        outcome = await pulling.prepare(session, {})
        assert not outcome.ok
        assert "pull failed" in outcome.messages[0].rendered
        assert (await pulling.release(session, {})).ok
        await pulling.close()
        assert leftovers(api, session) == []

    asyncio.run(scenario())


def test_later_image_location_is_used_when_the_first_is_absent(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots)
    session = make_session(
        test_image, ["echo", "second"], spec={"image": {"locations": ["localhost/nope:1", test_image]}}
    )

    async def scenario() -> None:
        state: dict[str, Any] = {}
        assert (await platform.prepare(session, state)).ok
        assert state["image_location"] == test_image
        assert (await platform.start(session, state)).ok
        assert (await wait_exit(platform, session, state)).exit_code == 0
        assert (await platform.release(session, state)).ok
        await platform.close()

    asyncio.run(scenario())


def test_ports_become_connectors_on_the_host_network(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots, network_mode="host")
    network = {"ports": [{"access": True, "internal": {"port": 18777}, "protocol": "HTTP", "path": "/lab"}]}
    session = make_session(test_image, ["true"], spec={"network": network})

    async def scenario() -> None:
        assert platform.supports(session) == []
        state: dict[str, Any] = {}
        assert (await platform.prepare(session, state)).ok
        started = await platform.start(session, state)
        assert started.connectors is not None
        assert [c.location for c in started.connectors] == ["http://127.0.0.1:18777/lab"]
        assert api.containers.get(state["container"]).attrs["HostConfig"]["NetworkMode"] == "host"
        assert (await platform.release(session, state)).ok
        await platform.close()

    asyncio.run(scenario())


def test_slow_preparation_runs_in_the_background(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    """prepare() answers retry_after while staging runs; release during it cancels and cleans up."""
    platform = make_platform(engine, roots, prepare_wait_seconds=0, prepare_poll_seconds=0.2)

    async def scenario(server: FileServer) -> None:
        server.files["/slow/a.txt"] = b"abcd"  # 4 bytes at 2 bytes/s
        session = make_session(
            test_image, ["cat", "/input/a.txt"], [simple_data("in", f"{server.base}/slow/a.txt")]
        )
        state: dict[str, Any] = {}
        first = await platform.prepare(session, state)
        assert first.ok and first.retry_after == 0.2
        assert "staged" not in state  # nothing half-written reaches the persisted record
        calls = 1
        while (outcome := await platform.prepare(session, state)).retry_after is not None:
            calls += 1
            await asyncio.sleep(0.2)
        assert outcome.ok, outcome.messages
        assert calls >= 3
        assert list(state["staged"]) == [str(session.data[0].meta.uuid)]
        assert (await platform.start(session, state)).ok
        status = await wait_exit(platform, session, state)
        assert status.exit_code == 0
        assert (await platform.logs(session, state)) == "abcd"
        assert (await platform.release(session, state)).ok

        # cancel (release) while the preparation is still running
        other = make_session(test_image, ["true"], [simple_data("in", f"{server.base}/slow/a.txt")])
        ostate: dict[str, Any] = {}
        assert (await platform.prepare(other, ostate)).retry_after is not None
        await asyncio.sleep(0.5)
        assert (await platform.release(other, ostate)).ok
        assert leftovers(api, other) == []
        await platform.close()

    with FileServer() as server:
        asyncio.run(scenario(server))


def test_cancel_while_a_prepare_call_waits_fails_that_call_cleanly(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    """A cancel (release) takes the preparation away while a prepare() call is waiting on it: that call
    answers 'cancelled' instead of raising (a probe saw KeyError in the engine step)."""
    platform = make_platform(engine, roots, prepare_wait_seconds=10, prepare_poll_seconds=0.2)

    async def scenario(server: FileServer) -> None:
        server.files["/slow/b.txt"] = b"abcdefgh"  # 8 bytes at 2 bytes/s
        session = make_session(test_image, ["true"], [simple_data("in", f"{server.base}/slow/b.txt")])
        state: dict[str, Any] = {}
        waiting = asyncio.ensure_future(platform.prepare(session, state))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        assert (await platform.release(session, state)).ok
        outcome = await asyncio.wait_for(waiting, 5)
        assert not outcome.ok and outcome.retry_after is None
        assert "cancelled" in " ".join(m.rendered for m in outcome.messages)
        assert leftovers(api, session) == []
        await platform.close()

    with FileServer() as server:
        asyncio.run(scenario(server))


# ----------------------------------------------------------------------------- hardening

#: Bits of /proc/self/status CapBnd (linux/capability.h); both engines grant these by default.
CAP_CHOWN, CAP_SYS_CHROOT = 0, 18


def run_to_exit(
    platform: DockerPlatform, api: docker.DockerClient, session: Session
) -> tuple[str, dict[str, Any], int | None]:
    """Prepare, start and wait for ``session``; (its logs, the main container's inspect, exit code)."""

    async def scenario() -> tuple[str, dict[str, Any], int | None]:
        state: dict[str, Any] = {}
        prepared = await platform.prepare(session, state)
        assert prepared.ok, prepared.messages
        started = await platform.start(session, state)
        assert started.ok, started.messages
        status = await wait_exit(platform, session, state)
        attrs: dict[str, Any] = api.containers.get(state["container"]).attrs
        logs = await platform.logs(session, state) or ""
        assert (await platform.release(session, state)).ok
        assert leftovers(api, session) == []
        await platform.close()
        return logs, attrs, status.exit_code

    return asyncio.run(scenario())


def log_value(logs: str, name: str) -> str:
    """The value of a ``name=value`` line the container printed."""
    for line in logs.splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"no {name}= line in the output:\n{logs}")


def cap_names(names: list[str] | None) -> set[str]:
    """Capability names as either engine reports them (Docker keeps CAP_, Podman drops it)."""
    return {n.upper().removeprefix("CAP_") for n in names or []}


def engine_default_host_config(api: docker.DockerClient, image: str) -> dict[str, Any]:
    """HostConfig of a container created with no options: what the engine does by itself."""
    container = api.containers.create(image, ["true"], network_mode="none")
    try:
        host: dict[str, Any] = container.attrs["HostConfig"]
        return host
    finally:
        container.remove(force=True)


def test_main_container_is_hardened_by_default(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots)
    session = make_session(
        test_image,
        ["sh", "-c", "echo uid=$(id -u); echo nnp=$(grep NoNewPrivs /proc/self/status | tr -dc 0-9)"],
    )
    logs, attrs, code = run_to_exit(platform, api, session)
    assert code == 0, logs
    host = attrs["HostConfig"]
    assert host["PidsLimit"] == 4096
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert attrs["Config"]["User"] in ("", None)  # the image's user
    assert not host["ReadonlyRootfs"]
    assert not host.get("Privileged")
    # capabilities: the engine's default set (Podman reports its default drops, Docker nothing)
    baseline = engine_default_host_config(api, test_image)
    assert cap_names(host.get("CapDrop")) == cap_names(baseline.get("CapDrop"))
    assert cap_names(host.get("CapAdd")) == cap_names(baseline.get("CapAdd"))
    # effective inside the container
    assert log_value(logs, "nnp") == "1"
    assert log_value(logs, "uid") == "0"  # busybox:test has no USER


def test_configured_user_runs_the_command(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(engine, roots, user="65534:65534", pids_limit=None)
    script = "; ".join(
        [
            "echo uid=$(id -u)",
            "echo gid=$(id -g)",
            "echo x > /output/r && echo output=written || echo output=denied",
        ]
    )
    session = make_session(test_image, ["sh", "-c", script])
    logs, attrs, code = run_to_exit(platform, api, session)
    assert code == 0, logs
    assert attrs["Config"]["User"] == "65534:65534"
    assert log_value(logs, "uid") == "65534"
    assert log_value(logs, "gid") == "65534"
    # The session's storage volume is the user's on both engines (Docker would leave it root's).
    assert log_value(logs, "output") == "written"
    # pids_limit null leaves the engine's default: none on Docker, containers.conf's on Podman
    assert attrs["HostConfig"]["PidsLimit"] != 4096


def test_read_only_root_keeps_tmp_and_volumes_writable_and_drops_capabilities(
    engine: str, api: docker.DockerClient, test_image: str, roots: tuple[Path, Path]
) -> None:
    platform = make_platform(
        engine,
        roots,
        read_only_rootfs=True,
        tmpfs_tmp_size="16m",
        cap_drop=["CHOWN", "CAP_SYS_CHROOT"],
        pids_limit=64,
    )
    script = "; ".join(
        [
            "touch /rootfile 2>/dev/null && echo root=writable || echo root=read-only",
            "echo hello > /tmp/t && echo tmp=$(cat /tmp/t) || echo tmp=failed",
            "echo kept > /output/result && echo output=$(cat /output/result) || echo output=failed",
            "printf '#!/bin/sh\\necho ran\\n' > /tmp/s && chmod +x /tmp/s && echo tmpexec=$(/tmp/s)",
            "echo tmpsize=$(df -k /tmp | tail -n 1 | awk '{print $2}')",
            "echo capbnd=$(grep CapBnd /proc/self/status | tr -d '[:space:]' | cut -d: -f2)",
            "chown 1:1 /tmp/t 2>/dev/null && echo chown=allowed || echo chown=denied",
        ]
    )
    session = make_session(test_image, ["sh", "-c", script])
    logs, attrs, code = run_to_exit(platform, api, session)
    assert code == 0, logs
    host = attrs["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["PidsLimit"] == 64
    assert {"CHOWN", "SYS_CHROOT"} <= cap_names(host["CapDrop"])
    assert "/tmp" in host["Tmpfs"] and "size=16m" in host["Tmpfs"]["/tmp"]
    assert log_value(logs, "root") == "read-only"
    assert log_value(logs, "tmp") == "hello"
    assert log_value(logs, "output") == "kept"  # the session's volumes stay writable
    assert log_value(logs, "tmpexec") == "ran"  # the same on both engines (Docker defaults to noexec)
    assert log_value(logs, "tmpsize") == str(16 * 1024)
    bounding = int(log_value(logs, "capbnd"), 16)
    assert not bounding & (1 << CAP_CHOWN)
    assert not bounding & (1 << CAP_SYS_CHROOT)
    assert log_value(logs, "chown") == "denied"  # root without CAP_CHOWN


# ----------------------------------------------------------------------------- no engine needed


def test_hardening_config_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="pids_limit"):
        DockerPlatformConfig(pids_limit=0)
    for bad in (["net_raw"], ["CAP-NET_RAW"], ["NET RAW"], [""], ["SYS_ADMIN", "sys_ptrace"]):
        with pytest.raises(ValidationError, match="not a capability name"):
            DockerPlatformConfig(cap_drop=bad)
        with pytest.raises(ValidationError, match="not a capability name"):
            DockerPlatformConfig(cap_add=bad)
    with pytest.raises(ValidationError, match="tmpfs_tmp_size"):
        DockerPlatformConfig(tmpfs_tmp_size="lots")
    with pytest.raises(ValidationError, match="user"):
        DockerPlatformConfig(user=" ")
    good = DockerPlatformConfig(cap_drop=["ALL"], cap_add=["CAP_NET_BIND_SERVICE", "CHOWN"], pids_limit=None)
    assert good.cap_drop == ["ALL"] and good.cap_add == ["CAP_NET_BIND_SERVICE", "CHOWN"]
    defaults = DockerPlatformConfig()
    assert (defaults.pids_limit, defaults.no_new_privileges, defaults.user) == (4096, True, None)
    assert (defaults.cap_drop, defaults.cap_add, defaults.read_only_rootfs) == ([], [], False)


def test_hardening_arguments(tmp_path: Path) -> None:
    """What reaches containers.create: nothing the configuration leaves at the engine's default,
    and no /tmp tmpfs over a session volume mounted at /tmp."""
    off = DockerPlatform(DockerPlatformConfig(work_dir=tmp_path, pids_limit=None, no_new_privileges=False))
    assert off._hardening(Layout()) == {}
    on = DockerPlatform(
        DockerPlatformConfig(work_dir=tmp_path, read_only_rootfs=True, cap_add=["CHOWN"], user="1000")
    )
    assert on._hardening(Layout()) == {
        "pids_limit": 4096,
        "security_opt": ["no-new-privileges"],
        "cap_add": ["CHOWN"],
        "user": "1000",
        "read_only": True,
        "tmpfs": {"/tmp": "rw,exec,nosuid,nodev,size=256m"},
    }
    over_tmp = Layout(mounts=[MountPlan(volume="v", target="/tmp", read_only=False)])
    assert "tmpfs" not in on._hardening(over_tmp)
    assert on._hardening(over_tmp)["read_only"] is True


def test_supports_refuses_what_the_platform_cannot_do(tmp_path: Path) -> None:
    platform = DockerPlatform(DockerPlatformConfig(work_dir=tmp_path))
    image = "localhost/busybox:test"
    privileged = make_session(image, ["true"], spec={"privileged": True})
    assert any("Privileged" in m.rendered for m in platform.supports(privileged))
    ports = make_session(
        image, ["true"], spec={"network": {"ports": [{"access": True, "internal": {"port": 80}}]}}
    )
    assert any("does not publish ports" in m.rendered for m in platform.supports(ports))
    notebook = make_session(image, ["true"])
    assert notebook.executable is not None
    notebook.executable.kind = ExecutableKind.JUPYTER_NOTEBOOK
    assert any("jupyter-notebook" in m.rendered for m in platform.supports(notebook))
    no_image = make_session(image, ["true"], spec={"image": {}})
    assert any("image location" in m.rendered for m in platform.supports(no_image))
    dangling = make_session(image, ["true"])
    assert dangling.compute is not None
    dangling.compute.volumes.append(VolumeMount(path="/x", resources=["nothing-by-this-name"]))
    assert any("nothing-by-this-name" in m.rendered for m in platform.supports(dangling))
    outside = make_session(image, ["true"], [simple_data("d", "file:///etc/passwd")])
    assert any("not under a directory" in m.rendered for m in platform.supports(outside))
    assert platform.supports(make_session(image, ["true"])) == []
