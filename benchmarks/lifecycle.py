"""Sessions through the whole lifecycle per second, and the reconciler's lag.

1 000 direct-execution sessions (accepted at once) on the simulated platform with zero-length phases,
SQLite, one process. The sessions are created first with the engine stopped; then the engine runs
until every session is COMPLETED. Reported: sessions per second, the engine's lag (now minus the
oldest due step it claimed) sampled every 50 ms, and, as the baseline measured in the same run, the
cost of the bare database round trip the engine makes per step (a write transaction that claims
nothing). Run:

    python benchmarks/lifecycle.py [--sessions 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from execbroker.api.context import Context
from execbroker.config import load_settings
from execbroker.model.components import Executable, ExecutableKind, ExecutionRequest, Meta
from execbroker.model.phases import SessionPhase
from execbroker.store.sessions import claim_due, phase_counts


async def run(count: int, workdir: Path) -> None:
    config = workdir / "config.yaml"
    config.write_text(
        f"data_dir: {workdir}\n"
        "capacity:\n  resolution: PT1S\n"
        "  pools: [{name: p, cores: 100000, memory: 100000, storage: 1000000}]\n"
        "platform:\n  kind: simulated\n  simulated:\n    executables:\n"
        "      docker-container: {prepare: PT0S, run: PT0S, release: PT0S}\n    data: {}\n"
        "engine: {poll_interval: PT0.05S, concurrency: 64}\n"
        "logging: {level: WARNING}\n"
    )
    settings = load_settings(config)
    context = Context.build(settings)
    context.notifier.bind(asyncio.get_running_loop())
    request = ExecutionRequest(
        executable=Executable(
            kind=ExecutableKind.DOCKER_CONTAINER,
            meta=Meta(name="x"),
            spec={"image": {"locations": ["localhost/busybox:test"]}},
        )
    )
    made = time.perf_counter()
    for _ in range(count):
        await context.offers.request(request, dialect="v1.0", owner="bench", base_url="http://b", direct=True)
    made = time.perf_counter() - made
    await asyncio.sleep(1.1)  # let every slot start (resolution 1 s)

    # Baseline: the bare write transaction the engine makes to claim work.
    rounds = 500
    base = time.perf_counter()
    for _ in range(rounds):
        await context.db.run_write(lambda conn: claim_due(conn, now=0.0, owner="b", lease=1, limit=1))
    baseline_ms = (time.perf_counter() - base) / rounds * 1000

    lags: list[float] = []
    engine = asyncio.create_task(context.engine.run())
    started = time.perf_counter()
    while True:
        await asyncio.sleep(0.05)
        lags.append(context.engine.lag_seconds)
        counts = await context.db.run_read(phase_counts)
        if counts.get(SessionPhase.COMPLETED.value, 0) >= count:
            break
        if time.perf_counter() - started > 600:
            raise SystemExit(f"timed out: {counts}")
    elapsed = time.perf_counter() - started
    await context.engine.stop()
    engine.cancel()
    context.db.close()
    print(f"sessions:                 {count}")
    print(f"created (direct) in:      {made:.2f} s ({count / made:.0f} requests/s)")
    print(f"lifecycle of all:         {elapsed:.2f} s")
    print(f"sessions per second:      {count / elapsed:.0f}")
    print(f"engine steps persisted:   {context.engine.steps_done}")
    print(f"engine lag mean / max:    {statistics.mean(lags):.3f} s / {max(lags):.3f} s")
    print(
        f"baseline claim txn:       {baseline_ms:.2f} ms "
        f"(lifecycle per session: {elapsed / count * 1000:.2f} ms"
        f" = {elapsed / count * 1000 / baseline_ms:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.sessions, Path(tmp)))


if __name__ == "__main__":
    main()
