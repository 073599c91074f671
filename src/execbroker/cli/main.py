"""The ``execbroker`` command: run the broker, show its configuration, and talk to brokers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from execbroker.cli import booking, sessions, validation
from execbroker.cli.exits import EXIT_CODES_HELP
from execbroker.config import ConfigError, dump_settings, load_settings

app = typer.Typer(
    name="execbroker",
    help="An IVOA Execution Broker: run one (serve), or ask brokers when and where something can run.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="The broker's configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML configuration file (or EXECBROKER_CONFIG)")
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the broker (embedded SQLite and the simulated platform unless configured otherwise)."""
    from execbroker.api.app import create_app
    from execbroker.api.app import serve as run_server
    from execbroker.api.logging import configure_logging

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    try:
        settings = load_settings(config, **({"server": overrides} if overrides else {}))
    except ConfigError as exc:
        typer.echo(f"execbroker: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.logging.level, settings.logging.json_format)
    try:
        application = create_app(settings)
        run_server(application, settings)
    except OSError as exc:
        typer.echo(
            f"execbroker: cannot serve on {settings.server.host}:{settings.server.port}: {exc}", err=True
        )
        raise typer.Exit(1) from None


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the effective configuration (file + environment + defaults) as YAML."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"execbroker: {exc}", err=True)
        raise typer.Exit(2) from None
    sys.stdout.write(dump_settings(settings))


# The client commands (offers, run, accept, reject, watch, cancel, show, logs, sessions, validate).
for _commands in (booking, sessions, validation):
    _commands.register(app)
app.info.epilog = EXIT_CODES_HELP


def main() -> None:
    app()


if __name__ == "__main__":
    main()
