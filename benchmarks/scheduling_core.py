"""Per-call cost of offer generation at 1k, 10k and 100k live reservations (information, not a test).

Run: .venv/bin/python benchmarks/scheduling_core.py

The profile is built once per ledger size (as the store does at start-up); each timed call is one
offer request against it. The cost should not grow with the number of reservations.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from execbroker.scheduling import (
    Amounts,
    Booking,
    Bounds,
    CapacityConfig,
    Demand,
    PoolConfig,
    Profile,
    SlotRequest,
    generate_for,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def ledger(count: int, config: CapacityConfig, rng: random.Random) -> list[Booking]:
    """One-core bookings of 10 min to 4 h spread over the horizon (100k of them load ~30% of 4096 cores)."""
    horizon_s = int(config.horizon.total_seconds())
    out = []
    for _ in range(count):
        start = NOW + timedelta(seconds=rng.randrange(0, horizon_s))
        length = timedelta(minutes=rng.randrange(10, 240))
        out.append(Booking(start, start + length, Amounts(1, 1, 0)))
    return out


def main() -> None:
    config = CapacityConfig(pools=[PoolConfig(name="default", cores=4096, memory=16384, storage=100000)])
    rng = random.Random(7)
    requests = [
        SlotRequest(
            demand=Demand(cores=Bounds(2, 8), memory=Bounds(4)),
            window_start=NOW,
            window_width=timedelta(hours=2),
            duration=timedelta(hours=1),
            preparation=timedelta(seconds=30),
            release=timedelta(seconds=10),
        ),
        SlotRequest(
            demand=Demand(cores=Bounds(1), memory=Bounds(1)),
            window_start=NOW,
            window_width=timedelta(days=7),
            duration=timedelta(hours=2),
        ),
    ]
    for count in (1_000, 10_000, 100_000):
        built = time.perf_counter()
        bookings = ledger(count, config, rng)
        profile = Profile.from_bookings(
            config.pools[0].totals, NOW, config.resolution, config.horizon + timedelta(days=1), bookings
        )
        built = time.perf_counter() - built
        for label, req in zip(("2 h window", "7 d window"), requests, strict=True):
            calls = 300
            t0 = time.process_time()
            for _ in range(calls):
                plan = generate_for(config, {"default": profile}, req, NOW)
            per_call = (time.process_time() - t0) / calls * 1e6
            print(
                f"{count:>7} reservations  {label}: {per_call:8.1f} us CPU per request "
                f"({len(plan.slots)} offers; ledger+profile built in {built * 1e3:.0f} ms)"
            )


if __name__ == "__main__":
    main()
