"""Exit codes, and the one place where errors become plain words on stderr instead of tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import typer

from execbroker.client.errors import BrokerError, Rejected, SessionFailed
from execbroker.model.phases import SessionPhase


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NO = 3
    FAILED = 4
    CANCELLED = 5


EXIT_CODES_HELP = (
    "Exit codes: 0 done (a watched session COMPLETED); 1 error (broker down, refused, invalid input); "
    "2 usage; 3 the broker answered NO; 4 the session FAILED; 5 the session was CANCELLED "
    "(or REJECTED, or its offer EXPIRED)."
)

_PHASE_EXITS = {
    SessionPhase.COMPLETED: ExitCode.OK,
    SessionPhase.FAILED: ExitCode.FAILED,
    SessionPhase.CANCELLED: ExitCode.CANCELLED,
    SessionPhase.REJECTED: ExitCode.CANCELLED,
    SessionPhase.EXPIRED: ExitCode.CANCELLED,
}


def exit_for(phase: SessionPhase) -> ExitCode:
    """The exit code for a session that reached ``phase`` (0 for a phase that is not final)."""
    return _PHASE_EXITS.get(phase, ExitCode.OK)


class CommandError(Exception):
    """A problem of the command itself (bad configuration, unusable argument), with its exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def say(text: str) -> None:
    """A diagnostic line on stderr (never markup: messages quote [values] in brackets)."""
    typer.echo(text, err=True)


def report(exc: BrokerError, prefix: str = "execbroker") -> None:
    say(f"{prefix}: {exc.message}")
    for line in exc.details():
        if line != exc.message:
            say(f"  - {line}")


@contextmanager
def reported() -> Iterator[None]:
    """Run a command body; turn client errors into a message on stderr and the matching exit code."""
    try:
        yield
    except Rejected as exc:
        report(exc, "execbroker: the broker answered NO")
        raise typer.Exit(ExitCode.NO) from None
    except SessionFailed as exc:
        report(exc)
        raise typer.Exit(ExitCode.FAILED) from None
    except BrokerError as exc:
        report(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    except CommandError as exc:
        say(f"execbroker: {exc.message}")
        raise typer.Exit(exc.code) from None
    except KeyboardInterrupt:
        say("execbroker: interrupted")
        raise typer.Exit(130) from None
