"""The interface every execution platform implements.

Every call is idempotent: the engine may repeat a call after a crash (it holds a lease on the session
while a call runs, and a lease that runs out is taken over). ``state`` is the platform's own record for
one session (container ids, volume names, staged paths); the platform mutates it and the engine
persists it after every call, so a platform keeps nothing in memory that it needs after a restart.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from execbroker.model.components import Connector, Session
from execbroker.model.messages import Message
from execbroker.model.phases import ComponentPhase


@dataclass(slots=True)
class Outcome:
    """What one platform call did."""

    ok: bool = True
    messages: list[Message] = field(default_factory=list)
    #: New phases of individual components (by component uuid), where the call changed them.
    phases: dict[UUID, ComponentPhase] = field(default_factory=dict)
    #: The session's connectors after the call (None: unchanged).
    connectors: list[Connector] | None = None
    #: Facts to record, e.g. measured staging throughput per source: {"bytes": .., "seconds": ..}.
    measurements: list[dict[str, Any]] = field(default_factory=list)
    #: Not finished yet: call again after this many seconds (no worker waits meanwhile).
    retry_after: float | None = None


class RunState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    EXITED = "EXITED"
    MISSING = "MISSING"


@dataclass(slots=True)
class RunStatus:
    state: RunState
    exit_code: int | None = None
    messages: list[Message] = field(default_factory=list)
    connectors: list[Connector] | None = None


class Platform(abc.ABC):
    """An execution backend: simulated, docker, ..."""

    #: The configuration name of the platform (``platform.kind``).
    name: str = "abstract"

    @abc.abstractmethod
    def supports(self, session: Session) -> list[Message]:
        """Messages saying what of ``session`` this platform cannot run (empty: it can)."""

    @abc.abstractmethod
    def preparation_time(self, session: Session) -> timedelta:
        """How long PREPARING will take for ``session`` (data staging, image check)."""

    @abc.abstractmethod
    def release_time(self, session: Session) -> timedelta:
        """How long RELEASING will take for ``session``."""

    @abc.abstractmethod
    async def prepare(self, session: Session, state: dict[str, Any]) -> Outcome:
        """Create storage, stage data, check the image: everything needed before the start."""

    @abc.abstractmethod
    async def start(self, session: Session, state: dict[str, Any]) -> Outcome:
        """Start the executable (at the slot start)."""

    @abc.abstractmethod
    async def status(self, session: Session, state: dict[str, Any]) -> RunStatus:
        """Whether the executable is still running, and how it ended."""

    @abc.abstractmethod
    async def stop(self, session: Session, state: dict[str, Any]) -> Outcome:
        """Stop the executable (cancel, or the booked slot has ended). Safe when not running."""

    @abc.abstractmethod
    async def release(self, session: Session, state: dict[str, Any]) -> Outcome:
        """Remove everything the session left on the platform. Safe to repeat.

        ``ok=False`` when something could not be released cleanly (results lost, a volume left).
        """

    async def logs(self, session: Session, state: dict[str, Any], tail: int = 200) -> str | None:
        """The executable's output so far, when the platform can tell (None: not available)."""
        return None

    def learned_throughput(self) -> dict[str, Any] | None:
        """What the platform has learnt about staging throughput, to be saved (None: nothing)."""
        return None

    async def close(self) -> None:
        """Free clients and connections."""
        return None
