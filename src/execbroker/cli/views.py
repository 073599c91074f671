"""How offers and sessions look on a terminal (rich tables) and as rows of plain data (JSON, YAML)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from execbroker.client.protocol import SessionSummary
from execbroker.model.components import Component, MinMax, OfferSet, Session
from execbroker.model.times import format_duration, format_instant, utcnow

PHASE_STYLES = {
    "COMPLETED": "green",
    "FAILED": "bold red",
    "CANCELLED": "yellow",
    "REJECTED": "yellow",
    "EXPIRED": "yellow",
    "RUNNING": "bold cyan",
    "AVAILABLE": "cyan",
    "PREPARING": "blue",
    "RELEASING": "blue",
}


def instant(value: datetime | None) -> str:
    return format_instant(value) if value is not None else ""


def clock(value: datetime | None, now: datetime | None = None) -> str:
    """An instant for a table cell: whole seconds, and the time of day alone when it is today (UTC)."""
    if value is None:
        return ""
    text = format_instant(value.replace(microsecond=0))
    return text.split("T", 1)[1] if value.date() == (now or utcnow()).date() else text


def duration(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else ""


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """``in 4m05s`` or ``12s ago``: how far an instant is from now."""
    if value is None:
        return ""
    delta = value - (now or utcnow())
    seconds = int(abs(delta.total_seconds()))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
    return f"in {text}" if delta.total_seconds() >= 0 else f"{text} ago"


def amount(value: MinMax | None) -> int | None:
    """What an offer grants: offers give min == max; the minimum otherwise."""
    if value is None:
        return None
    return value.min if value.min is not None else value.max


def phase_text(phase: str | None) -> Text:
    return Text(phase or "", style=PHASE_STYLES.get(phase or "", ""))


# -- offers --------------------------------------------------------------------------------------


@dataclass(slots=True)
class OfferRow:
    """One offer of one broker, as a table row."""

    broker: str
    offerset: str
    offer: Session

    @property
    def uuid(self) -> str:
        return str(self.offer.meta.uuid)

    @property
    def start(self) -> datetime | None:
        window = self.offer.schedule.available if self.offer.schedule else None
        return window.start.start if window and window.start else None

    @property
    def start_width(self) -> timedelta | None:
        window = self.offer.schedule.available if self.offer.schedule else None
        return window.start.width if window and window.start else None

    @property
    def duration(self) -> timedelta | None:
        window = self.offer.schedule.available if self.offer.schedule else None
        return window.duration if window else None

    @property
    def cores(self) -> int | None:
        return amount(self.offer.compute.cores) if self.offer.compute else None

    @property
    def memory(self) -> int | None:
        return amount(self.offer.compute.memory) if self.offer.compute else None

    @property
    def storage(self) -> int | None:
        sizes = [amount(s.size) for s in self.offer.storage]
        known = [s for s in sizes if s is not None]
        return sum(known) if known else None

    def document(self) -> dict[str, Any]:
        return {
            "broker": self.broker,
            "offerset": self.offerset,
            "offer": self.uuid,
            "url": self.offer.meta.url,
            "phase": self.offer.phase.value,
            "start": instant(self.start) or None,
            "start_window": duration(self.start_width) or None,
            "duration": duration(self.duration) or None,
            "cores": self.cores,
            "memory": self.memory,
            "storage": self.storage,
            "expires": instant(self.offer.expires) or None,
        }


def offer_rows(broker: str, offerset: OfferSet) -> list[OfferRow]:
    return [OfferRow(broker, str(offerset.meta.uuid), offer) for offer in offerset.offers]


def offers_table(rows: list[OfferRow]) -> Table:
    now = utcnow()
    table = Table(
        title=f"{len(rows)} offer(s)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    for name in ("broker", "offer", "start", "duration", "cores", "memory", "storage", "expires"):
        table.add_column(name, no_wrap=name in ("broker", "offer", "start"))
    for row in rows:
        start = clock(row.start)
        if row.start_width:
            start += f" (+{duration(row.start_width)})"
        expires = relative(row.offer.expires, now) if row.offer.expires else ""
        table.add_row(
            row.broker,
            row.uuid,
            start,
            duration(row.duration),
            _number(row.cores),
            _number(row.memory),
            _number(row.storage),
            expires,
        )
    return table


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


# -- sessions ------------------------------------------------------------------------------------


def summary_document(broker: str, row: SessionSummary) -> dict[str, Any]:
    return {
        "broker": broker,
        "uuid": row.uuid,
        "phase": row.phase.value,
        "url": row.url,
        "offerset": row.offerset,
        "owner": row.owner,
        "created": instant(row.created) or None,
        "modified": instant(row.modified) or None,
        "start": instant(row.start) or None,
        "end": instant(row.end) or None,
    }


def sessions_table(broker: str, rows: list[SessionSummary]) -> Table:
    table = Table(
        title=f"{len(rows)} session(s) at {broker}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    for name in ("session", "phase", "start", "end", "created", "owner"):
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(
            row.uuid,
            phase_text(row.phase.value),
            clock(row.start),
            clock(row.end),
            clock(row.created),
            row.owner or "",
        )
    return table


def component_label(component: Component, family: str) -> str:
    return f"{family} {component.label}"


def labelled_components(session: Session) -> list[tuple[str, Component]]:
    """Each component with a label that stays the same across refreshes."""
    out: list[tuple[str, Component]] = []
    if session.executable is not None:
        out.append((component_label(session.executable, "executable"), session.executable))
    if session.compute is not None:
        out.append((component_label(session.compute, "compute"), session.compute))
    out.extend((component_label(s, "storage"), s) for s in session.storage)
    out.extend((component_label(d, "data"), d) for d in session.data)
    return out


def next_step(session: Session, now: datetime) -> str:
    """What the schedule says comes next, and when (for the live view's caption)."""
    schedule = session.schedule
    if schedule is None or session.phase.is_final:
        return ""
    steps: list[tuple[str, datetime | None]] = [
        ("preparing", schedule.preparing.start if schedule.preparing else None),
        (
            "available",
            schedule.available.start.start if schedule.available and schedule.available.start else None,
        ),
        ("releasing", schedule.releasing.start if schedule.releasing else None),
    ]
    if schedule.releasing and schedule.releasing.start and schedule.releasing.duration is not None:
        steps.append(("done", schedule.releasing.start + schedule.releasing.duration))
    for name, at in steps:
        if at is not None and at > now:
            return f"{name} {relative(at, now)}"
    return ""


def session_table(
    broker: str, session: Session, seen: dict[str, datetime] | None = None, now: datetime | None = None
) -> Table:
    """The session and each component: phase, since when (as observed), and its schedule."""
    now = now or utcnow()
    seen = seen or {}
    caption = next_step(session, now)
    title = f"session {session.meta.uuid} at {broker}: {session.phase.value}"
    table = Table(
        title=title,
        title_justify="left",
        caption=caption or None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
    )
    columns = ["component", "phase", "since", "preparing", "available", "releasing"]
    if not seen:
        columns.remove("since")  # a one-off view has seen no changes
    for name in columns:
        table.add_column(name, no_wrap=True)
    rows: list[tuple[str, str | None, Any]] = [("session", session.phase.value, session.schedule)]
    rows.extend(
        (label, c.phase.value if c.phase else None, c.schedule) for label, c in labelled_components(session)
    )
    for label, phase, schedule in rows:
        preparing = available = releasing = ""
        if schedule is not None:
            if schedule.preparing is not None:
                preparing = clock(schedule.preparing.start)
            if schedule.available is not None and schedule.available.start is not None:
                available = clock(schedule.available.start.start)
                if schedule.available.duration is not None:
                    available += f" for {duration(schedule.available.duration)}"
            if schedule.releasing is not None:
                releasing = clock(schedule.releasing.start)
        since = seen.get(label)
        cells: list[str | Text] = [label, phase_text(phase)]
        if seen:
            cells.append(relative(since, now) if since else "")
        table.add_row(*cells, preparing, available, releasing)
    return table
