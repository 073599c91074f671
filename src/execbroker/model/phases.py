"""Session and component phases, and the tables that say which moves are legal.

The names are those of v1.0 (``INITIAL``, ``AVAILABLE``); the older dialects' ``PROPOSED`` and
``READY`` are mapped in :mod:`execbroker.wire`, never here.
"""

from __future__ import annotations

from enum import StrEnum


class SessionPhase(StrEnum):
    """The phase of an execution session (an offer before acceptance)."""

    INITIAL = "INITIAL"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    WAITING = "WAITING"
    PREPARING = "PREPARING"
    AVAILABLE = "AVAILABLE"
    RUNNING = "RUNNING"
    RELEASING = "RELEASING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_SESSION_PHASES

    @property
    def holds_capacity(self) -> bool:
        """Whether a session in this phase keeps its reservation in the ledger."""
        return self in LIVE_SESSION_PHASES


class ComponentPhase(StrEnum):
    """The lifecycle phase of one component (executable, compute, storage, data)."""

    INITIALIZING = "INITIALIZING"
    WAITING = "WAITING"
    PREPARING = "PREPARING"
    AVAILABLE = "AVAILABLE"
    RUNNING = "RUNNING"
    RELEASING = "RELEASING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (ComponentPhase.COMPLETED, ComponentPhase.FAILED, ComponentPhase.CANCELLED)


class ConnectorStatus(StrEnum):
    PREPARING = "PREPARING"
    AVAILABLE = "AVAILABLE"
    FINISHED = "FINISHED"


FINAL_SESSION_PHASES = frozenset(
    {
        SessionPhase.REJECTED,
        SessionPhase.EXPIRED,
        SessionPhase.COMPLETED,
        SessionPhase.FAILED,
        SessionPhase.CANCELLED,
    }
)

#: Phases whose reservation counts against capacity.
LIVE_SESSION_PHASES = frozenset(
    {
        SessionPhase.OFFERED,
        SessionPhase.ACCEPTED,
        SessionPhase.WAITING,
        SessionPhase.PREPARING,
        SessionPhase.AVAILABLE,
        SessionPhase.RUNNING,
        SessionPhase.RELEASING,
    }
)

#: Phases after acceptance up to RUNNING: the ones a client may cancel (the draft allows CANCELLED
#: from INITIAL to RUNNING; once RELEASING, the session is ending anyway and ends as it ran).
CANCELLABLE_PHASES = (
    SessionPhase.ACCEPTED,
    SessionPhase.WAITING,
    SessionPhase.PREPARING,
    SessionPhase.AVAILABLE,
    SessionPhase.RUNNING,
)

_ORDER = {phase: index for index, phase in enumerate(SessionPhase)}

#: Every legal move of a session, whoever makes it.
SESSION_TRANSITIONS: dict[SessionPhase, frozenset[SessionPhase]] = {
    SessionPhase.INITIAL: frozenset({SessionPhase.OFFERED, SessionPhase.ACCEPTED, SessionPhase.FAILED}),
    SessionPhase.OFFERED: frozenset({SessionPhase.ACCEPTED, SessionPhase.REJECTED, SessionPhase.EXPIRED}),
    SessionPhase.ACCEPTED: frozenset(
        {
            SessionPhase.WAITING,
            SessionPhase.PREPARING,
            SessionPhase.RELEASING,
            SessionPhase.FAILED,
            SessionPhase.CANCELLED,
        }
    ),
    SessionPhase.WAITING: frozenset(
        {SessionPhase.PREPARING, SessionPhase.RELEASING, SessionPhase.FAILED, SessionPhase.CANCELLED}
    ),
    SessionPhase.PREPARING: frozenset(
        {SessionPhase.AVAILABLE, SessionPhase.RELEASING, SessionPhase.FAILED, SessionPhase.CANCELLED}
    ),
    SessionPhase.AVAILABLE: frozenset(
        {SessionPhase.RUNNING, SessionPhase.RELEASING, SessionPhase.FAILED, SessionPhase.CANCELLED}
    ),
    SessionPhase.RUNNING: frozenset({SessionPhase.RELEASING, SessionPhase.FAILED, SessionPhase.CANCELLED}),
    SessionPhase.RELEASING: frozenset({SessionPhase.COMPLETED, SessionPhase.FAILED}),
    SessionPhase.REJECTED: frozenset(),
    SessionPhase.EXPIRED: frozenset(),
    SessionPhase.COMPLETED: frozenset(),
    SessionPhase.FAILED: frozenset(),
    SessionPhase.CANCELLED: frozenset(),
}

#: What a client may ask for, from which phase (the options a session advertises).
CLIENT_TRANSITIONS: dict[SessionPhase, tuple[SessionPhase, ...]] = {
    SessionPhase.OFFERED: (SessionPhase.ACCEPTED, SessionPhase.REJECTED),
    **{phase: (SessionPhase.CANCELLED,) for phase in CANCELLABLE_PHASES},
}


def can_move(current: SessionPhase, target: SessionPhase) -> bool:
    """True when ``current`` may move to ``target`` (any actor)."""
    return target in SESSION_TRANSITIONS[current]


def client_options(phase: SessionPhase) -> tuple[SessionPhase, ...]:
    """The phases a client may ask for from ``phase`` (empty once final)."""
    return CLIENT_TRANSITIONS.get(phase, ())


def is_forward(current: SessionPhase, target: SessionPhase) -> bool:
    """True when ``target`` comes after ``current`` in the lifecycle order."""
    return _ORDER[target] > _ORDER[current]


COMPONENT_FOR_SESSION: dict[SessionPhase, ComponentPhase] = {
    SessionPhase.INITIAL: ComponentPhase.INITIALIZING,
    SessionPhase.OFFERED: ComponentPhase.INITIALIZING,
    SessionPhase.ACCEPTED: ComponentPhase.INITIALIZING,
    SessionPhase.REJECTED: ComponentPhase.INITIALIZING,
    SessionPhase.EXPIRED: ComponentPhase.INITIALIZING,
    SessionPhase.WAITING: ComponentPhase.WAITING,
    SessionPhase.PREPARING: ComponentPhase.PREPARING,
    SessionPhase.AVAILABLE: ComponentPhase.AVAILABLE,
    SessionPhase.RUNNING: ComponentPhase.RUNNING,
    SessionPhase.RELEASING: ComponentPhase.RELEASING,
    SessionPhase.COMPLETED: ComponentPhase.COMPLETED,
    SessionPhase.FAILED: ComponentPhase.FAILED,
    SessionPhase.CANCELLED: ComponentPhase.CANCELLED,
}
