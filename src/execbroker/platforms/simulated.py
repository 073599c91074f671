"""A simulated platform: configurable preparation, run and release times, and failure injection.

Nothing is run. Preparation and running are deadlines kept in the session's platform state, so no worker
ever waits: the engine asks again when the deadline is due. Failures are injected by configuration
(probabilities, decided per session from its uuid so that a repeat gives the same answer) or by the
request itself: an executable environment variable ``EXECBROKER_SIMULATE_FAIL`` set to ``prepare``,
``run`` or ``release``.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from execbroker.model.components import Connector, DataKind, ExecutableKind, Session
from execbroker.model.messages import COMPONENT_FAILED, Level, Message
from execbroker.model.phases import ComponentPhase, ConnectorStatus
from execbroker.model.times import coerce_duration
from execbroker.platforms.base import Outcome, Platform, RunState, RunStatus

TRIGGER = "EXECBROKER_SIMULATE_FAIL"


class Timing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prepare: timedelta = timedelta(seconds=5)
    run: timedelta = timedelta(seconds=20)
    release: timedelta = timedelta(seconds=2)

    _d = field_validator("prepare", "run", "release", mode="before")(coerce_duration)


class Failures(BaseModel):
    """Probabilities (0..1) that a step fails, and the exit code a failed run reports."""

    model_config = ConfigDict(extra="forbid")
    prepare: float = Field(default=0.0, ge=0, le=1)
    run: float = Field(default=0.0, ge=0, le=1)
    release: float = Field(default=0.0, ge=0, le=1)
    exit_code: int = 1


class SimulatedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: Per executable kind (``docker-container``, ``jupyter-notebook``, ``singularity-container``).
    executables: dict[str, Timing] = Field(
        default_factory=lambda: {
            ExecutableKind.DOCKER_CONTAINER.value: Timing(),
            ExecutableKind.JUPYTER_NOTEBOOK.value: Timing(prepare=timedelta(seconds=10)),
            ExecutableKind.SINGULARITY_CONTAINER.value: Timing(),
        }
    )
    #: Staging time per data item, per data kind; items are staged in parallel.
    data: dict[str, timedelta] = Field(
        default_factory=lambda: {kind.value: timedelta(seconds=5) for kind in DataKind}
    )
    failures: Failures = Field(default_factory=Failures)

    @field_validator("data", mode="before")
    @classmethod
    def _data_durations(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: coerce_duration(v) for k, v in value.items()}
        return value


class SimulatedPlatform(Platform):
    name = "simulated"

    def __init__(self, config: SimulatedConfig | None = None) -> None:
        self.config = config or SimulatedConfig()

    def _timing(self, session: Session) -> Timing:
        kind = session.executable.kind if session.executable else None
        if kind is not None and kind.value in self.config.executables:
            return self.config.executables[kind.value]
        return Timing()

    def supports(self, session: Session) -> list[Message]:
        return []

    def preparation_time(self, session: Session) -> timedelta:
        staging = [self.config.data.get(d.kind.value, timedelta(0)) for d in session.data if d.kind]
        return max([self._timing(session).prepare, *staging])

    def release_time(self, session: Session) -> timedelta:
        return self._timing(session).release

    def _fails(self, session: Session, step: str, probability: float) -> bool:
        if session.executable is not None:
            env = session.executable.spec.get("environment")
            if isinstance(env, dict) and str(env.get(TRIGGER, "")).lower() == step:
                return True
        if probability <= 0:
            return False
        digest = hashlib.sha256(f"{session.meta.uuid}:{step}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < probability

    async def prepare(self, session: Session, state: dict[str, Any]) -> Outcome:
        now = time.time()
        until = state.setdefault("prepare_until", now + self.preparation_time(session).total_seconds())
        if now < until:
            return Outcome(retry_after=until - now)
        if self._fails(session, "prepare", self.config.failures.prepare):
            return Outcome(
                ok=False,
                messages=[Message.make(COMPONENT_FAILED, Level.ERROR, "Simulated preparation failure")],
            )
        phases = {c.meta.uuid: ComponentPhase.AVAILABLE for c in session.components() if c.meta.uuid}
        return Outcome(phases=phases, connectors=self._connectors(session, ConnectorStatus.PREPARING))

    async def start(self, session: Session, state: dict[str, Any]) -> Outcome:
        state.setdefault("run_until", time.time() + self._timing(session).run.total_seconds())
        return Outcome(connectors=self._connectors(session, ConnectorStatus.AVAILABLE))

    async def status(self, session: Session, state: dict[str, Any]) -> RunStatus:
        until = state.get("run_until")
        if until is None:
            return RunStatus(RunState.MISSING)
        if state.get("stopped"):
            return RunStatus(RunState.EXITED, exit_code=143)
        if time.time() < until:
            return RunStatus(RunState.RUNNING)
        if self._fails(session, "run", self.config.failures.run):
            return RunStatus(RunState.EXITED, exit_code=self.config.failures.exit_code)
        return RunStatus(RunState.EXITED, exit_code=0)

    async def stop(self, session: Session, state: dict[str, Any]) -> Outcome:
        state["stopped"] = True
        return Outcome()

    async def release(self, session: Session, state: dict[str, Any]) -> Outcome:
        now = time.time()
        until = state.setdefault("release_until", now + self.release_time(session).total_seconds())
        if now < until:
            return Outcome(retry_after=until - now)
        if self._fails(session, "release", self.config.failures.release):
            return Outcome(
                ok=False,
                messages=[
                    Message.make(
                        COMPONENT_FAILED, Level.ERROR, "Simulated release failure: results could not be saved"
                    )
                ],
            )
        return Outcome()

    @staticmethod
    def _connectors(session: Session, status: ConnectorStatus) -> list[Connector] | None:
        executable = session.executable
        if executable is None:
            return None
        out: list[Connector] = []
        if executable.kind == ExecutableKind.JUPYTER_NOTEBOOK:
            out.append(
                Connector(
                    "uri:jupyter-connector",
                    status,
                    "HTTP",
                    f"http://127.0.0.1:8888/sessions/{session.meta.uuid}",
                )
            )
        network = executable.spec.get("network")
        ports = network.get("ports") if isinstance(network, dict) else None
        for port in ports if isinstance(ports, list) else []:
            if isinstance(port, dict) and port.get("access"):
                internal = port.get("internal") or {}
                number = internal.get("port") if isinstance(internal, dict) else None
                protocol = str(port.get("protocol") or "TCP").upper()
                scheme = (
                    "https" if protocol == "HTTPS" else "http" if protocol == "HTTP" else protocol.lower()
                )
                out.append(
                    Connector(
                        f"uri:{scheme}-connector",
                        status,
                        protocol,
                        f"{scheme}://127.0.0.1:{number}{port.get('path') or ''}",
                    )
                )
        return out or None
