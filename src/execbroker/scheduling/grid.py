"""The scheduling grid: instants as integer slot numbers.

Slot ``i`` is the half-open interval ``[EPOCH + i*resolution, EPOCH + (i+1)*resolution)``. The grid is
anchored at the Unix epoch, not at "now", so that every profile and every request agree on where the
slot boundaries are, whenever they were built. All arithmetic is on integer microseconds: float seconds
would put a boundary one microsecond off now and then, and that is exactly where double bookings hide.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    """Microseconds since the epoch; naive datetimes are refused (they have no fixed place in time)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"a scheduling instant needs a time zone: {instant!r}")
    return (instant - EPOCH) // MICROSECOND


class Grid:
    """Conversions between instants and slot numbers for one resolution."""

    __slots__ = ("resolution", "step")

    def __init__(self, resolution: timedelta) -> None:
        step = resolution // MICROSECOND
        if step <= 0:
            raise ValueError(f"the scheduling resolution must be positive, not {resolution}")
        self.resolution = resolution
        self.step: int = step

    def floor(self, instant: datetime) -> int:
        """The slot that contains ``instant``."""
        return micros(instant) // self.step

    def ceil(self, instant: datetime) -> int:
        """The first slot that starts at or after ``instant``."""
        return -(-micros(instant) // self.step)

    def instant(self, index: int) -> datetime:
        """The instant at which slot ``index`` starts."""
        return EPOCH + timedelta(microseconds=index * self.step)

    def slots(self, length: timedelta) -> int:
        """How many whole slots a length covers, rounded up (a length of zero covers none)."""
        return -(-(length // MICROSECOND) // self.step)

    def floor_length(self, length: timedelta) -> timedelta:
        """``length`` rounded down to a whole number of slots."""
        us = length // MICROSECOND
        return timedelta(microseconds=(us // self.step) * self.step)

    def on_grid(self, instant: datetime) -> bool:
        return micros(instant) % self.step == 0

    def round_up(self, instant: datetime) -> datetime:
        """``instant`` itself when on the grid, else the next slot boundary."""
        return self.instant(self.ceil(instant))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grid) and other.step == self.step

    def __hash__(self) -> int:
        return hash(self.step)

    def __repr__(self) -> str:
        return f"Grid({self.resolution!r})"
