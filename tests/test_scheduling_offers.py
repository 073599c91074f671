"""Offer generation: worked examples and the edge cases of the issue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from execbroker.model import messages as kinds
from execbroker.model.times import format_instant
from execbroker.scheduling import (
    Amounts,
    Bounds,
    CapacityConfig,
    Demand,
    LimitsConfig,
    Plan,
    PoolConfig,
    Profile,
    SlotRequest,
    generate,
    generate_for,
)

NOW = datetime(2026, 3, 1, 10, 0, 20, tzinfo=UTC)  # 20 s past a grid instant on purpose
GRID0 = datetime(2026, 3, 1, 10, 1, tzinfo=UTC)  # the first grid instant after NOW
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
RES = MIN
HORIZON = timedelta(days=7)
DEFAULT = PoolConfig(name="default", cores=16, memory=64, storage=1000)


def profiles_for(pools: Sequence[PoolConfig]) -> dict[str, Profile]:
    return {pool.name: Profile(pool.totals, NOW, RES, HORIZON + timedelta(days=2)) for pool in pools}


def run(
    req: SlotRequest,
    profiles: dict[str, Profile] | None = None,
    pools: Sequence[PoolConfig] = (DEFAULT,),
    limits: LimitsConfig | None = None,
    **kwargs: object,
) -> Plan:
    profiles = profiles if profiles is not None else profiles_for(pools)
    return generate(
        profiles,
        pools,
        limits or LimitsConfig(),
        req,
        NOW,
        RES,
        HORIZON,
        **kwargs,  # type: ignore[arg-type]
    )


def request(**fields: object) -> SlotRequest:
    values: dict[str, object] = {"window_start": NOW, "window_width": 4 * HOUR, "duration": HOUR}
    values.update(fields)
    return SlotRequest(**values)  # type: ignore[arg-type]


def kinds_of(plan: Plan) -> list[str]:
    assert not plan.slots
    return [message.kind for message in plan.reasons]


# ------------------------------------------------------------------------------------------ offers


def test_empty_platform_gives_now_plus_1h_plus_2h_and_a_longer_variant() -> None:
    plan = run(request())
    assert plan.ok and not plan.reasons
    got = [(slot.start - GRID0, slot.duration) for slot in plan.slots]
    assert got == [(timedelta(0), HOUR), (timedelta(0), 2 * HOUR), (HOUR, HOUR), (2 * HOUR, HOUR)]
    # Without maximums, every slot gets the minimum (the defaults: 1 core, 1 GiB).
    assert {slot.amounts for slot in plan.slots} == {Amounts(1, 1, 0, 0)}
    assert {slot.pool for slot in plan.slots} == {"default"}


def test_slot_fields_cover_preparation_and_release() -> None:
    plan = run(request(preparation=timedelta(seconds=90), release=timedelta(seconds=10)))
    first = plan.slots[0]
    assert first.start == NOW.replace(second=0) + 2 * MIN  # now + 90 s = 10:01:50, up to 10:02
    assert first.preparing_start == first.start - timedelta(seconds=90)
    assert first.end == first.start + first.duration
    assert first.release_end == first.end + timedelta(seconds=10)
    assert first.booking.start == first.preparing_start and first.booking.end == first.release_end
    assert first.booking.amounts == first.amounts


def test_maximums_are_filled_from_what_is_free_and_capped_per_session() -> None:
    demand = Demand(cores=Bounds(2, 12), memory=Bounds(4, 200), storage=Bounds(10, 20))
    plan = run(request(demand=demand, count=1))
    assert plan.slots[0].amounts == Amounts(12, 64, 20, 0)
    plan = run(request(demand=demand, count=1), limits=LimitsConfig(max_cores=8, max_memory=32))
    assert plan.slots[0].amounts == Amounts(8, 32, 20, 0)


def test_amounts_between_min_and_max_follow_free_capacity() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW, NOW + 10 * HOUR, Amounts(11, 0, 0))
    plan = run(request(demand=Demand(cores=Bounds(2, 8)), count=1), profiles)
    assert plan.slots[0].amounts.cores == 5


def test_larger_variant_when_the_first_slot_got_less_than_the_maximum() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW, GRID0 + 2 * HOUR, Amounts(12, 0, 0))
    plan = run(request(demand=Demand(cores=Bounds(2, 8)), window_width=6 * HOUR), profiles)
    assert plan.slots[0].start == GRID0 and plan.slots[0].amounts.cores == 4
    larger = [slot for slot in plan.slots if slot.amounts.cores == 8]
    assert larger and larger[0].start >= GRID0 + 2 * HOUR


def test_minimum_waits_for_the_drop_point_where_bookings_end() -> None:
    profiles = profiles_for([DEFAULT])
    ends = GRID0 + timedelta(minutes=42)
    profiles["default"].add(NOW, ends, Amounts(14, 0, 0))
    plan = run(request(demand=Demand(cores=Bounds(4))), profiles)
    assert plan.slots[0].start == ends
    assert all(slot.amounts.cores == 4 for slot in plan.slots)


def test_back_to_back_a_slot_starts_exactly_when_a_booking_ends() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW, GRID0 + HOUR, Amounts(16, 64, 1000))
    plan = run(request(window_width=timedelta(0), window_start=GRID0 + HOUR), profiles)
    assert plan.slots[0].start == GRID0 + HOUR


def test_the_window_end_is_inclusive_and_honoured() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW, GRID0 + HOUR, Amounts(16, 64, 1000))
    plan = run(request(window_width=HOUR + MIN - timedelta(seconds=20)), profiles)  # closes at GRID0+1h
    assert [slot.start for slot in plan.slots] == [GRID0 + HOUR, GRID0 + HOUR]  # base and longer
    assert plan.slots[1].duration == 2 * HOUR


def test_starts_lie_in_the_window_and_on_the_grid() -> None:
    start = NOW + timedelta(hours=5, seconds=7)
    plan = run(request(window_start=start, window_width=3 * HOUR))
    assert plan.slots
    for slot in plan.slots:
        assert start <= slot.start <= start + 3 * HOUR
        assert slot.start.second == 0 and slot.start.microsecond == 0


def test_exact_start_on_the_grid_is_kept_by_every_slot() -> None:
    at = GRID0 + 3 * HOUR
    plan = run(request(window_start=at, window_width=timedelta(0), demand=Demand(cores=Bounds(1, 2))))
    assert plan.slots and all(slot.start == at for slot in plan.slots)
    assert len({slot.identity for slot in plan.slots}) == len(plan.slots)


def test_exact_start_off_the_grid_is_honoured_exactly_and_booked_outward() -> None:
    at = GRID0 + timedelta(hours=3, seconds=25)
    plan = run(request(window_start=at, window_width=timedelta(0), count=1))
    (slot,) = plan.slots
    assert slot.start == at
    profile = profiles_for([DEFAULT])["default"]
    profile.add_booking(slot.booking)
    slot_start = at.replace(second=0)
    assert profile.peak(slot_start, slot_start + MIN).cores == 1  # the partial slot is held whole


def test_a_window_narrower_than_a_slot_between_grid_instants_uses_its_start() -> None:
    at = GRID0 + timedelta(hours=1, seconds=10)
    plan = run(request(window_start=at, window_width=timedelta(seconds=30)))
    assert plan.slots and all(slot.start == at for slot in plan.slots)


def test_window_shorter_than_the_duration_is_fine_the_window_is_for_starts() -> None:
    plan = run(request(window_width=30 * MIN, duration=2 * HOUR))
    assert plan.slots
    for slot in plan.slots:
        assert NOW <= slot.start <= NOW + 30 * MIN
        assert slot.duration >= 2 * HOUR


def test_longer_variant_stops_before_the_next_booking() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(GRID0 + 90 * MIN, GRID0 + 10 * HOUR, Amounts(16, 64, 1000))
    plan = run(request(window_width=30 * MIN, count=3), profiles)
    assert (GRID0, 90 * MIN) in [(slot.start, slot.duration) for slot in plan.slots]
    assert all(slot.release_end <= GRID0 + 90 * MIN for slot in plan.slots)


def test_a_longer_variant_cut_by_the_horizon_ends_on_the_grid() -> None:
    # The horizon ends 20 s past a grid instant (it is counted from NOW): a longer variant that
    # reaches it is cut to whole grid steps, not to the second of "now".
    start = GRID0 + HORIZON - 90 * MIN
    plan = run(request(window_start=start, window_width=timedelta(0), count=4))
    assert plan.slots
    longer = [slot.duration for slot in plan.slots if slot.duration > HOUR]
    assert longer == [89 * MIN]
    assert all(slot.duration % RES == timedelta(0) for slot in plan.slots)


def test_longer_variant_respects_factor_request_and_limit() -> None:
    def longest(plan: Plan) -> timedelta:
        return max(slot.duration for slot in plan.slots)

    assert longest(run(request())) == 2 * HOUR
    assert longest(run(request(), max_duration_factor=3.0)) == 3 * HOUR
    assert longest(run(request(max_duration=90 * MIN))) == 90 * MIN
    assert longest(run(request(), limits=LimitsConfig(max_duration=75 * MIN))) == 75 * MIN
    assert longest(run(request(max_duration=HOUR))) == HOUR  # no longer variant allowed


def test_count_one_gives_the_earliest_only() -> None:
    plan = run(request(count=1))
    assert [(slot.start, slot.duration) for slot in plan.slots] == [(GRID0, HOUR)]
    with pytest.raises(ValueError, match="at least one"):
        run(request(count=0))


def test_the_slots_of_one_set_fit_together() -> None:
    pool = PoolConfig(name="small", cores=2, memory=4, storage=10)
    plan = run(request(demand=Demand(cores=Bounds(2)), window_width=3 * HOUR), pools=[pool])
    profile = profiles_for([pool])["small"]
    for slot in plan.slots:
        profile.add_booking(slot.booking)
    assert len(plan.slots) >= 2 and not profile.exceeds_capacity()


def test_no_two_slots_are_the_same() -> None:
    plan = run(request(window_width=timedelta(0), window_start=GRID0))
    assert len({slot.identity for slot in plan.slots}) == len(plan.slots)


def test_pools_in_order_first_pool_wins_a_tie_next_pool_when_first_is_busy() -> None:
    a = PoolConfig(name="a", cores=4, memory=8, storage=10)
    b = PoolConfig(name="b", cores=4, memory=8, storage=10)
    assert run(request(count=1), pools=[a, b]).slots[0].pool == "a"
    profiles = profiles_for([a, b])
    profiles["a"].add(NOW, NOW + 5 * HOUR, Amounts(4, 0, 0))
    plan = run(request(count=1), profiles, pools=[a, b])
    assert (plan.slots[0].pool, plan.slots[0].start) == ("b", GRID0)


def test_a_session_fits_in_one_pool_only() -> None:
    a = PoolConfig(name="a", cores=4, memory=8, storage=10)
    big = PoolConfig(name="big", cores=32, memory=8, storage=10)
    plan = run(request(demand=Demand(cores=Bounds(6))), pools=[a, big])
    assert plan.slots and {slot.pool for slot in plan.slots} == {"big"}


def test_deterministic() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW + HOUR, NOW + 3 * HOUR, Amounts(15, 0, 0))
    req = request(demand=Demand(cores=Bounds(1, 4)), window_width=timedelta(days=2))
    assert run(req, profiles) == run(req, profiles)


def test_generate_does_not_change_the_profiles() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW, NOW + HOUR, Amounts(3))
    before = profiles["default"].copy()
    run(request(), profiles)
    assert profiles["default"] == before


def test_generate_for_takes_knobs_from_the_config() -> None:
    config = CapacityConfig(max_duration_factor=1.5)
    profiles = {"default": Profile(config.pools[0].totals, NOW, config.resolution, config.horizon)}
    plan = generate_for(config, profiles, request(), NOW)
    assert max(slot.duration for slot in plan.slots) == 90 * MIN


def test_caller_mistakes_raise() -> None:
    with pytest.raises(ValueError, match="no capacity profile"):
        run(request(), profiles={})
    late = {"default": Profile(DEFAULT.totals, NOW + HOUR, RES, HORIZON)}
    with pytest.raises(ValueError, match="after now"):
        run(request(), late)
    coarse = {"default": Profile(DEFAULT.totals, NOW, 5 * MIN, HORIZON)}
    with pytest.raises(ValueError, match="another grid"):
        run(request(), coarse)


# ------------------------------------------------------------------------------------------ explained NO


def test_min_above_max_is_invalid_and_checked_first() -> None:
    demand = Demand(cores=Bounds(500, 4), memory=Bounds(3, 2))
    plan = run(request(demand=demand))
    assert kinds_of(plan) == [kinds.INVALID_VALUE, kinds.INVALID_VALUE]
    assert plan.reasons[0].text == "The minimum of cores (500) is larger than its maximum (4)."


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"duration": timedelta(0)}, "must be longer than zero"),
        ({"max_duration": 30 * MIN}, "shorter than the requested duration"),
        ({"window_width": -MIN}, "cannot be negative"),
        ({"preparation": -MIN}, "cannot be negative"),
        ({"demand": Demand(cores=Bounds(-1))}, "cannot be negative"),
    ],
)
def test_nonsense_values_are_invalid(fields: dict[str, object], words: str) -> None:
    plan = run(request(**fields))
    assert kinds_of(plan) == [kinds.INVALID_VALUE]
    assert words in (plan.reasons[0].text or "")


def test_larger_than_the_platform_names_the_largest_pool() -> None:
    pools = [
        PoolConfig(name="a", cores=8, memory=8, storage=10),
        PoolConfig(name="b", cores=32, memory=4, storage=10),
    ]
    plan = run(request(demand=Demand(cores=Bounds(64))), pools=pools)
    assert kinds_of(plan) == [kinds.PLATFORM_TOO_SMALL]
    message = plan.reasons[0]
    assert message.values == {"resource": "cores", "unit": "cores", "min": "64", "total": "32", "pool": "b"}
    assert message.text == "The request needs at least 64 cores, but the largest pool here (b) has 32."


def test_no_single_pool_has_everything() -> None:
    pools = [
        PoolConfig(name="a", cores=8, memory=8, storage=10),
        PoolConfig(name="b", cores=32, memory=4, storage=10),
    ]
    plan = run(request(demand=Demand(cores=Bounds(16), memory=Bounds(6))), pools=pools)
    assert kinds_of(plan) == [kinds.PLATFORM_TOO_SMALL]
    assert "No single pool" in (plan.reasons[0].text or "")


def test_over_a_per_session_limit() -> None:
    limits = LimitsConfig(max_cores=4, max_duration=3 * HOUR)
    plan = run(request(demand=Demand(cores=Bounds(8)), duration=5 * HOUR), limits=limits)
    assert kinds_of(plan) == [kinds.RESOURCE_LIMIT, kinds.RESOURCE_LIMIT]
    assert plan.reasons[0].text == "The request needs at least 8 cores, above the limit of 4 per session."
    assert plan.reasons[1].values == {"duration": "PT5H", "limit": "PT3H"}


def test_duration_beyond_the_horizon() -> None:
    plan = run(request(duration=timedelta(days=8)), limits=LimitsConfig(max_duration=None))
    assert kinds_of(plan) == [kinds.BEYOND_HORIZON]
    assert plan.reasons[0].values == {"duration": "P8D", "horizon": "P7D"}


def test_start_window_beyond_the_horizon() -> None:
    plan = run(request(window_start=NOW + timedelta(days=7)))
    assert kinds_of(plan) == [kinds.BEYOND_HORIZON]
    assert plan.reasons[0].values["latest"] == format_instant(NOW + HORIZON - HOUR)


def test_a_window_reaching_past_the_horizon_is_searched_up_to_it() -> None:
    start = NOW + timedelta(days=6, hours=20)
    plan = run(request(window_start=start, window_width=timedelta(days=3)))
    assert plan.slots and all(slot.end <= NOW + HORIZON for slot in plan.slots)


def test_window_closing_before_preparation_is_done() -> None:
    plan = run(request(window_start=NOW - HOUR, window_width=HOUR + 20 * MIN, preparation=30 * MIN))
    assert kinds_of(plan) == [kinds.WINDOW_TOO_SHORT, kinds.EARLIEST_START]
    assert plan.reasons[0].text == (
        f"The start window closes at {format_instant(NOW + 20 * MIN)} but preparation needs until "
        f"{format_instant(NOW + 30 * MIN)}."
    )
    assert plan.reasons[1].values == {"start": format_instant(GRID0 + 30 * MIN), "pool": "default"}


def test_zero_width_window_in_the_past() -> None:
    plan = run(request(window_start=NOW - MIN, window_width=timedelta(0)))
    assert kinds_of(plan) == [kinds.WINDOW_TOO_SHORT, kinds.EARLIEST_START]


def test_window_with_no_grid_start_after_preparation() -> None:
    # Window 10:00:10 .. 10:00:50; ready at 10:00:30: no grid instant and not the window start.
    plan = run(
        request(
            window_start=NOW - timedelta(seconds=10),
            window_width=timedelta(seconds=40),
            preparation=timedelta(seconds=10),
        )
    )
    assert kinds_of(plan) == [kinds.WINDOW_TOO_SHORT, kinds.EARLIEST_START]
    assert "grid" in (plan.reasons[0].text or "")


def test_no_free_capacity_then_the_earliest_start() -> None:
    profiles = profiles_for([DEFAULT])
    busy_until = GRID0 + timedelta(hours=6, minutes=17)
    profiles["default"].add(NOW, busy_until, Amounts(13, 0, 0))
    plan = run(request(demand=Demand(cores=Bounds(4)), window_width=2 * HOUR), profiles)
    assert kinds_of(plan) == [kinds.NO_CAPACITY, kinds.EARLIEST_START]
    assert plan.reasons[0].values["need"] == "4 cores, 1 GiB of memory, 0 GiB of storage"
    assert plan.reasons[1].values == {"start": format_instant(busy_until), "pool": "default"}
    assert (
        plan.reasons[1].text == f"The earliest it could start is {format_instant(busy_until)} (pool default)."
    )


def test_no_free_capacity_anywhere_in_the_horizon() -> None:
    profiles = profiles_for([DEFAULT])
    profiles["default"].add(NOW, NOW + timedelta(days=10), Amounts(16, 0, 0))
    plan = run(request(), profiles)
    assert kinds_of(plan) == [kinds.NO_CAPACITY, kinds.EARLIEST_START]
    assert "could not start at any time" in (plan.reasons[1].text or "")


def test_messages_are_rendered_and_stamped_with_now() -> None:
    plan = run(request(demand=Demand(cores=Bounds(99))))
    for message in plan.reasons:
        assert message.time == NOW
        assert message.text and "${" not in message.text
        assert all(isinstance(value, str) for value in message.values.values())
