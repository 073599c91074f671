"""The capacity profile: outward rounding, half-open intervals, updates, sliding, bulk building."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from execbroker.scheduling import Amounts, Booking, Grid, PoolConfig, Profile

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
CAP = Amounts(16, 64, 1000, 2)


def fresh(span: timedelta = timedelta(days=1)) -> Profile:
    return Profile(CAP, T0, MIN, span)


# ------------------------------------------------------------------------------------------ amounts


def test_amounts_arithmetic_and_comparison() -> None:
    a, b = Amounts(4, 8, 10, 1), Amounts(1, 2, 3, 0)
    assert a + b == Amounts(5, 10, 13, 1)
    assert a - b == Amounts(3, 6, 7, 1)
    assert b.fits_within(a) and not a.fits_within(b)
    assert (b - a).is_negative() and not a.is_negative()
    assert a.minimum(Amounts(9, 1, 99, 0)) == Amounts(4, 1, 10, 0)
    assert Amounts.from_array(a.as_array()) == a
    assert list(a) == [4, 8, 10, 1]
    assert a.describe() == "4 cores, 8 GiB of memory, 10 GiB of storage, 1 GPUs"
    assert b.describe() == "1 cores, 2 GiB of memory, 3 GiB of storage"


def test_pool_totals_are_amounts() -> None:
    assert PoolConfig(name="p", cores=2, memory=3, storage=4, gpus=1).totals == Amounts(2, 3, 4, 1)


# ------------------------------------------------------------------------------------------ grid


def test_grid_is_anchored_at_the_epoch() -> None:
    grid = Grid(MIN)
    t = T0 + timedelta(seconds=30)
    assert grid.instant(grid.floor(t)) == T0
    assert grid.instant(grid.ceil(t)) == T0 + MIN
    assert grid.floor(T0) == grid.ceil(T0)
    assert grid.on_grid(T0) and not grid.on_grid(t)
    assert grid.round_up(t) == T0 + MIN and grid.round_up(T0) == T0
    assert grid.slots(timedelta(seconds=61)) == 2 and grid.slots(timedelta(0)) == 0
    assert grid.floor_length(timedelta(seconds=119)) == MIN
    # Another time zone names the same instant and so the same slot.
    other = t.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+05:30").tzinfo)
    assert grid.floor(other) == grid.floor(t)


def test_grid_refuses_naive_times_and_zero_resolution() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Grid(MIN).floor(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="positive"):
        Grid(timedelta(0))


# ------------------------------------------------------------------------------------------ profile


def test_an_off_grid_booking_holds_every_slot_it_touches() -> None:
    profile = fresh()
    profile.add(T0 + timedelta(seconds=30), T0 + timedelta(seconds=90), Amounts(4, 0, 0))
    assert profile.peak(T0, T0 + MIN) == Amounts(4, 0, 0)
    assert profile.peak(T0 + MIN, T0 + 2 * MIN) == Amounts(4, 0, 0)
    assert profile.peak(T0 + 2 * MIN, T0 + 3 * MIN) == Amounts()
    assert profile.peak(T0 - MIN, T0) == Amounts()


def test_intervals_are_half_open() -> None:
    profile = fresh()
    profile.add(T0, T0 + HOUR, Amounts(16, 64, 0))
    assert profile.free(T0 + HOUR, T0 + 2 * HOUR) == CAP
    assert profile.free(T0 + HOUR - timedelta(seconds=1), T0 + 2 * HOUR).cores == 0


def test_back_to_back_bookings_do_not_overlap() -> None:
    profile = fresh()
    profile.add(T0, T0 + HOUR, Amounts(10, 0, 0))
    profile.add(T0 + HOUR, T0 + 2 * HOUR, Amounts(10, 0, 0))
    assert profile.peak(T0, T0 + 2 * HOUR).cores == 10
    assert not profile.exceeds_capacity()


def test_peak_and_free_over_overlapping_bookings() -> None:
    profile = fresh()
    profile.add(T0, T0 + 2 * HOUR, Amounts(4, 8, 100, 0))
    profile.add(T0 + HOUR, T0 + 3 * HOUR, Amounts(2, 30, 0, 1))
    assert profile.peak(T0, T0 + 3 * HOUR) == Amounts(6, 38, 100, 1)
    assert profile.free(T0 + 2 * HOUR, T0 + 3 * HOUR) == CAP - Amounts(2, 30, 0, 1)
    assert profile.peak(T0, T0) == Amounts()  # an empty interval uses nothing


def test_add_then_remove_restores_the_state() -> None:
    profile = fresh()
    profile.add(T0, T0 + HOUR, Amounts(1, 1, 1, 0))
    before = profile.copy()
    profile.add(T0 + timedelta(seconds=7), T0 + timedelta(hours=5, seconds=3), Amounts(3, 5, 7, 1))
    assert profile != before
    profile.remove(T0 + timedelta(seconds=7), T0 + timedelta(hours=5, seconds=3), Amounts(3, 5, 7, 1))
    assert profile == before


def test_removing_what_was_never_added_is_refused_and_changes_nothing() -> None:
    profile = fresh()
    profile.add(T0, T0 + HOUR, Amounts(2, 0, 0))
    before = profile.copy()
    with pytest.raises(ValueError, match="never added"):
        profile.remove(T0, T0 + 2 * HOUR, Amounts(2, 0, 0))
    assert profile == before


def test_bad_intervals_and_amounts_are_refused() -> None:
    profile = fresh()
    with pytest.raises(ValueError, match="before it starts"):
        profile.add(T0 + HOUR, T0, Amounts(1))
    with pytest.raises(ValueError, match="negative"):
        profile.add(T0, T0 + HOUR, Amounts(-1))
    with pytest.raises(ValueError, match="negative"):
        Profile(Amounts(-1), T0, MIN, HOUR)
    profile.add(T0 + timedelta(seconds=30), T0 + timedelta(seconds=30), Amounts(5))  # empty: no-op
    assert profile == fresh()


def test_a_booking_past_the_end_grows_the_arrays() -> None:
    profile = fresh(span=HOUR)
    assert profile.end == T0 + HOUR
    profile.add(T0 + 2 * HOUR, T0 + 3 * HOUR, Amounts(5))
    assert profile.end >= T0 + 3 * HOUR
    assert profile.peak(T0 + 2 * HOUR, T0 + 3 * HOUR).cores == 5
    assert profile.peak(T0 + 3 * HOUR, T0 + 10 * HOUR).cores == 0  # beyond the arrays: unused


def test_the_past_is_dropped() -> None:
    profile = fresh()
    profile.add(T0 - HOUR, T0 + HOUR, Amounts(3))
    assert profile.peak(T0, T0 + HOUR).cores == 3
    assert profile.peak(T0 - HOUR, T0).cores == 0
    profile.remove(T0 - HOUR, T0 + HOUR, Amounts(3))
    assert profile == fresh()


def test_shift_slides_forward_and_keeps_the_length() -> None:
    profile = fresh(span=4 * HOUR)
    profile.add(T0, T0 + HOUR, Amounts(1))
    profile.add(T0 + 2 * HOUR, T0 + 3 * HOUR, Amounts(7))
    length = profile.used.shape[1]
    profile.shift(T0 + 90 * MIN + timedelta(seconds=20))
    assert profile.origin == T0 + 90 * MIN
    assert profile.used.shape[1] == length
    assert profile.peak(T0 + 2 * HOUR, T0 + 3 * HOUR).cores == 7
    assert int(profile.used[0].sum()) == 7 * 60
    with pytest.raises(ValueError, match="forward"):
        profile.shift(T0)
    profile.shift(T0 + timedelta(days=3))
    assert int(profile.used.sum()) == 0


def test_used_and_usage_are_read_only() -> None:
    profile = fresh()
    profile.add(T0, T0 + MIN, Amounts(1))
    with pytest.raises(ValueError):
        profile.used[0, 0] = 9
    origin = profile.origin_index
    view = profile.usage(origin, origin + 3)
    assert view.tolist()[0] == [1, 0, 0]
    with pytest.raises(ValueError):
        view[0, 0] = 9
    padded = profile.usage(origin - 2, origin + 1)  # before the origin and inside: zero-padded copy
    assert padded[0].tolist() == [0, 0, 1]


def test_exceeds_capacity_detects_overbooking() -> None:
    profile = fresh()
    profile.add(T0, T0 + HOUR, Amounts(16, 64, 1000, 2))
    assert not profile.exceeds_capacity()
    profile.add(T0 + 30 * MIN, T0 + HOUR, Amounts(0, 1, 0, 0))
    assert profile.exceeds_capacity()


def test_from_bookings_equals_adding_one_by_one() -> None:
    rng = np.random.default_rng(3)
    bookings = []
    for _ in range(300):
        start = T0 + timedelta(seconds=int(rng.integers(-7200, 3 * 86400)))
        length = timedelta(seconds=int(rng.integers(0, 20000)))
        amounts = Amounts(*(int(v) for v in rng.integers(0, 5, size=4)))
        bookings.append(Booking(start, start + length, amounts))
    bulk = Profile.from_bookings(CAP, T0, MIN, timedelta(days=1), bookings)
    single = fresh()
    for booking in bookings:
        single.add_booking(booking)
    assert bulk == single
    for booking in bookings:
        single.remove_booking(booking)
    assert single == fresh()
    assert Profile.from_bookings(CAP, T0, MIN, HOUR, []) == Profile(CAP, T0, MIN, HOUR)


def test_origin_is_floored_to_the_grid() -> None:
    profile = Profile(CAP, T0 + timedelta(seconds=59), MIN, HOUR)
    assert profile.origin == T0
    assert profile.resolution == MIN
