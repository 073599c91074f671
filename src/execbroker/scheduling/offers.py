"""Offer generation: which time slots can a request have, or, when none, why not.

The search is vectorised over grid slots and never looks at individual reservations, so its cost
depends on the length of the start window and of the session, not on how busy the ledger is.

The rules, in one place (the tests hold the code to them):

* **Start instants.** A start lies in ``[window_start, window_start + window_width]`` (both ends
  included; a width of zero is an exact start) and no earlier than ``now + lead + preparation`` (the
  lead leaves the client time to accept before preparation must begin). Starts are
  grid instants (multiples of the resolution since the epoch). When the window holds no grid instant
  (an exact start off the grid, or a window narrower than one slot), the window's own start is
  honoured exactly, if preparation allows; the reservation is still rounded outward to the grid.
* **Horizon.** A session must *end* (``start + duration``) within ``now + horizon``.
* **Amounts.** Never below a minimum, never above a maximum. Where a maximum is given, a slot gets as
  much as is free over its whole reservation, up to the maximum and the per-session cap. Where no
  maximum is given, it gets the minimum: the Working Draft says an offer SHOULD NOT exceed the
  maximum, and handing out more than was asked for only holds capacity that others could use.
* **Duration.** The requested duration is a minimum. A longer variant may be offered, up to
  ``max_duration`` (the request's, else ``max_duration_factor`` x the duration), and never beyond the
  per-session limit.
* **Reservation.** A slot holds ``amounts`` over ``[start - preparation, start + duration + release)``.
  The offers of one set are holds at the same time, so each slot is chosen with the earlier slots of
  the set already held: all of them together fit.
* **Diversity.** Slot 1 is the earliest feasible start. Then, in this order while fewer than
  ``count`` slots are chosen: a later alternative (the earliest start at least ``step`` after the
  previous alternative, or failing that any later start: these land where bookings end), a longer
  variant, a larger variant (when a maximum allows more than slot 1 got), then more later
  alternatives. No two slots share start, duration and amounts. The result is sorted by start
  (stable), so slot 1 stays first.
* **Pools.** A session fits in one pool. Each choice takes the pool with the earliest start; ties go
  to the pool listed first in the configuration.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from execbroker.model.messages import Message
from execbroker.model.times import ZERO
from execbroker.scheduling import reasons
from execbroker.scheduling.amounts import RESOURCES, Amounts
from execbroker.scheduling.config import CapacityConfig, LimitsConfig, PoolConfig
from execbroker.scheduling.grid import EPOCH, MICROSECOND, Grid, micros
from execbroker.scheduling.profile import Booking, Profile

#: How many candidate starts the first chunk of a search examines (later chunks grow fourfold).
_FIRST_CHUNK = 128

#: The default spacing of later alternatives (the seed decks show NOW, +1 h, +2 h).
DEFAULT_STEP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Bounds:
    """A requested minimum and an optional maximum of one resource (whole numbers; GiB for sizes)."""

    min: int = 0
    max: int | None = None


@dataclass(frozen=True, slots=True)
class Demand:
    """What a session needs of each resource."""

    cores: Bounds = Bounds(1)
    memory: Bounds = Bounds(1)
    storage: Bounds = Bounds(0)
    gpus: Bounds = Bounds(0)

    def bounds(self, resource: str) -> Bounds:
        value: Bounds = getattr(self, resource)
        return value

    @property
    def minimum(self) -> Amounts:
        return Amounts(self.cores.min, self.memory.min, self.storage.min, self.gpus.min)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotRequest:
    """One request for offers, already reduced to numbers by the caller."""

    demand: Demand = Demand()
    window_start: datetime
    #: Zero for an exact start.
    window_width: timedelta = ZERO
    #: The minimum run time.
    duration: timedelta
    #: The longest the caller accepts; ``None``: ``max_duration_factor`` x ``duration``.
    max_duration: timedelta | None = None
    #: Time needed before the start (data staging, image pull); booked too.
    preparation: timedelta = ZERO
    #: Time needed after the end (clean-up); booked too.
    release: timedelta = ZERO
    #: Time the client has to accept an offer before its preparation must begin (not booked; zero
    #: for direct execution, which accepts at once).
    lead: timedelta = ZERO
    #: How many offers at most (1 for direct execution).
    count: int = 4

    @property
    def window_end(self) -> datetime:
        return self.window_start + self.window_width


@dataclass(frozen=True, slots=True)
class Slot:
    """One offer: a pool, a start, a granted duration and granted amounts."""

    pool: str
    start: datetime
    duration: timedelta
    preparing_start: datetime
    release_end: datetime
    amounts: Amounts
    #: The grid slots ``[first, stop)`` that ``[preparing_start, release_end)`` occupies, rounded
    #: outward on the planner's grid (what a profile counts for this slot).
    grid_slots: tuple[int, int] = field(compare=False, repr=False)

    @property
    def end(self) -> datetime:
        """The end of the available period (release follows)."""
        return self.start + self.duration

    @property
    def booking(self) -> Booking:
        """The reservation this slot needs: ``amounts`` over ``[preparing_start, release_end)``."""
        return Booking(self.preparing_start, self.release_end, self.amounts)

    @property
    def identity(self) -> tuple[datetime, timedelta, Amounts]:
        """What makes two offers the same offer in the eyes of a client."""
        return (self.start, self.duration, self.amounts)


@dataclass(slots=True)
class Plan:
    """The slots offered, or (only when there are none) the reasons why not."""

    slots: list[Slot] = field(default_factory=list)
    reasons: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.slots)


def generate(
    profiles: Mapping[str, Profile],
    pools: Sequence[PoolConfig],
    limits: LimitsConfig,
    req: SlotRequest,
    now: datetime,
    resolution: timedelta,
    horizon: timedelta,
    *,
    max_duration_factor: float = 2.0,
    step: timedelta = DEFAULT_STEP,
) -> Plan:
    """Offer up to ``req.count`` slots, or explain why there are none. Pure and deterministic.

    ``profiles`` maps each pool name to its current usage (the store's live holds and bookings); they
    are not changed. Raises ``ValueError`` only for caller mistakes (a count below 1, a profile on
    another grid or starting after ``now``, a pool without a profile).
    """
    if req.count < 1:
        raise ValueError(f"a request must ask for at least one offer, not {req.count}")
    grid = Grid(resolution)
    refusal = _refuse_invalid(req, now) or _refuse_size(pools, limits, req, now)
    if refusal:
        return Plan([], refusal)
    if req.duration > horizon:
        return Plan([], [reasons.duration_beyond_horizon(now, req.duration, horizon)])

    horizon_end = now + horizon
    latest = horizon_end - req.duration
    ready = now + req.lead + req.preparation
    earliest = max(req.window_start, ready)
    if earliest > latest and req.window_start > latest:
        return Plan([], [reasons.start_beyond_horizon(now, earliest, latest, horizon_end)])
    if ready > req.window_end:
        no = [reasons.window_closes_before_ready(now, req.window_end, ready)]
        return Plan([], [*no, _hint(profiles, pools, req, now, grid, ready, latest, horizon_end)])
    if earliest > latest:
        return Plan([], [reasons.start_beyond_horizon(now, earliest, latest, horizon_end)])

    hi = min(req.window_end, latest)
    starts = _Starts.make(grid, earliest, hi, req.window_start)
    if starts is None:
        no = [reasons.no_start_on_grid(now, req.window_start, req.window_end, ready, resolution)]
        return Plan([], [*no, _hint(profiles, pools, req, now, grid, earliest, latest, horizon_end)])

    longest = _longest(req, limits, max_duration_factor)
    stop = grid.ceil(min(hi + longest, horizon_end) + req.release)
    first = grid.floor(earliest - req.preparation)
    searches = _searches(profiles, pools, req, limits, now, grid, first, stop)
    chooser = _Chooser(searches, starts, grid, req, horizon_end)
    slots = chooser.choose(longest, step)
    if slots:
        return Plan(slots, [])
    need = req.demand.minimum
    no = [reasons.no_free_capacity(now, need, req.duration, starts.first_instant, starts.last_instant)]
    return Plan([], [*no, _hint(profiles, pools, req, now, grid, earliest, latest, horizon_end)])


def generate_for(
    config: CapacityConfig, profiles: Mapping[str, Profile], req: SlotRequest, now: datetime
) -> Plan:
    """:func:`generate` with every knob taken from a :class:`CapacityConfig`."""
    return generate(
        profiles,
        config.pools,
        config.limits,
        req,
        now,
        config.resolution,
        config.horizon,
        max_duration_factor=config.max_duration_factor,
    )


# ---------------------------------------------------------------------------------------------- checks


#: Resources a session cannot run without: a minimum of zero would let an offer grant none.
_AT_LEAST_ONE = frozenset({"cores", "memory"})


def _refuse_invalid(req: SlotRequest, now: datetime) -> list[Message]:
    """Values that cannot be right whatever the platform: negative minimums, min > max, bad lengths."""
    out: list[Message] = []
    for resource in RESOURCES:
        bounds = req.demand.bounds(resource)
        if bounds.min < 0:
            out.append(reasons.negative_minimum(now, resource, bounds.min))
        elif bounds.min == 0 and resource in _AT_LEAST_ONE:
            out.append(reasons.minimum_below_one(now, resource))
        if bounds.max is not None and bounds.min > bounds.max:
            out.append(reasons.minimum_above_maximum(now, resource, bounds.min, bounds.max))
    if req.duration <= ZERO:
        out.append(
            reasons.invalid_length(now, "requested duration", req.duration, "must be longer than zero")
        )
    elif req.max_duration is not None and req.max_duration < req.duration:
        out.append(reasons.maximum_duration_below_duration(now, req.duration, req.max_duration))
    for what, value in (
        ("start window width", req.window_width),
        ("preparation time", req.preparation),
        ("release time", req.release),
        ("time to accept", req.lead),
    ):
        if value < ZERO:
            out.append(reasons.invalid_length(now, what, value, "cannot be negative"))
    return out


def _refuse_size(
    pools: Sequence[PoolConfig], limits: LimitsConfig, req: SlotRequest, now: datetime
) -> list[Message]:
    """Larger than every pool, or over a per-session limit: no waiting will ever help."""
    if not pools:
        raise ValueError("generate needs at least one pool")
    need = req.demand.minimum
    out: list[Message] = []
    if not any(need.fits_within(pool.totals) for pool in pools):
        for resource in RESOURCES:
            largest = max(pools, key=lambda pool: pool.totals.get(resource))
            if need.get(resource) > largest.totals.get(resource):
                out.append(
                    reasons.larger_than_platform(
                        now, resource, need.get(resource), largest.totals.get(resource), largest.name
                    )
                )
        if not out:
            biggest = max(pools, key=lambda pool: tuple(pool.totals))
            out.append(reasons.no_single_pool(now, need, biggest.name, biggest.totals))
        return out
    for resource in RESOURCES:
        cap = limits.cap(resource)
        if cap is not None and need.get(resource) > cap:
            out.append(reasons.over_limit(now, resource, need.get(resource), cap))
    if limits.max_duration is not None and req.duration > limits.max_duration:
        out.append(reasons.duration_over_limit(now, req.duration, limits.max_duration))
    return out


def _longest(req: SlotRequest, limits: LimitsConfig, factor: float) -> timedelta:
    """The longest duration a slot may be granted (at least the requested one)."""
    longest = req.max_duration if req.max_duration is not None else req.duration * factor
    if limits.max_duration is not None:
        longest = min(longest, limits.max_duration)
    return max(longest, req.duration)


def _upper(req: SlotRequest, limits: LimitsConfig, totals: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per resource, the most a slot may get: min(max, cap, pool total), or the minimum without a max."""
    upper = np.empty(len(RESOURCES), dtype=np.int64)
    for row, resource in enumerate(RESOURCES):
        bounds = req.demand.bounds(resource)
        if bounds.max is None:
            upper[row] = bounds.min
            continue
        value = min(bounds.max, int(totals[row]))
        cap = limits.cap(resource)
        if cap is not None:
            value = min(value, cap)
        upper[row] = max(value, bounds.min)
    return upper


# ---------------------------------------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class _Starts:
    """The start instants a request allows: grid slots ``[first, last]``, or one exact off-grid instant."""

    grid: Grid
    first: int
    last: int
    exact: datetime | None

    @classmethod
    def make(cls, grid: Grid, earliest: datetime, latest: datetime, window_start: datetime) -> _Starts | None:
        first, last = grid.ceil(earliest), grid.floor(latest)
        if first <= last:
            return cls(grid, first, last, None)
        if earliest == window_start:
            return cls(grid, first, last, window_start)
        return None

    @property
    def first_instant(self) -> datetime:
        return self.exact if self.exact is not None else self.grid.instant(self.first)

    @property
    def last_instant(self) -> datetime:
        return self.exact if self.exact is not None else self.grid.instant(self.last)


class _Fits:
    """Whether one need fits at each materialised slot of a search; holds make a range stale, and
    only that range is looked at again, and only when the need is asked about again."""

    __slots__ = ("fits", "hi", "lo", "need")

    def __init__(self, need: NDArray[np.int64], fits: NDArray[np.bool_]) -> None:
        self.need = need
        self.fits = fits
        self.lo = self.hi = 0

    def stale(self, lo: int, hi: int) -> None:
        if self.hi <= self.lo:
            self.lo, self.hi = lo, hi
        else:
            self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)

    def fresh(self, free: NDArray[np.int64]) -> NDArray[np.bool_]:
        if self.hi > self.lo:
            lo, hi = self.lo, self.hi
            self.fits[lo:hi] = (free[:, lo:hi] >= self.need[:, None]).all(axis=0)
            self.lo = self.hi = 0
        return self.fits


