"""``validate``: check a request file locally with the decoder a broker uses, without booking anything."""

from __future__ import annotations

from typing import Any

import typer

from execbroker.cli.exits import EXIT_CODES_HELP, ExitCode, reported
from execbroker.cli.options import OutputOption, RequestArgument
from execbroker.cli.output import Output, console, emit
from execbroker.client.errors import InvalidRequest
from execbroker.client.loading import decode_request_document, read_request_file
from execbroker.model.messages import EXECUTABLE_REQUIRED, Level, Message
from execbroker.wire.dialects import Dialect, sniff_dialect


def check(doc: Any) -> tuple[str, list[dict[str, str]], list[Message], list[Message]]:
    """(dialect, structural problems, problems that make a broker say NO, notes) for a parsed document."""
    dialect = sniff_dialect(doc, Dialect.V1_0).value if isinstance(doc, dict) else Dialect.V1_0.value
    try:
        request = decode_request_document(doc)
    except InvalidRequest as exc:
        problems = [{"path": p.path, "message": p.message} for p in exc.problems] or [
            {"path": "/", "message": exc.message}
        ]
        return dialect, problems, [], []
    refusals = list(request.problems)
    if request.executable is None and not any(m.kind == EXECUTABLE_REQUIRED for m in refusals):
        refusals.append(Message.make(EXECUTABLE_REQUIRED, Level.ERROR, "An executable is required"))
    return dialect, [], refusals, list(request.notes)


def validate(request: RequestArgument, output: OutputOption = Output.TABLE) -> None:
    """Check a request file locally: syntax, structure, kinds, ISO-8601 times, an executable.

    The messages are the ones a broker gives, from the same decoder. Platform policy (allowed images,
    limits, capacity) is only known to a broker: ask one with 'execbroker offers'. Exit code 0 when
    the request is valid, 1 when it is not.
    """
    with reported():
        try:
            doc = read_request_file(request)
        except InvalidRequest as exc:
            dialect = None
            problems = [{"path": p.path, "message": p.message} for p in exc.problems] or [
                {"path": "/", "message": exc.message}
            ]
            refusals: list[Message] = []
            notes: list[Message] = []
        else:
            dialect, problems, refusals, notes = check(doc)
        valid = not problems and not refusals
        if output is not Output.TABLE:
            emit(
                {
                    "file": str(request),
                    "valid": valid,
                    "dialect": dialect,
                    "problems": problems,
                    "messages": [_message(m) for m in refusals],
                    "notes": [_message(m) for m in notes],
                },
                output,
            )
        else:
            out = console()
            verdict = "valid" if valid else "NOT valid"
            out.print(f"{request}: {verdict}" + (f" ({dialect} dialect)" if dialect else ""), markup=False)
            for problem in problems:
                out.print(f"  - {problem['path']}: {problem['message']}", markup=False)
            for message in refusals:
                out.print(f"  - {message.level.value}: {message.rendered}", markup=False)
            for message in notes:
                out.print(f"  note: {message.rendered}", markup=False)
    raise typer.Exit(ExitCode.OK if valid else ExitCode.ERROR)


def _message(message: Message) -> dict[str, Any]:
    return {
        "kind": message.kind,
        "level": message.level.value,
        "template": message.template,
        "values": dict(message.values),
        "message": message.rendered,
    }


def register(app: typer.Typer) -> None:
    app.command(epilog=EXIT_CODES_HELP)(validate)
