"""ISO-8601 instants, durations and intervals, parsed and written in code (not with the schema's regexes).

The rules follow the Working Draft: an interval is ``start/end`` or ``start/duration`` (``duration/end`` is
tolerated, as the schema regex allows it); repeats are refused; a bare instant means an exact start.
Durations with years or months are refused: they have no fixed length.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from execbroker.model.text import shorten

ZERO = timedelta(0)

#: The longest duration read: longer ones are refused rather than carried into arithmetic that would
#: overflow (a century is far past any horizon or policy limit).
MAX_DURATION = timedelta(days=36_525)
#: The instants read lie in these years (UTC): far enough from Python's year 1 and 9999 that adding or
#: taking away :data:`MAX_DURATION` stays in range.
MIN_YEAR, MAX_YEAR = 1900, 8999

_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?!$)"
    r"(?:(?P<years>\d+(?:[.,]\d+)?)Y)?"
    r"(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)"
    r"(?:(?P<hours>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?"
    r")?$"
)


class TimeSyntaxError(ValueError):
    """A time value that does not parse; ``kind`` says what was expected."""

    def __init__(self, kind: str, text: str, reason: str) -> None:
        super().__init__(f"Unable to parse {kind} [{shorten(text)}]: {reason}")
        self.kind = kind
        self.text = text
        self.reason = reason


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration such as ``PT1H``, ``P1DT2H30M`` or ``PT0.5S``."""
    if not isinstance(text, str):
        raise TimeSyntaxError("duration", str(text), "not a string")
    match = _DURATION.match(text.strip().upper())
    if not match:
        raise TimeSyntaxError("duration", text, "expected a form like PT1H, PT30M or P1DT2H")
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise TimeSyntaxError("duration", text, "years and months have no fixed length; use days")

    def num(name: str) -> float:
        value = parts[name]
        return float(value.replace(",", ".")) if value else 0.0

    seconds = (
        num("weeks") * 604_800
        + num("days") * 86_400
        + num("hours") * 3_600
        + num("minutes") * 60
        + num("seconds")
    )
    if not seconds <= MAX_DURATION.total_seconds():  # also refuses inf and nan
        raise TimeSyntaxError(
            "duration", text, f"longer than {format_duration(MAX_DURATION)}, the longest this broker reads"
        )
    delta = timedelta(
        weeks=num("weeks"),
        days=num("days"),
        hours=num("hours"),
        minutes=num("minutes"),
        seconds=num("seconds"),
    )
    return -delta if parts["sign"] == "-" else delta


@functools.lru_cache(maxsize=4096)
def format_duration(delta: timedelta) -> str:
    """Write a duration the way the examples do: ``PT1H``, ``PT2M10S``, ``P1DT2H``, ``PT0S``."""
    total_us = round(delta.total_seconds() * 1_000_000)
    sign = "-" if total_us < 0 else ""
    total_us = abs(total_us)
    seconds, micros = divmod(total_us, 1_000_000)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if seconds or micros:
        if micros:
            frac = f"{micros:06d}".rstrip("0")
            time_part += f"{seconds}.{frac}S"
        else:
            time_part += f"{seconds}S"
    if time_part:
        out += "T" + time_part
    elif not days:
        out += "T0S"
    return out


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 / ISO-8601 date-time; a value without a zone is taken as UTC."""
    if not isinstance(text, str):
        raise TimeSyntaxError("instant", str(text), "not a string")
    raw = text.strip()
    if not raw or "T" not in raw.upper():
        raise TimeSyntaxError("instant", text, "expected a date and a time, e.g. 2026-01-01T12:00:00Z")
    candidate = raw[:-1] + "+00:00" if raw[-1] in "zZ" else raw
    # Python accepts at most microseconds; the reference emits nanoseconds.
    frac = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", candidate)
    if frac:
        candidate = f"{frac.group(1)}.{frac.group(2)[:6].ljust(6, '0')}{frac.group(3)}"
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        example = "2026-01-01T12:00:00Z or 2026-01-01T13:00:00+01:00"
        raise TimeSyntaxError("instant", text, f"not a valid date and time, e.g. {example}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        years = f"{MIN_YEAR} to {MAX_YEAR}"
        raise TimeSyntaxError("instant", text, f"outside the years {years} this broker reads")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=8192)
def format_instant(value: datetime) -> str:
    """Write an instant in UTC with a ``Z``; fractions only when there are any."""
    value = value.astimezone(UTC)
    # isoformat pads the year to four digits (strftime's %Y does not, below 1000).
    if value.microsecond:
        return value.replace(tzinfo=None).isoformat(timespec="microseconds").rstrip("0") + "Z"
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@dataclass(frozen=True, slots=True)
class Interval:
    """A start window: instants from ``start`` to ``start + width`` (both ends included)."""

    start: datetime
    width: timedelta = ZERO

    @property
    def end(self) -> datetime:
        return self.start + self.width


def parse_interval(text: str) -> Interval:
    """Parse ``start/end``, ``start/duration``, ``duration/end`` or a bare instant (exact start)."""
    if not isinstance(text, str):
        raise TimeSyntaxError("interval", str(text), "not a string")
    raw = text.strip()
    if raw.upper().startswith("R"):
        raise TimeSyntaxError("interval", text, "repeating intervals are not supported")
    parts = raw.split("/")
    if len(parts) == 1:
        return Interval(parse_instant(parts[0]))
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise TimeSyntaxError("interval", text, "expected start/end or start/duration")
    first, second = parts
    if first.upper().startswith(("P", "-P", "+P")):
        if second.upper().startswith(("P", "-P", "+P")):
            raise TimeSyntaxError("interval", text, "a duration alone does not fix a start")
        width = parse_duration(first)
        end = parse_instant(second)
        start = end - width
    elif second.upper().startswith(("P", "-P", "+P")):
        start = parse_instant(first)
        width = parse_duration(second)
    else:
        start = parse_instant(first)
        width = parse_instant(second) - start
    if width < ZERO:
        raise TimeSyntaxError("interval", text, "the interval ends before it starts")
    return Interval(start, width)


def format_interval(interval: Interval) -> str:
    """Write ``start/duration``, e.g. ``2026-01-01T00:00:00Z/PT0S``."""
    return f"{format_instant(interval.start)}/{format_duration(interval.width)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def coerce_duration(value: object) -> object:
    """For configuration validators: ISO-8601 text or a number of seconds becomes a timedelta."""
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value