#: A search copies the free capacity of at most this many slots (4 resources x 8 bytes each) into its
#: own array; beyond that it reads the profile afresh for every range it looks at.
_MATERIALISE = 1024


class _PoolSearch:
    """The free capacity of one pool over the slots a request can touch, less the set's own holds.

    The first ``_MATERIALISE`` slots of the search (which is all of it for a window of a few days)
    are copied once into an array of free capacity; the set's holds are taken off it in place, and
    "is ``need`` free at each slot" is computed once per need and reused until the next hold. A longer
    search reads the rest of the profile through views, taking the holds (a handful) off each range.
    """

    __slots__ = (
        "_free",
        "_free_stop",
        "_ok",
        "first",
        "holds",
        "name",
        "profile",
        "rank",
        "stop",
        "totals",
        "upper",
    )

    def __init__(
        self,
        name: str,
        rank: int,
        profile: Profile,
        totals: Amounts,
        upper: NDArray[np.int64],
        first: int,
        stop: int,
    ) -> None:
        self.name = name
        self.rank = rank
        self.profile = profile
        self.totals = totals.as_array()
        self.upper = upper
        self.first = first
        self.stop = stop
        self.holds: list[tuple[int, int, NDArray[np.int64]]] = []
        self._free: NDArray[np.int64] | None = None
        self._free_stop = first
        #: need (as bytes) -> does it fit at each materialised slot
        self._ok: dict[bytes, _Fits] = {}

    def _materialised(self) -> NDArray[np.int64]:
        if self._free is None:
            stop = min(self.stop, self.first + _MATERIALISE)
            self._free = self._compute(self.first, stop)
            self._free_stop = stop
        return self._free

    def _compute(self, first: int, stop: int) -> NDArray[np.int64]:
        free: NDArray[np.int64] = self.totals[:, None] - self.profile.usage(first, stop)
        for lo, hi, amounts in self.holds:
            lo, hi = max(lo, first), min(hi, stop)
            if hi > lo:
                free[:, lo - first : hi - first] -= amounts[:, None]
        return free

    def _check(self, first: int, stop: int) -> None:
        if first < self.first or stop > self.stop:
            raise AssertionError(
                f"slots [{first}, {stop}) lie outside the search [{self.first}, {self.stop})"
            )

    def free(self, first: int, stop: int) -> NDArray[np.int64]:
        """Free capacity per grid slot of ``[first, stop)``: shape (resources, slots). Do not write to it."""
        self._check(first, stop)
        materialised = self._materialised()
        if stop <= self._free_stop:
            return materialised[:, first - self.first : stop - self.first]
        return self._compute(first, stop)

    def ok(self, need: NDArray[np.int64], first: int, stop: int) -> NDArray[np.bool_]:
        """Per grid slot of ``[first, stop)``: is at least ``need`` of every resource free?"""
        self._check(first, stop)
        materialised = self._materialised()
        if stop <= self._free_stop:
            key = need.tobytes()
            cached = self._ok.get(key)
            if cached is None:
                fits = np.asarray((materialised >= need[:, None]).all(axis=0), dtype=np.bool_)
                self._ok[key] = _Fits(need, fits)
            else:
                fits = cached.fresh(materialised)
            return fits[first - self.first : stop - self.first]
        return np.asarray((self.free(first, stop) >= need[:, None]).all(axis=0), dtype=np.bool_)

    def min_free(self, first: int, stop: int) -> NDArray[np.int64]:
        result: NDArray[np.int64] = self.free(first, stop).min(axis=1)
        return result

    def hold(self, first: int, stop: int, values: NDArray[np.int64]) -> None:
        """Take ``values`` (per resource) off the slots ``[first, stop)``."""
        self.holds.append((first, stop, values))
        if self._free is not None:
            lo, hi = max(first, self.first) - self.first, min(stop, self._free_stop) - self.first
            if hi > lo:
                self._free[:, lo:hi] -= values[:, None]
                for fits in self._ok.values():
                    fits.stale(lo, hi)


