"""Following a session until it ends: a live table on a terminal, one line per change otherwise."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from execbroker.cli.output import Output, console
from execbroker.cli.views import labelled_components, session_table
from execbroker.client.sync import Client
from execbroker.model.components import Session
from execbroker.model.times import format_instant, utcnow

#: How many of the session's latest messages the live view shows.
MESSAGES_SHOWN = 3


class Watcher:
    """Remembers when each phase was first seen, so that the view can say "since" for each row."""

    def __init__(self, broker: str) -> None:
        self.broker = broker
        self.session: Session | None = None
        self.phases: dict[str, str | None] = {}
        self.seen: dict[str, datetime] = {}

    def observe(self, session: Session) -> list[tuple[str, str | None]]:
        """Take a new state; return the rows whose phase changed (all of them the first time)."""
        self.session = session
        now = utcnow()
        rows: list[tuple[str, str | None]] = [("session", session.phase.value)]
        rows.extend((label, c.phase.value if c.phase else None) for label, c in labelled_components(session))
        changed: list[tuple[str, str | None]] = []
        for label, phase in rows:
            if label not in self.phases or self.phases[label] != phase:
                self.phases[label] = phase
                self.seen[label] = now
                changed.append((label, phase))
        return changed

    def render(self) -> RenderableType:
        if self.session is None:
            return Text("waiting for the broker...")
        parts: list[RenderableType] = [session_table(self.broker, self.session, self.seen)]
        for message in self.session.meta.messages[-MESSAGES_SHOWN:]:
            parts.append(Text(f"{message.level.value}: {message.rendered}"))
        return Group(*parts)


def follow(client: Client, uuid: str, *, timeout: float | None, output: Output) -> Session:
    """Follow the session to a final phase and return its last state (raises WaitTimeout).

    A table on a terminal is a live view; a table elsewhere is one line per change on stdout; with
    JSON or YAML output the lines go to stderr, keeping stdout for the final document.
    """
    watcher = Watcher(client.base_url)
    out = console()
    if output is not Output.TABLE:
        out = Console(stderr=True, highlight=False, soft_wrap=False, width=200)
    if output is Output.TABLE and out.is_terminal:
        with Live(get_renderable=watcher.render, console=out, refresh_per_second=4, transient=False):
            for session in client.follow(uuid, timeout=timeout):
                watcher.observe(session)
    else:
        for session in client.follow(uuid, timeout=timeout):
            if watcher.session is None:
                out.print(f"session {session.meta.uuid} at {client.base_url}", markup=False)
            # When the broker says the session changed (an ended session's last change is in the past).
            changed = session.meta.modified or utcnow()
            stamp = format_instant(changed.replace(microsecond=0))
            for label, phase in watcher.observe(session):
                indent = "" if label == "session" else "  "
                out.print(f"{stamp} {indent}{label} {phase or '-'}", markup=False)
    assert watcher.session is not None
    return watcher.session
