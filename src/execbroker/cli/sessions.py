"""Looking after sessions: ``watch``, ``cancel``, ``sessions``, ``show``, ``logs``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from execbroker.cli import brokers
from execbroker.cli.exits import EXIT_CODES_HELP, CommandError, ExitCode, reported
from execbroker.cli.options import OneBrokerOption, OutputOption, TimeoutOption, WaitOption
from execbroker.cli.output import Output, console, emit
from execbroker.cli.results import finish, show
from execbroker.cli.views import sessions_table, summary_document
from execbroker.cli.watching import follow
from execbroker.client.sync import Client
from execbroker.model.phases import SessionPhase

SessionArgument = Annotated[
    str, typer.Argument(help="The session's uuid, or its URL (<broker>/sessions/<uuid>).")
]


def watch(
    session: SessionArgument,
    broker: OneBrokerOption = None,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
    wait_timeout: WaitOption = None,
) -> None:
    """Follow a session until it ends: the session and each component, phase and schedule.

    On a terminal the view is live; otherwise one line is printed per change. With -o json|yaml only the
    final session is printed. The exit code tells how it ended: 0 COMPLETED, 4 FAILED, 5 CANCELLED.
    """
    with reported():
        url, uuid = brokers.locate(session, [broker] if broker else None)
        with Client(url, timeout=timeout) as client:
            final = follow(client, uuid, timeout=wait_timeout, output=output)
        finish(url, final, output, printed=output is Output.TABLE)


def cancel(
    session: SessionArgument,
    broker: OneBrokerOption = None,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Cancel an accepted session: the broker stops it and releases what it holds."""
    with reported():
        url, uuid = brokers.locate(session, [broker] if broker else None)
        with Client(url, timeout=timeout) as client:
            show(url, client.cancel(uuid), output)


def show_session(
    session: SessionArgument,
    broker: OneBrokerOption = None,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Show a session (or an offer) now: phase, components, schedule and messages."""
    with reported():
        url, uuid = brokers.locate(session, [broker] if broker else None)
        with Client(url, timeout=timeout) as client:
            show(url, client.session(uuid), output, detailed=True)


def logs(
    session: SessionArgument,
    broker: OneBrokerOption = None,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Print what the session's executable wrote, where the platform keeps it."""
    with reported():
        url, uuid = brokers.locate(session, [broker] if broker else None)
        with Client(url, timeout=timeout) as client:
            text = client.logs(uuid)
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def sessions(
    broker: OneBrokerOption = None,
    phase: Annotated[
        list[str] | None,
        typer.Option("--phase", "-p", help="Only sessions in this phase (repeatable).", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many sessions.")] = 50,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
) -> None:
    """List the broker's sessions."""
    with reported():
        url = brokers.resolve([broker] if broker else None)[0]
        phases: list[SessionPhase] = []
        for name in phase or []:
            try:
                phases.append(SessionPhase(name.upper()))
            except ValueError:
                known = ", ".join(p.value for p in SessionPhase)
                raise CommandError(
                    f"--phase: [{name}] is not a session phase; use one of {known}", ExitCode.USAGE
                ) from None
        with Client(url, timeout=timeout) as client:
            rows = client.sessions(phases or None, limit=limit)
        if output is Output.TABLE:
            console().print(sessions_table(url, rows))
        else:
            emit([summary_document(url, row) for row in rows], output)


def register(app: typer.Typer) -> None:
    app.command(epilog=EXIT_CODES_HELP)(watch)
    app.command(epilog=EXIT_CODES_HELP)(cancel)
    app.command("show", epilog=EXIT_CODES_HELP)(show_session)
    app.command(epilog=EXIT_CODES_HELP)(logs)
    app.command(epilog=EXIT_CODES_HELP)(sessions)
