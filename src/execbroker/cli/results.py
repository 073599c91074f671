"""Printing the state a session command left a session in, and ending with the matching exit code."""

from __future__ import annotations

from typing import NoReturn

import typer

from execbroker.cli.exits import exit_for, say
from execbroker.cli.output import Output, console, emit, session_document
from execbroker.cli.views import duration, instant, session_table
from execbroker.model.components import Session
from execbroker.model.phases import SessionPhase


def one_line(session: Session) -> str:
    """``<uuid> ACCEPTED: available from <start> for <duration>`` (what a verb did, in one line)."""
    text = f"{session.meta.uuid} {session.phase.value}"
    window = session.schedule.available if session.schedule else None
    if window is not None and window.start is not None and not session.phase.is_final:
        text += f": available from {instant(window.start.start)}"
        if window.duration is not None:
            text += f" for {duration(window.duration)}"
    return text


def show(broker: str, session: Session, output: Output, *, detailed: bool = False) -> None:
    if output is not Output.TABLE:
        emit(session_document(session), output)
    elif detailed:
        out = console()
        out.print(session_table(broker, session))
        for message in session.meta.messages:
            out.print(f"{message.level.value}: {message.rendered}", markup=False)
    else:
        console().print(one_line(session), markup=False)


def finish(broker: str, session: Session, output: Output, *, printed: bool) -> NoReturn:
    """End a watch: the final document (for -o json/yaml), a verdict on stderr, the phase's exit code."""
    if output is not Output.TABLE:
        emit(session_document(session), output)
    elif not printed:
        show(broker, session, output, detailed=True)
    say(f"execbroker: session {session.meta.uuid} {session.phase.value}")
    if session.phase is SessionPhase.FAILED:
        for message in session.meta.messages:
            say(f"  - {message.level.value}: {message.rendered}")
    raise typer.Exit(exit_for(session.phase))
