"""The messages of an explained NO: which constraint failed, in plain words, and when it could start.

Built here rather than with :meth:`Message.make` because that reads the clock, and the scheduling core
never does: every message carries the ``now`` the caller passed in, so a plan is fully deterministic.
Values are strings (the reference client requires it): instants and durations in ISO-8601.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from execbroker.model.messages import (
    BEYOND_HORIZON,
    EARLIEST_START,
    INVALID_VALUE,
    NO_CAPACITY,
    PLATFORM_TOO_SMALL,
    RESOURCE_LIMIT,
    WINDOW_TOO_SHORT,
    Level,
    Message,
    render,
)
from execbroker.model.times import format_duration, format_instant
from execbroker.scheduling.amounts import UNITS, Amounts


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Amounts):
        return value.describe()
    return str(value)


def _message(kind: str, level: Level, now: datetime, template: str, **values: object) -> Message:
    strings = {name: _text(value) for name, value in values.items()}
    return Message(kind, level, template, strings, now, render(template, strings))


def negative_minimum(now: datetime, resource: str, minimum: int) -> Message:
    return _message(
        INVALID_VALUE,
        Level.ERROR,
        now,
        "The minimum of ${resource} (${min}) cannot be negative.",
        resource=resource,
        min=minimum,
    )


def minimum_below_one(now: datetime, resource: str) -> Message:
    return _message(
        INVALID_VALUE,
        Level.ERROR,
        now,
        "The minimum of ${resource} (0) must be at least 1: a session cannot run without any.",
        resource=resource,
    )


def minimum_above_maximum(now: datetime, resource: str, minimum: int, maximum: int) -> Message:
    return _message(
        INVALID_VALUE,
        Level.ERROR,
        now,
        "The minimum of ${resource} (${min}) is larger than its maximum (${max}).",
        resource=resource,
        min=minimum,
        max=maximum,
    )


def invalid_length(now: datetime, what: str, value: timedelta, rule: str) -> Message:
    """A duration that makes no sense on its own (``rule`` says why, e.g. 'must be longer than zero')."""
    return _message(
        INVALID_VALUE, Level.ERROR, now, "The ${what} (${value}) ${rule}.", what=what, value=value, rule=rule
    )


def maximum_duration_below_duration(now: datetime, duration: timedelta, maximum: timedelta) -> Message:
    return _message(
        INVALID_VALUE,
        Level.ERROR,
        now,
        "The longest acceptable duration (${max}) is shorter than the requested duration (${duration}).",
        duration=duration,
        max=maximum,
    )


def larger_than_platform(now: datetime, resource: str, minimum: int, largest: int, pool: str) -> Message:
    return _message(
        PLATFORM_TOO_SMALL,
        Level.ERROR,
        now,
        "The request needs at least ${min} ${unit}, but the largest pool here (${pool}) has ${total}.",
        resource=resource,
        unit=UNITS[resource],
        min=minimum,
        total=largest,
        pool=pool,
    )


def no_single_pool(now: datetime, needed: Amounts, pool: str, totals: Amounts) -> Message:
    return _message(
        PLATFORM_TOO_SMALL,
        Level.ERROR,
        now,
        "No single pool has ${need} together; the largest pool (${pool}) has ${total}.",
        need=needed,
        pool=pool,
        total=totals,
    )


def over_limit(now: datetime, resource: str, minimum: int, limit: int) -> Message:
    return _message(
        RESOURCE_LIMIT,
        Level.ERROR,
        now,
        "The request needs at least ${min} ${unit}, above the limit of ${limit} per session.",
        resource=resource,
        unit=UNITS[resource],
        min=minimum,
        limit=limit,
    )


def duration_over_limit(now: datetime, duration: timedelta, limit: timedelta) -> Message:
    return _message(
        RESOURCE_LIMIT,
        Level.ERROR,
        now,
        "The requested duration (${duration}) is longer than the limit of ${limit} per session.",
        duration=duration,
        limit=limit,
    )


def duration_beyond_horizon(now: datetime, duration: timedelta, horizon: timedelta) -> Message:
    return _message(
        BEYOND_HORIZON,
        Level.ERROR,
        now,
        "The requested duration (${duration}) is longer than the look-ahead horizon (${horizon}): "
        "sessions must end within it.",
        duration=duration,
        horizon=horizon,
    )


def start_beyond_horizon(
    now: datetime, earliest: datetime, latest: datetime, horizon_end: datetime
) -> Message:
    return _message(
        BEYOND_HORIZON,
        Level.ERROR,
        now,
        "The session could start at ${earliest} at the soonest, but to end within the look-ahead horizon "
        "(by ${horizon_end}) it must start by ${latest}.",
        earliest=earliest,
        latest=latest,
        horizon_end=horizon_end,
    )


def window_closes_before_ready(now: datetime, window_end: datetime, ready: datetime) -> Message:
    return _message(
        WINDOW_TOO_SHORT,
        Level.ERROR,
        now,
        "The start window closes at ${window_end} but preparation needs until ${ready}.",
        window_end=window_end,
        ready=ready,
    )


def no_start_on_grid(
    now: datetime, window_start: datetime, window_end: datetime, ready: datetime, resolution: timedelta
) -> Message:
    return _message(
        WINDOW_TOO_SHORT,
        Level.ERROR,
        now,
        "The start window from ${window_start} to ${window_end}, once preparation is done at ${ready}, "
        "holds no start on the ${resolution} scheduling grid.",
        window_start=window_start,
        window_end=window_end,
        ready=ready,
        resolution=resolution,
    )


def no_free_capacity(
    now: datetime, needed: Amounts, duration: timedelta, first: datetime, last: datetime
) -> Message:
    return _message(
        NO_CAPACITY,
        Level.ERROR,
        now,
        "No pool has ${need} free for ${duration} (with preparation and release) for any start "
        "from ${first} to ${last}.",
        need=needed,
        duration=duration,
        first=first,
        last=last,
    )


def earliest_start(now: datetime, start: datetime, pool: str) -> Message:
    return _message(
        EARLIEST_START,
        Level.INFO,
        now,
        "The earliest it could start is ${start} (pool ${pool}).",
        start=start,
        pool=pool,
    )


def no_start_within_horizon(now: datetime, horizon_end: datetime) -> Message:
    return _message(
        EARLIEST_START,
        Level.INFO,
        now,
        "It could not start at any time within the look-ahead horizon (until ${horizon_end}).",
        horizon_end=horizon_end,
    )
