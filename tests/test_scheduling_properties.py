"""Property tests of the pure scheduling core (hypothesis).

Random pools, random existing bookings (added only where they fit, as the store would), random
requests; the offers must never oversell capacity, must meet every constraint, must be deterministic
and distinct, and an empty plan must say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from execbroker.model import messages as kinds
from execbroker.model.times import parse_instant
from execbroker.scheduling import (
    RESOURCES,
    Amounts,
    Booking,
    Bounds,
    Demand,
    Grid,
    LimitsConfig,
    Plan,
    PoolConfig,
    Profile,
    SlotRequest,
    generate,
)

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
FACTOR = 2.0


@dataclass
class World:
    pools: list[PoolConfig]
    limits: LimitsConfig
    resolution: timedelta
    horizon: timedelta
    now: datetime
    profiles: dict[str, Profile]

    def plan(self, req: SlotRequest) -> Plan:
        return generate(
            self.profiles,
            self.pools,
            self.limits,
            req,
            self.now,
            self.resolution,
            self.horizon,
            max_duration_factor=FACTOR,
        )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    pools = [
        PoolConfig(
            name=f"pool{index}",
            cores=draw(st.integers(1, 16)),
            memory=draw(st.integers(1, 32)),
            storage=draw(st.integers(0, 60)),
            gpus=draw(st.integers(0, 2)),
        )
        for index in range(draw(st.integers(1, 3)))
    ]
    limits = LimitsConfig(
        max_cores=draw(st.none() | st.integers(4, 16)),
        max_memory=draw(st.none() | st.integers(8, 32)),
        max_storage=draw(st.none() | st.integers(20, 50)),
        max_duration=draw(st.none() | st.integers(3600, 86400).map(lambda s: timedelta(seconds=s))),
    )
    resolution = timedelta(seconds=draw(st.sampled_from([1, 30, 60, 300, 900])))
    horizon = draw(st.sampled_from([timedelta(hours=6), timedelta(days=1), timedelta(days=2)]))
    if horizon // resolution > 20_000:
        resolution = timedelta(seconds=30)
    now = T0 + timedelta(
        seconds=draw(st.integers(0, 3600)), microseconds=draw(st.sampled_from([0, 1, 500_000]))
    )
    origin = now - timedelta(seconds=draw(st.integers(0, 7200)))
    profiles = {pool.name: Profile(pool.totals, origin, resolution, horizon) for pool in pools}
    for _ in range(draw(st.integers(0, 25))):
        pool = draw(st.sampled_from(pools))
        start = now + timedelta(seconds=draw(st.integers(-7200, int(horizon.total_seconds()))))
        end = start + timedelta(seconds=draw(st.integers(0, 36000)))
        amounts = Amounts(
            draw(st.integers(0, pool.cores)),
            draw(st.integers(0, pool.memory)),
            draw(st.integers(0, pool.storage)),
            draw(st.integers(0, pool.gpus)),
        )
        profile = profiles[pool.name]
        if amounts.fits_within(profile.free(start, end)):
            profile.add(start, end, amounts)
    return World(pools, limits, resolution, horizon, now, profiles)


@st.composite
def bounds(draw: st.DrawFn, low: int, high: int) -> Bounds:
    minimum = draw(st.integers(low, high))
    maximum = draw(st.none() | st.integers(minimum, minimum + 10))
    return Bounds(minimum, maximum)


@st.composite
def requests(draw: st.DrawFn, world: World) -> SlotRequest:
    demand = Demand(
        cores=draw(bounds(1, 6)),  # a minimum of zero cores or memory is refused (tested apart)
        memory=draw(bounds(1, 12)),
        storage=draw(bounds(0, 20)),
        gpus=draw(st.sampled_from([Bounds(0), Bounds(0), Bounds(0, 1), Bounds(1), Bounds(1, 2)])),
    )
    duration = timedelta(seconds=draw(st.integers(1, 8 * 3600)))
    half_horizon = int(world.horizon.total_seconds()) // 2
    return SlotRequest(
        demand=demand,
        window_start=world.now + timedelta(seconds=draw(st.integers(-60, half_horizon))),
        window_width=timedelta(
            seconds=draw(st.sampled_from([0, 20, 59, 3600, 7200]) | st.integers(0, 86400))
        ),
        duration=duration,
        max_duration=draw(
            st.none() | st.integers(0, 4 * 3600).map(lambda s: duration + timedelta(seconds=s))
        ),
        preparation=timedelta(seconds=draw(st.sampled_from([0, 30, 90]) | st.integers(0, 1800))),
        release=timedelta(seconds=draw(st.integers(0, 60))),
        lead=timedelta(seconds=draw(st.sampled_from([0, 0, 30, 45]))),
        count=draw(st.sampled_from([4, 3, 1, 2, 5])),
    )


def longest(world: World, req: SlotRequest) -> timedelta:
    value = req.max_duration if req.max_duration is not None else req.duration * FACTOR
    if world.limits.max_duration is not None:
        value = min(value, world.limits.max_duration)
    return max(value, req.duration)


def check_slot_constraints(world: World, req: SlotRequest, plan: Plan) -> None:
    grid = Grid(world.resolution)
    ready = world.now + req.lead + req.preparation
    earliest = max(req.window_start, ready)
    totals = {pool.name: pool.totals for pool in world.pools}
    for slot in plan.slots:
        assert req.demand.minimum.fits_within(totals[slot.pool])
        for resource in RESOURCES:
            got, wanted = slot.amounts.get(resource), req.demand.bounds(resource)
            assert got >= wanted.min
            if wanted.max is None:
                assert got == wanted.min
            else:
                assert got <= wanted.max
                cap = world.limits.cap(resource)
                assert cap is None or got <= max(cap, wanted.min)
        assert req.window_start <= slot.start <= req.window_end
        assert slot.start >= ready
        if not grid.on_grid(slot.start):  # only when the window holds no grid instant after readiness
            assert slot.start == req.window_start
            assert grid.ceil(earliest) > grid.floor(
                min(req.window_end, world.now + world.horizon - req.duration)
            )
        assert req.duration <= slot.duration <= longest(world, req)
        assert slot.end <= world.now + world.horizon
        assert slot.preparing_start == slot.start - req.preparation
        assert slot.release_end == slot.start + slot.duration + req.release
        assert slot.grid_slots == (grid.floor(slot.preparing_start), grid.ceil(slot.release_end))


@settings(max_examples=160, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_offers_never_oversell_meet_every_constraint_and_are_deterministic(data: st.DataObject) -> None:
    world = data.draw(worlds())
    req = data.draw(requests(world))
    before = {name: profile.copy() for name, profile in world.profiles.items()}
    plan = world.plan(req)
    event(f"{len(plan.slots)} of {req.count} slots" if plan.slots else plan.reasons[0].kind)

    # (5) a NO always says why; a YES carries no reasons.
    assert bool(plan.slots) != bool(plan.reasons)
    assert len(plan.slots) <= req.count
    # (1) all the slots of the set together fit (they are held at the same time).
    booked = {name: profile.copy() for name, profile in world.profiles.items()}
    by_slots = {name: profile.copy() for name, profile in world.profiles.items()}
    for slot in plan.slots:
        booked[slot.pool].add_booking(slot.booking)
        by_slots[slot.pool].add_slots(*slot.grid_slots, slot.amounts)
    assert not any(profile.exceeds_capacity() for profile in booked.values())
    assert by_slots == booked, "counting a slot by its grid slots is counting its booking"
    # (2) every constraint.
    check_slot_constraints(world, req, plan)
    # (3) deterministic, and the inputs are untouched.
    assert world.plan(req) == plan
    assert world.profiles == before
    # (4) pairwise distinct.
    assert len({slot.identity for slot in plan.slots}) == len(plan.slots)
    # Slot 1 is the earliest.
    if plan.slots:
        assert plan.slots[0].start == min(slot.start for slot in plan.slots)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_slot_one_is_the_earliest_feasible_start(data: st.DataObject) -> None:
    """Brute force: no grid start in the window before slot 1 has the minimum free in any pool."""
    world = data.draw(worlds())
    req = data.draw(requests(world))
    plan = world.plan(req)
    if not plan.slots:
        return
    grid = Grid(world.resolution)
    first = grid.ceil(max(req.window_start, world.now + req.lead + req.preparation))
    need = req.demand.minimum
    for index in range(first, min(grid.ceil(plan.slots[0].start), first + 400)):
        start = grid.instant(index)
        for pool in world.pools:
            if not need.fits_within(pool.totals):
                continue
            free = world.profiles[pool.name].free(start - req.preparation, start + req.duration + req.release)
            assert not need.fits_within(free), f"{start} in {pool.name} was free but slot 1 is later"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_earliest_start_hint_is_true(data: st.DataObject) -> None:
    """When a NO names an earliest start, asking for exactly that start gets an offer there."""
    world = data.draw(worlds())
    req = data.draw(requests(world))
    plan = world.plan(req)
    hints = [m for m in plan.reasons if m.kind == kinds.EARLIEST_START and "start" in m.values]
    if not hints:
        return
    at = parse_instant(hints[0].values["start"])
    exact = SlotRequest(
        demand=req.demand,
        window_start=at,
        duration=req.duration,
        max_duration=req.max_duration,
        preparation=req.preparation,
        release=req.release,
        count=1,
    )
    again = world.plan(exact)
    assert [slot.start for slot in again.slots] == [at]
    assert again.slots[0].pool == hints[0].values["pool"]


@settings(max_examples=100, deadline=None)
@given(
    resolution=st.sampled_from([1, 60, 300]),
    bookings=st.lists(
        st.tuples(
            st.integers(-3600, 86400),
            st.integers(0, 20000),
            st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8), st.integers(0, 2)),
        ),
        max_size=20,
    ),
    extra=st.tuples(st.integers(-3600, 90000), st.integers(0, 50000), st.integers(0, 5)),
)
def test_add_then_remove_returns_to_the_previous_state(
    resolution: int, bookings: list[tuple[int, int, tuple[int, int, int, int]]], extra: tuple[int, int, int]
) -> None:
    capacity = Amounts(100, 100, 100, 10)
    items = [
        Booking(T0 + timedelta(seconds=s), T0 + timedelta(seconds=s + n), Amounts(*a)) for s, n, a in bookings
    ]
    profile = Profile.from_bookings(capacity, T0, timedelta(seconds=resolution), timedelta(hours=12), items)
    before = profile.copy()
    start = T0 + timedelta(seconds=extra[0], microseconds=7)
    end = start + timedelta(seconds=extra[1])
    profile.add(start, end, Amounts(extra[2], 1, 0, 0))
    if extra[1] and end > T0:
        assert profile.peak(start, end).cores >= extra[2]
    profile.remove(start, end, Amounts(extra[2], 1, 0, 0))
    assert profile == before
    # And building in bulk equals adding one by one.
    single = Profile(capacity, T0, timedelta(seconds=resolution), timedelta(hours=12))
    for item in items:
        single.add_booking(item)
    assert single == before


# -- the search's own copy of free capacity ---------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    bookings=st.lists(
        st.tuples(st.integers(0, 3000), st.integers(1, 600), st.integers(0, 3), st.integers(0, 3)),
        max_size=12,
    ),
    holds=st.lists(
        st.tuples(st.integers(0, 3000), st.integers(1, 900), st.integers(0, 4), st.integers(0, 4)),
        max_size=6,
    ),
    span=st.integers(1, 3000),
    looks=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 400)), min_size=1, max_size=8),
    need=st.tuples(st.integers(0, 10), st.integers(0, 10)),
)
def test_search_free_capacity_matches_a_fresh_count(
    bookings: list[tuple[int, int, int, int]],
    holds: list[tuple[int, int, int, int]],
    span: int,
    looks: list[tuple[int, int]],
    need: tuple[int, int],
) -> None:
    """Free capacity and "need fits" of a search, read before and after each of its own holds, and
    inside, across and beyond the part it copies (1024 slots), equal a count from scratch."""
    import numpy as np

    from execbroker.scheduling.offers import _PoolSearch

    grid = Grid(timedelta(minutes=1))
    totals = Amounts(cores=10, memory=10, storage=0)
    at = [T0 + timedelta(minutes=m) for m in range(0, 4000)]
    profile = Profile.from_bookings(
        totals,
        T0,
        grid.resolution,
        timedelta(days=3),
        [Booking(at[s], at[s + n], Amounts(c, m, 0)) for s, n, c, m in bookings],
    )
    first = grid.floor(T0)
    stop = first + span
    search = _PoolSearch("p", 0, profile, totals, np.zeros(4, dtype=np.int64), first, stop)
    wanted = np.array([need[0], need[1], 0, 0], dtype=np.int64)
    expected = np.zeros((4, span), dtype=np.int64)
    expected[0], expected[1] = 10, 10
    for s, n, c, m in bookings:
        lo, hi = min(s, span), min(s + n, span)
        expected[0, lo:hi] -= c
        expected[1, lo:hi] -= m

    def compare() -> None:
        for offset, length in looks:
            lo = min(offset, span - 1)
            hi = min(lo + max(length, 1), span)
            got = search.free(first + lo, first + hi)
            assert (got == expected[:, lo:hi]).all()
            fits = search.ok(wanted, first + lo, first + hi)
            assert (fits == (expected[:, lo:hi] >= wanted[:, None]).all(axis=0)).all()

    compare()
    for s, n, c, m in holds:
        lo, hi = min(s, span), min(s + n, span)
        search.hold(first + s, first + min(s + n, span), np.array([c, m, 0, 0], dtype=np.int64))
        expected[0, lo:hi] -= c
        expected[1, lo:hi] -= m
        compare()
