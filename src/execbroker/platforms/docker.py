"""The Docker platform: containers on a Docker Engine, or on Podman's Docker-compatible API.

Every call is idempotent and restart-safe. What the platform made is found through the engine by
label (``<prefix>session=<uuid>``) and by names derived from uuids, never only from memory or
from ``state``: :meth:`DockerPlatform.release` removes every container and volume carrying the
session label and the session's work directory even when ``state`` is empty (a broker that lost
its record, or crashed between a create and the persist of ``state``).

The docker SDK is blocking; each call runs in a thread with a time limit, through one shared
client. Infrastructure trouble (engine unreachable, a call timing out, a 5xx) raises
:class:`DockerUnavailable`, which the engine should treat as "retry later"; a request that
cannot work (image absent, digest mismatch, staging failed, a 4xx on create) returns
``Outcome(ok=False)`` with messages that say why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import docker
import docker.errors
import requests.exceptions
from docker.types import Mount

from execbroker.model.components import (
    Connector,
    Data,
    ExecutableKind,
    Session,
)
from execbroker.model.messages import (
    COMPONENT_FAILED,
    EXECUTABLE_REQUIRED,
    EXECUTION_FAILED,
    INVALID_VALUE,
    POLICY_DENIED,
    Level,
    Message,
)
from execbroker.model.phases import ComponentPhase, ConnectorStatus
from execbroker.platforms.base import Outcome, Platform, RunState, RunStatus
from execbroker.platforms.containers import ContainerSpec, digest_matches, parse_container_spec
from execbroker.platforms.docker_config import DockerPlatformConfig
from execbroker.platforms.docker_layout import Layout, component_key, plan_layout
from execbroker.staging.base import StagingError
from execbroker.staging.config import StagingConfig
from execbroker.staging.registry import StagerRegistry

T = TypeVar("T")

#: Where a helper container sees the volume it copies staged data into.
_STAGE_MOUNT = "/.execbroker-stage"


class DockerUnavailable(RuntimeError):
    """The engine could not be reached or did not answer in time: retry later."""


class _Failed(Exception):
    """A business failure inside prepare/start: becomes Outcome(ok=False)."""

    def __init__(self, message: Message, component: UUID | None = None) -> None:
        super().__init__(message.rendered)
        self.message = message
        self.component = component


def _error(kind: str, template: str, **values: object) -> Message:
    return Message.make(kind, Level.ERROR, template, **values)


class DockerPlatform(Platform):
    name = "docker"

    def learned_throughput(self) -> dict[str, Any] | None:
        return self.stagers.book.to_dict()

    def __init__(
        self,
        config: DockerPlatformConfig | None = None,
        stagers: StagerRegistry | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        self.config = config or DockerPlatformConfig()
        self.stagers = stagers or StagerRegistry.from_config(StagingConfig())
        self._client = client
        self._client_lock = threading.Lock()
        self._podman: bool | None = None
        #: Preparations still running in the background, by session key: (task, its own state copy).
        self._preparing: dict[str, tuple[asyncio.Task[Outcome], dict[str, Any]]] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def _make_client(self) -> docker.DockerClient:
        with self._client_lock:
            if self._client is None:
                self._client = docker.DockerClient(
                    base_url=self.config.base_url,
                    timeout=max(1, int(self.config.call_timeout_seconds)),
                    max_pool_size=self.config.max_pool_size,
                )
            return self._client

    async def _call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
        """Run one blocking SDK call in a thread, with a time limit; map infrastructure errors."""
        limit = self.config.call_timeout_seconds if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), limit)
        except TimeoutError as exc:
            raise DockerUnavailable(f"the container engine did not answer within {limit} s") from exc
        except requests.exceptions.ConnectionError as exc:
            raise DockerUnavailable(f"the container engine cannot be reached: {exc}") from exc
        except docker.errors.DockerException as exc:
            if isinstance(exc, docker.errors.APIError):
                raise
            raise DockerUnavailable(f"the container engine cannot be used: {exc}") from exc

    async def client(self) -> docker.DockerClient:
        if self._client is not None:
            return self._client
        return await self._call(self._make_client)

    def _label(self, name: str) -> str:
        return f"{self.config.label_prefix}{name}"

    def _session_filter(self, key: str, role: str | None = None) -> dict[str, Any]:
        labels = [f"{self._label('session')}={key}"]
        if role:
            labels.append(f"{self._label('role')}={role}")
        return {"label": labels}

    @staticmethod
    def session_key(session: Session) -> str:
        if session.meta.uuid is None:
            raise ValueError("a session needs a uuid before it reaches a platform")
        return str(session.meta.uuid)

    def _container_name(self, key: str) -> str:
        return f"{self.config.name_prefix}-{key}"

    def _work_dir(self, key: str) -> Path:
        return self.config.work_dir / key

    # -- offer-time questions ------------------------------------------------------------------
    def supports(self, session: Session) -> list[Message]:
        problems: list[Message] = []
        executable = session.executable
        if executable is None:
            problems.append(_error(EXECUTABLE_REQUIRED, "A docker platform session needs an executable"))
        elif executable.kind is not ExecutableKind.DOCKER_CONTAINER:
            problems.append(
                _error(
                    INVALID_VALUE,
                    "The docker platform runs docker-container executables, not [${type}]",
                    type=executable.kind.value if executable.kind else executable.kind_uri or "unknown",
                )
            )
        else:
            spec, spec_problems = parse_container_spec(executable.spec)
            problems.extend(spec_problems)
            if spec.privileged:
                problems.append(_error(POLICY_DENIED, "Privileged containers are not run on this platform"))
            if spec.ports and self.config.network_mode != "host":
                problems.append(
                    _error(
                        POLICY_DENIED,
                        "This platform does not publish ports (its containers have no network)",
                    )
                )
        key = str(session.meta.uuid) if session.meta.uuid else "offer"
        problems.extend(plan_layout(session, self.config.name_prefix, key).problems)
        for data in session.data:
            problems.extend(self.stagers.check(data))
        return problems

    def preparation_time(self, session: Session) -> timedelta:
        """Volumes, then data staged one item after another; the image check runs beside them."""
        staging = sum((self.stagers.estimate(d) for d in session.data), timedelta(0))
        setup = timedelta(seconds=self.config.setup_seconds)
        return max(timedelta(seconds=self.config.image_check_seconds), setup + staging)

    def release_time(self, session: Session) -> timedelta:
        return timedelta(seconds=self.config.release_seconds + self.config.stop_grace_seconds)

    # -- prepare ----------------------------------------------------------------------------
    async def prepare(self, session: Session, state: dict[str, Any]) -> Outcome:
        """Prepare in a background task; answer ``retry_after`` while it runs (no worker waits).

        The task works on a copy of ``state`` that is merged back when it has finished, so the
        engine never persists a half-written record. After a restart the task is gone and the
        next call starts again: volumes are found by name, and data already recorded as staged
        is not staged again.
        """
        key = self.session_key(session)
        running = self._preparing.get(key)
        if running is None:
            copy = deepcopy(state)
            task = asyncio.create_task(self._prepare_now(session, copy), name=f"prepare {key}")
            running = self._preparing[key] = (task, copy)
        task, copy = running
        if not task.done():
            await asyncio.wait({task}, timeout=self.config.prepare_wait_seconds)
        if not task.done():
            return Outcome(retry_after=self.config.prepare_poll_seconds)
        # A cancel may have taken the preparation away (and stopped it) while this call waited.
        if self._preparing.get(key) is running:
            del self._preparing[key]
        if task.cancelled():
            return Outcome(ok=False, messages=[_error(EXECUTION_FAILED, "The preparation was cancelled")])
        state.update(copy)
        return task.result()

    async def _cancel_preparation(self, key: str) -> None:
        running = self._preparing.pop(key, None)
        if running is not None and not running[0].done():
            running[0].cancel()
            with contextlib.suppress(BaseException):
                await running[0]

    def _plan(self, session: Session, state: dict[str, Any]) -> tuple[str, ContainerSpec, Layout] | Outcome:
        """The session key, container spec and volume layout, or why there are none."""
        key = self.session_key(session)
        state["session"] = key
        if session.executable is None:
            return Outcome(ok=False, messages=[_error(EXECUTABLE_REQUIRED, "The session has no executable")])
        spec, problems = parse_container_spec(session.executable.spec)
        layout = plan_layout(session, self.config.name_prefix, key)
        if problems or layout.problems:
            return Outcome(ok=False, messages=problems + layout.problems)
        return key, spec, layout

    async def _prepare_now(self, session: Session, state: dict[str, Any]) -> Outcome:
        planned = self._plan(session, state)
        if isinstance(planned, Outcome):
            return planned
        _key, spec, layout = planned
        assert session.executable is not None  # _plan refuses a session without one
        outcome = Outcome()
        image_task = asyncio.create_task(self._resolve_image(spec, state, session.executable.meta.uuid))
        try:
            await self._create_volumes(session, layout, state, outcome)
            await self._stage_all(session, layout, state, image_task, outcome)
            await image_task
        except _Failed as failed:
            image_task.cancel()
            outcome.ok = False
            outcome.messages.append(failed.message)
            if failed.component is not None:
                outcome.phases[failed.component] = ComponentPhase.FAILED
            return outcome
        except BaseException:
            image_task.cancel()
            raise
        if session.executable.meta.uuid is not None:
            outcome.phases[session.executable.meta.uuid] = ComponentPhase.AVAILABLE
        return outcome

    async def _resolve_image(
        self, spec: ContainerSpec, state: dict[str, Any], component: UUID | None = None
    ) -> str:
        """The id of the first present image location that matches digest and platform; pull if none."""
        client = await self.client()
        notes: list[str] = []
        for location in spec.locations:
            try:
                image = await self._call(client.images.get, location)
            except docker.errors.ImageNotFound:
                continue
            except docker.errors.APIError as exc:
                notes.append(f"{location}: {exc.explanation or exc}")
                continue
            problem = self._image_problem(spec, image)
            if problem is None:
                state["image"], state["image_location"] = image.id, location
                return str(image.id)
            notes.append(f"{location}: {problem}")
        if notes and any("digest" in n for n in notes):
            raise _Failed(
                _error(
                    COMPONENT_FAILED,
                    "No image location matches the requested digest ${digest}: ${details}",
                    digest=spec.digest or "",
                    details="; ".join(notes),
                ),
                component,
            )
        if self.config.pull:
            for location in spec.locations:
                try:
                    image = await self._call(
                        client.images.pull, location, timeout=self.config.pull_timeout_seconds
                    )
                except (docker.errors.APIError, DockerUnavailable) as exc:
                    text = exc.explanation if isinstance(exc, docker.errors.APIError) else str(exc)
                    notes.append(f"{location}: pull failed: {text or exc}")
                    continue
                problem = self._image_problem(spec, image)
                if problem is None:
                    state["image"], state["image_location"] = image.id, location
                    return str(image.id)
                notes.append(f"{location}: {problem}")
        raise _Failed(
            _error(
                COMPONENT_FAILED,
                "The image is not available here (tried ${locations})${details}",
                locations=", ".join(spec.locations),
                details=(": " + "; ".join(notes)) if notes else "",
            ),
            component,
        )

    @staticmethod
    def _image_problem(spec: ContainerSpec, image: Any) -> str | None:
        attrs = image.attrs or {}
        if spec.digest and not digest_matches(
            spec.digest, str(image.id), list(attrs.get("RepoDigests") or [])
        ):
            return f"digest {image.id} does not match {spec.digest}"
        if spec.architecture and attrs.get("Architecture") not in (None, "", spec.architecture):
            return f"architecture {attrs.get('Architecture')} is not {spec.architecture}"
        if spec.os and attrs.get("Os") not in (None, "", spec.os):
            return f"os {attrs.get('Os')} is not {spec.os}"
        return None

    async def _create_volumes(
        self, session: Session, layout: Layout, state: dict[str, Any], outcome: Outcome
    ) -> None:
        client = await self.client()
        key = state["session"]
        recorded: dict[str, str] = state.setdefault("volumes", {})
        for plan in layout.volumes:
            try:
                await self._call(client.volumes.get, plan.name)
            except docker.errors.NotFound:
                labels = {
                    self._label("session"): key,
                    self._label("resource"): plan.resource,
                    self._label("role"): "storage",
                }
                try:
                    await self._call(client.volumes.create, name=plan.name, labels=labels)
                except docker.errors.APIError as exc:
                    raise _Failed(
                        _error(
                            COMPONENT_FAILED,
                            "Creating volume [${volume}] failed: ${error}",
                            volume=plan.name,
                            error=exc.explanation or str(exc),
                        )
                    ) from exc
            recorded[plan.resource] = plan.name
            await self._hand_to_user(plan.name)
        for storage in session.storage:
            if storage.meta.uuid is not None:
                outcome.phases[storage.meta.uuid] = ComponentPhase.AVAILABLE

    async def _hand_to_user(self, name: str) -> None:
        """Give a volume's top directory to the configured numeric user, so that it can write there.

        Docker leaves a fresh volume owned by root (Podman hands it to the first container's user).
        Only done for a numeric ``uid[:gid]`` whose volume directory is reachable from here; a user
        name means nothing outside the image, and a remote engine's directories are out of reach.
        """
        owner = _numeric_user(self.config.user)
        if owner is None or self.config.stage_via == "archive":
            return
        mountpoint = await self._mountpoint(name)
        if mountpoint and os.path.isdir(mountpoint):
            with contextlib.suppress(PermissionError):  # not root here: the engine's ownership stays
                await asyncio.to_thread(os.chown, mountpoint, owner[0], owner[1])

    async def _mountpoint(self, name: str) -> str:
        """The host directory the engine keeps a volume in (empty if it says none)."""
        client = await self.client()
        volume = await self._call(client.volumes.get, name)
        return str((volume.attrs or {}).get("Mountpoint") or "")

    async def _volume_dir(self, name: str) -> Path | None:
        """The volume's host directory, when this process may write it directly."""
        if self.config.stage_via == "archive":
            return None
        mountpoint = await self._mountpoint(name)
        usable = bool(mountpoint) and os.path.isdir(mountpoint) and os.access(mountpoint, os.W_OK)
        if not usable and self.config.stage_via == "mountpoint":
            raise _Failed(
                _error(
                    COMPONENT_FAILED,
                    "The host directory of volume [${volume}] is not writable here",
                    volume=name,
                )
            )
        return Path(mountpoint) if usable else None

    async def _stage_all(
        self,
        session: Session,
        layout: Layout,
        state: dict[str, Any],
        image_task: asyncio.Task[str],
        outcome: Outcome,
    ) -> None:
        staged: dict[str, Any] = state.setdefault("staged", {})
        for index, data in enumerate(session.data):
            dkey = component_key(data, index)
            if dkey in staged:
                if data.meta.uuid is not None:
                    outcome.phases[data.meta.uuid] = ComponentPhase.AVAILABLE
                continue
            volume = layout.data_volume[dkey]
            record = await self._stage_one(data, dkey, volume, state, image_task)
            staged[dkey] = record
            outcome.measurements.append(
                {"source": record["source"], "bytes": record["bytes"], "seconds": record["seconds"]}
            )
            if data.meta.uuid is not None:
                outcome.phases[data.meta.uuid] = ComponentPhase.AVAILABLE

    async def _stage_one(
        self, data: Data, dkey: str, volume: str, state: dict[str, Any], image_task: asyncio.Task[str]
    ) -> dict[str, Any]:
        stager = self.stagers.for_kind(data.kind)
        if stager is None:
            raise _Failed(self.stagers.check(data)[0], data.meta.uuid)
        direct = await self._volume_dir(volume)
        target = direct if direct is not None else self._work_dir(state["session"]) / "staging" / _safe(dkey)
        try:
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
            result = await stager.stage(data, target)
        except StagingError as exc:
            raise _Failed(exc.message, data.meta.uuid) from exc
        except OSError as exc:
            raise _Failed(
                _error(
                    COMPONENT_FAILED, "Staging [${name}] failed: ${error}", name=data.label, error=str(exc)
                ),
                data.meta.uuid,
            ) from exc
        self.stagers.record(result)
        if direct is None:
            image = await image_task
            await self._copy_into_volume(image, volume, target, state["session"], dkey)
            await asyncio.to_thread(shutil.rmtree, target, True)
        return {
            "volume": volume,
            "path": result.path.name,
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            "source": result.source,
        }

    async def _copy_into_volume(self, image: str, volume: str, source: Path, key: str, dkey: str) -> None:
        """Copy the contents of ``source`` into ``volume`` with a never-started helper container."""
        client = await self.client()
        name = f"{self.config.name_prefix}-{key}-stage-{_safe(dkey)}"
        await self._remove_container_named(name)
        labels = {self._label("session"): key, self._label("role"): "helper"}
        # The helper is never started, so the main container's hardening (pids limit,
        # no-new-privileges, capabilities) would confine nothing, while a read-only root or
        # another user could change how the engine unpacks the archive into the volume (who owns
        # the files, whether the copy is refused). It is left as it was.
        helper = await self._call(
            client.containers.create,
            image,
            name=name,
            entrypoint=["/.execbroker-never-started"],
            labels=labels,
            network_mode="none",
            mounts=[Mount(_STAGE_MOUNT, volume, type="volume")],
        )
        archive = await asyncio.to_thread(_tar_directory, source)
        try:
            with archive.open("rb") as stream:
                await self._call(
                    helper.put_archive, _STAGE_MOUNT, stream, timeout=self.stagers.config.timeout_seconds
                )
        except docker.errors.APIError as exc:
            raise _Failed(
                _error(
                    COMPONENT_FAILED,
                    "Copying staged data into volume [${volume}] failed: ${error}",
                    volume=volume,
                    error=exc.explanation or str(exc),
                )
            ) from exc
        finally:
            archive.unlink(missing_ok=True)
            await self._remove_container_named(name)

    async def _remove_container_named(self, name: str) -> None:
        client = await self.client()
        try:
            container = await self._call(client.containers.get, name)
        except docker.errors.NotFound:
            return
        with contextlib.suppress(docker.errors.NotFound):
            await self._call(container.remove, force=True)

    # -- run --------------------------------------------------------------------------------
    async def _main_container(self, key: str) -> Any | None:
        client = await self.client()
        try:
            return await self._call(client.containers.get, self._container_name(key))
        except docker.errors.NotFound:
            pass
        found = await self._call(client.containers.list, all=True, filters=self._session_filter(key, "main"))
        return found[0] if found else None

    def _limits(self, session: Session) -> tuple[float, float]:
        compute = session.compute
        cores = self.config.default_cores
        memory = self.config.default_memory_gib
        if compute and compute.cores:
            cores = float(compute.cores.max or compute.cores.min or cores)
        if compute and compute.memory:
            memory = float(compute.memory.max or compute.memory.min or memory)
        return cores, memory

    async def start(self, session: Session, state: dict[str, Any]) -> Outcome:
        planned = self._plan(session, state)
        if isinstance(planned, Outcome):
            return planned
        key, spec, layout = planned
        container = await self._main_container(key)
        if container is None:
            try:
                container = await self._create_main(session, spec, layout, state)
            except _Failed as failed:
                return Outcome(ok=False, messages=[failed.message])
        state["container"] = container.id
        status = (container.attrs.get("State") or {}).get("Status", container.status)
        if status == "created":
            try:
                await self._call(container.start)
            except docker.errors.APIError as exc:
                return Outcome(
                    ok=False,
                    messages=[
                        _error(
                            EXECUTION_FAILED,
                            "The container did not start: ${error}",
                            error=exc.explanation or str(exc),
                        )
                    ],
                )
        outcome = Outcome(connectors=self._connectors(spec, ConnectorStatus.AVAILABLE))
        for component in (session.executable, session.compute):
            if component is not None and component.meta.uuid is not None:
                outcome.phases[component.meta.uuid] = ComponentPhase.RUNNING
        return outcome

    async def _create_main(
        self, session: Session, spec: ContainerSpec, layout: Layout, state: dict[str, Any]
    ) -> Any:
        client = await self.client()
        image = state.get("image")
        if not image:
            image = await self._resolve_image(spec, state)
        cores, memory = self._limits(session)
        key = state["session"]
        labels = {self._label("session"): key, self._label("role"): "main"}
        if session.executable is not None and session.executable.meta.uuid is not None:
            labels[self._label("executable")] = str(session.executable.meta.uuid)
        mounts = [Mount(m.target, m.volume, type="volume", read_only=m.read_only) for m in layout.mounts]
        for mount in layout.mounts:
            try:
                await self._call(client.volumes.get, mount.volume)
            except docker.errors.NotFound as exc:
                raise _Failed(
                    _error(
                        COMPONENT_FAILED,
                        "Volume [${volume}] for [${path}] is missing; was the session prepared?",
                        volume=mount.volume,
                        path=mount.target,
                    )
                ) from exc
        try:
            return await self._call(
                client.containers.create,
                image,
                command=spec.command,
                entrypoint=spec.entrypoint,
                environment=spec.environment or None,
                name=self._container_name(key),
                labels=labels,
                network_mode=self.config.network_mode,
                nano_cpus=int(cores * 1e9),
                mem_limit=int(memory * 1024**3),
                mounts=mounts,
                privileged=False,
                detach=True,
                **self._hardening(layout),
            )
        except docker.errors.Conflict:
            found = await self._main_container(key)
            if found is None:
                raise
            return found
        except docker.errors.APIError as exc:
            raise _Failed(
                _error(
                    EXECUTION_FAILED,
                    "The container could not be created: ${error}",
                    error=exc.explanation or str(exc),
                )
            ) from exc

    def _hardening(self, layout: Layout) -> dict[str, Any]:
        """``containers.create`` arguments that confine the main container, from the configuration.

        ``no-new-privileges`` is the spelling Docker (20.10) and Podman (4.3) both accept through
        the Docker API (both also take ``:true`` and ``=true``; Podman reports the bare form).
        """
        config = self.config
        options: dict[str, Any] = {}
        if config.pids_limit is not None:
            options["pids_limit"] = config.pids_limit
        if config.no_new_privileges:
            options["security_opt"] = ["no-new-privileges"]
        if config.cap_drop:
            options["cap_drop"] = list(config.cap_drop)
        if config.cap_add:
            options["cap_add"] = list(config.cap_add)
        if config.user is not None:
            options["user"] = config.user
        if config.read_only_rootfs:
            options["read_only"] = True
            # Explicit options, so both engines mount the same thing (Docker adds noexec by default).
            if not any(m.target.rstrip("/") == "/tmp" for m in layout.mounts):
                options["tmpfs"] = {"/tmp": f"rw,exec,nosuid,nodev,size={config.tmpfs_tmp_size}"}
        return options

    def _connectors(self, spec: ContainerSpec, status: ConnectorStatus) -> list[Connector] | None:
        if not spec.ports or self.config.network_mode != "host":
            return None
        return [
            Connector(
                kind=f"uri:{p.scheme}-connector",
                status=status,
                protocol=p.protocol.upper(),
                location=f"{p.scheme}://{self.config.public_host}:{p.port}{p.path}",
            )
            for p in spec.ports
        ]

    async def _is_podman(self) -> bool:
        if self._podman is None:
            client = await self.client()
            version = await self._call(client.version)
            names = [str(c.get("Name", "")) for c in version.get("Components") or []]
            self._podman = any("podman" in n.lower() for n in names)
        return self._podman

    async def _log_tail(self, container: Any, lines: int) -> str:
        """The last ``lines`` lines of stdout and stderr.

        Podman 4.3's ``tail`` drops an unterminated last line and joins the line before it to it,
        so with Podman the whole log is read and cut here.
        """
        if lines <= 0:
            return ""
        if await self._is_podman():
            raw = await self._call(container.logs, stdout=True, stderr=True)
            text = bytes(raw).decode("utf-8", errors="replace")
            kept = text.splitlines(keepends=True)[-lines:]
            return "".join(kept)
        raw = await self._call(container.logs, stdout=True, stderr=True, tail=lines)
        return bytes(raw).decode("utf-8", errors="replace")

    async def status(self, session: Session, state: dict[str, Any]) -> RunStatus:
        key = self.session_key(session)
        spec, _ = parse_container_spec(session.executable.spec if session.executable else {})
        container = await self._main_container(key)
        if container is None:
            if "exit_code" in state:
                return self._exited(spec, state)
            return RunStatus(RunState.MISSING)
        await self._call(container.reload)
        current = container.attrs.get("State") or {}
        status = current.get("Status", container.status)
        if status == "created":
            return RunStatus(RunState.PENDING)
        if status in ("running", "restarting", "paused", "removing"):
            return RunStatus(RunState.RUNNING, connectors=self._connectors(spec, ConnectorStatus.AVAILABLE))
        state["exit_code"] = int(current.get("ExitCode", -1))
        state["logs"] = await self._log_tail(container, self.config.kept_log_lines)
        return self._exited(spec, state)

    def _exited(self, spec: ContainerSpec, state: dict[str, Any]) -> RunStatus:
        code = int(state["exit_code"])
        messages: list[Message] = []
        if code != 0:
            tail = "\n".join(str(state.get("logs", "")).splitlines()[-self.config.failure_log_lines :])
            template = (
                "The container was stopped by the broker and exited with code ${code}; last output:\n${tail}"
                if state.get("stopped")
                else "The container exited with code ${code}; last output:\n${tail}"
            )
            messages.append(_error(EXECUTION_FAILED, template, code=code, tail=tail))
        return RunStatus(
            RunState.EXITED,
            exit_code=code,
            messages=messages,
            connectors=self._connectors(spec, ConnectorStatus.FINISHED),
        )

    async def stop(self, session: Session, state: dict[str, Any]) -> Outcome:
        key = self.session_key(session)
        container = await self._main_container(key)
        if container is None:
            return Outcome()
        await self._call(container.reload)
        if (container.attrs.get("State") or {}).get("Status") in ("running", "restarting", "paused"):
            state["stopped"] = True
            grace = self.config.stop_grace_seconds
            try:
                await self._call_stop(container, grace)
            except docker.errors.NotFound:
                return Outcome()
        return Outcome()

    async def _call_stop(self, container: Any, grace: float) -> None:
        """TERM, then KILL after ``grace`` seconds; the call may take that long plus the usual limit."""
        limit = grace + self.config.call_timeout_seconds
        try:
            await asyncio.wait_for(asyncio.to_thread(container.stop, timeout=int(grace)), limit)
        except TimeoutError as exc:
            raise DockerUnavailable(f"stopping the container took more than {limit} s") from exc

    # -- release ----------------------------------------------------------------------------
    async def release(self, session: Session, state: dict[str, Any]) -> Outcome:
        key = self.session_key(session)
        await self._cancel_preparation(key)
        client = await self.client()
        container = await self._main_container(key)
        if container is not None and "logs" not in state:
            with contextlib.suppress(docker.errors.APIError):
                state["logs"] = await self._log_tail(container, self.config.kept_log_lines)
        containers = await self._call(client.containers.list, all=True, filters=self._session_filter(key))
        for found in containers:
            with contextlib.suppress(docker.errors.NotFound):
                await self._call(found.remove, force=True, v=False)
        names = set(state.get("volumes", {}).values())
        volumes = await self._call(client.volumes.list, filters=self._session_filter(key))
        names.update(v.name for v in volumes)
        for name in sorted(names):
            try:
                volume = await self._call(client.volumes.get, name)
                await self._call(volume.remove, force=True)
            except docker.errors.NotFound:
                pass
        await asyncio.to_thread(shutil.rmtree, self._work_dir(key), True)
        left = await self._leftovers(key)
        if left:
            return Outcome(
                ok=False,
                messages=[
                    _error(COMPONENT_FAILED, "Could not remove everything: ${left}", left=", ".join(left))
                ],
            )
        return Outcome()

    async def _leftovers(self, key: str) -> list[str]:
        client = await self.client()
        containers = await self._call(client.containers.list, all=True, filters=self._session_filter(key))
        volumes = await self._call(client.volumes.list, filters=self._session_filter(key))
        left = [f"container {c.name}" for c in containers] + [f"volume {v.name}" for v in volumes]
        if self._work_dir(key).exists():
            left.append(f"directory {self._work_dir(key)}")
        return left

    async def logs(self, session: Session, state: dict[str, Any], tail: int = 200) -> str | None:
        key = self.session_key(session)
        container = await self._main_container(key)
        if container is not None:
            return await self._log_tail(container, tail)
        kept = state.get("logs")
        if isinstance(kept, str):
            return "\n".join(kept.splitlines()[-tail:]) + ("\n" if kept.endswith("\n") else "")
        return None

    async def close(self) -> None:
        for key in list(self._preparing):
            await self._cancel_preparation(key)
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)


def _numeric_user(user: str | None) -> tuple[int, int] | None:
    """``(uid, gid)`` of a ``uid`` or ``uid:gid`` user (gid -1, unchanged, when not given)."""
    if user is None:
        return None
    uid, _, gid = user.partition(":")
    if not uid.isdigit() or (gid and not gid.isdigit()):
        return None
    return int(uid), int(gid) if gid else -1


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in text) or "x"


def _tar_directory(source: Path) -> Path:
    """A tar file of ``source``'s contents (names relative to it), in a temporary file beside it."""
    fd, name = tempfile.mkstemp(suffix=".tar", dir=source.parent)
    os.close(fd)
    with tarfile.open(name, "w") as tar:
        for child in sorted(source.iterdir()):
            tar.add(child, arcname=child.name)
    return Path(name)
