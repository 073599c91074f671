"""Options shared by the client commands, spelled once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from execbroker.cli.output import Output

BrokerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--broker",
        "-b",
        help="Broker URL (else EXECBROKER_URL, else 'broker:' in ~/.config/execbroker/client.yaml, "
        "else http://127.0.0.1:8080).",
        show_default=False,
    ),
]
OneBrokerOption = Annotated[
    str | None,
    typer.Option(
        "--broker",
        "-b",
        help="Broker URL (else EXECBROKER_URL, the client config, http://127.0.0.1:8080); "
        "not needed when the session is given by its URL.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Output, typer.Option("--output", "-o", case_sensitive=False, help="How to print the result.")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each answer from a broker.")
]
WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait-timeout",
        min=0.1,
        help="Give up watching after this many seconds (default: never).",
        show_default=False,
    ),
]
RequestArgument = Annotated[
    Path,
    typer.Argument(
        metavar="REQUEST",
        help="An execution request, YAML (or JSON if it ends in .json).",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