def _searches(
    profiles: Mapping[str, Profile],
    pools: Sequence[PoolConfig],
    req: SlotRequest,
    limits: LimitsConfig | None,
    now: datetime,
    grid: Grid,
    first: int,
    stop: int,
) -> list[_PoolSearch]:
    """One search per pool that could ever hold the request, in configuration order.

    Without ``limits`` (the earliest-start hint) every pool's upper amounts are the minimums.
    """
    need = req.demand.minimum
    out: list[_PoolSearch] = []
    for rank, pool in enumerate(pools):
        if not need.fits_within(pool.totals):
            continue
        profile = profiles.get(pool.name)
        if profile is None:
            raise ValueError(f"no capacity profile for pool '{pool.name}'")
        if profile.grid != grid:
            raise ValueError(f"the profile of pool '{pool.name}' is on another grid ({profile.grid})")
        if profile.origin > now:
            raise ValueError(
                f"the profile of pool '{pool.name}' starts at {profile.origin}, after now ({now})"
            )
        totals = pool.totals.as_array()
        upper = _upper(req, limits, totals) if limits is not None else need.as_array()
        out.append(_PoolSearch(pool.name, rank, profile, pool.totals, upper, first, stop))
    return out


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A slot while the chooser works: times in integer microseconds since the epoch, grid range kept."""

    search: _PoolSearch
    start: int
    duration: int
    #: The grid slots ``[first, stop)`` that preparation, the run and release occupy.
    first: int
    stop: int
    amounts: tuple[int, ...]

    @property
    def identity(self) -> tuple[int, int, tuple[int, ...]]:
        return (self.start, self.duration, self.amounts)


def _us(length: timedelta) -> int:
    return length // MICROSECOND


class _Chooser:
    """Picks the slots of one set, one strategy at a time, holding each before choosing the next.

    Works in integer microseconds and grid slot numbers (exactly what datetime arithmetic would give,
    at a fraction of the cost); only the chosen slots become :class:`Slot` objects.
    """

    def __init__(
        self,
        searches: list[_PoolSearch],
        starts: _Starts,
        grid: Grid,
        req: SlotRequest,
        horizon_end: datetime,
    ) -> None:
        self.searches = searches
        self.by_name = {search.name: search for search in searches}
        self.starts = starts
        self.grid = grid
        self.req = req
        self.step = grid.step
        self.preparation = _us(req.preparation)
        self.release = _us(req.release)
        self.duration = _us(req.duration)
        self.horizon_end = micros(horizon_end)
        self.exact = micros(starts.exact) if starts.exact is not None else None
        self.before = -(-self.preparation // self.step)
        self.need = req.demand.minimum.as_array()
        self.chosen: list[_Candidate] = []
        self.taken: set[tuple[int, int, tuple[int, ...]]] = set()

    # -------------------------------------------------------------------------------- strategies

    def choose(self, longest: timedelta, step: timedelta) -> list[Slot]:
        first = self.earliest(self.need, self.duration, None, strict=False)
        if first is None:
            return []
        self._take(first)
        later_from = first.start
        step_us = _us(step)
        plan = ["later", "longer", "larger"]
        while len(self.chosen) < self.req.count and plan:
            strategy = plan.pop(0)
            if strategy == "later":
                slot = self.earliest(self.need, self.duration, later_from + step_us, strict=False)
                if slot is None:
                    slot = self.earliest(self.need, self.duration, later_from, strict=True)
                if slot is not None:
                    later_from = slot.start
                    plan.append("later")
            elif strategy == "longer":
                slot = self._longer(_us(longest))
            else:
                slot = self._larger(first)
            if slot is not None:
                self._take(slot)
        return [self.slot(c) for c in sorted(self.chosen, key=lambda c: c.start)]

    def earliest(
        self,
        need: NDArray[np.int64],
        duration: int,
        after: int | None,
        *,
        strict: bool,
        distinct: bool = True,
    ) -> _Candidate | None:
        """The earliest feasible new slot over all pools (ties: the pool listed first)."""
        best: _Candidate | None = None
        for search in self.searches:  # in configuration order, so a tie keeps the first pool
            for start in self._feasible(search, need, duration, after, strict):
                if best is not None and start >= best.start:
                    break
                slot = self._candidate(search, start, duration)
                if distinct and slot.identity in self.taken:
                    continue
                best = slot
                break
        return best

    def _longer(self, longest: int) -> _Candidate | None:
        """The earliest slot of the longest duration; else the longest run at the earliest start."""
        duration = self.duration
        if longest <= duration:
            return None
        slot = self.earliest(self.need, longest, None, strict=False)
        if slot is not None:
            return slot
        base = self.earliest(self.need, duration, None, strict=False, distinct=False)
        if base is None:
            return None
        search = base.search
        start = base.start
        stop = -(-(start + duration + self.release) // self.step)
        ok = search.ok(self.need, stop, search.stop)
        blocked = np.flatnonzero(~ok)
        run_end = stop + (int(blocked[0]) if blocked.size else ok.size)
        room = (run_end * self.step - self.release - start) // self.step * self.step
        # Capped by the horizon, the length is cut to the grid (not to the microsecond of "now").
        length = min(longest, room, (self.horizon_end - start) // self.step * self.step)
        if length <= duration:
            return None
        slot = self._candidate(search, start, length)
        return None if slot.identity in self.taken else slot

    def _larger(self, first: _Candidate) -> _Candidate | None:
        """The earliest slot with every maximum granted, when slot 1 had to settle for less."""
        if all(got >= most for got, most in zip(first.amounts, first.search.upper.tolist(), strict=True)):
            return None
        best: _Candidate | None = None
        for search in self.searches:
            slot = self._single(search, search.upper)
            if slot is not None and (best is None or slot.start < best.start):
                best = slot
        return best

    def _single(self, search: _PoolSearch, need: NDArray[np.int64]) -> _Candidate | None:
        for start in self._feasible(search, need, self.duration, None, False):
            slot = self._candidate(search, start, self.duration)
            if slot.identity not in self.taken:
                return slot
        return None

    # -------------------------------------------------------------------------------- mechanics

    def _feasible(
        self,
        search: _PoolSearch,
        need: NDArray[np.int64],
        duration: int,
        after: int | None,
        strict: bool,
    ) -> Iterator[int]:
        """Feasible starts for ``duration`` in increasing order, from ``after`` (exclusive if ``strict``)."""
        step, starts = self.step, self.starts
        if self.exact is not None:
            start = self.exact
            if after is not None and (start < after or (strict and start == after)):
                return
            if start + duration > self.horizon_end:
                return
            first = (start - self.preparation) // step
            stop = -(-(start + duration + self.release) // step)
            if (search.min_free(first, stop) >= need).all():
                yield start
            return
        lo = starts.first
        if after is not None:
            lo = max(lo, after // step + 1 if strict else -(-after // step))
        hi = min(starts.last, (self.horizon_end - duration) // step)
        if lo > hi:
            return
        before = self.before
        width = before + -(-(duration + self.release) // step)
        # Most often the first candidate fits: one look at its slots settles it.
        if search.ok(need, lo - before, lo - before + width).all():
            yield lo * step
            lo += 1
        # Candidates are examined in chunks that grow fourfold: the first feasible start is usually
        # near the front, so a 7-day window rarely costs more than a short one.
        chunk = _FIRST_CHUNK
        while lo <= hi:
            top = min(hi, lo + chunk - 1)
            count = top - lo + 1
            ok = search.ok(need, lo - before, top - before + width)
            bad = np.zeros(ok.size + 1, dtype=np.int64)
            np.cumsum(~ok, out=bad[1:])
            for index in np.flatnonzero(bad[width : width + count] == bad[:count]):
                yield (lo + int(index)) * step
            lo = top + 1
            chunk *= 4

    def _candidate(self, search: _PoolSearch, start: int, duration: int) -> _Candidate:
        first = (start - self.preparation) // self.step
        stop = -(-(start + duration + self.release) // self.step)
        amounts = np.minimum(search.upper, search.min_free(first, stop)).tolist()
        return _Candidate(search, start, duration, first, stop, tuple(amounts))

    def slot(self, candidate: _Candidate) -> Slot:
        start = EPOCH + timedelta(microseconds=candidate.start)
        duration = timedelta(microseconds=candidate.duration)
        return Slot(
            candidate.search.name,
            start,
            duration,
            start - self.req.preparation,
            start + duration + self.req.release,
            Amounts(*candidate.amounts),
            (candidate.first, candidate.stop),
        )

    def _take(self, candidate: _Candidate) -> None:
        candidate.search.hold(candidate.first, candidate.stop, np.array(candidate.amounts, dtype=np.int64))
        self.chosen.append(candidate)
        self.taken.add(candidate.identity)


def _hint(
    profiles: Mapping[str, Profile],
    pools: Sequence[PoolConfig],
    req: SlotRequest,
    now: datetime,
    grid: Grid,
    earliest: datetime,
    latest: datetime,
    horizon_end: datetime,
) -> Message:
    """The urn:earliest-start message: the first start from ``earliest`` on, ignoring the window's end."""
    starts = _Starts(grid, grid.ceil(earliest), grid.floor(latest), None)
    if starts.first <= starts.last:
        first = grid.floor(earliest - req.preparation)
        stop = grid.ceil(horizon_end + req.release)
        searches = _searches(profiles, pools, req, None, now, grid, first, stop)
        chooser = _Chooser(searches, starts, grid, req, horizon_end)
        found = chooser.earliest(chooser.need, chooser.duration, None, strict=False)
        if found is not None:
            slot = chooser.slot(found)
            return reasons.earliest_start(now, slot.start, slot.pool)
    return reasons.no_start_within_horizon(now, horizon_end)
