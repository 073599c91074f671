"""Offer-request throughput and latency through the HTTP API, against live reservations.

One server process (uvicorn, one worker, SQLite unless ``--postgres`` is given), JSON, concurrency
32 (wrk), with 0, 1 000, 10 000 and 100 000 live reservations preloaded in the ledger, and the same
server's trivial endpoint (GET /healthz) as the baseline, measured in the same run. Run:

    python benchmarks/offers_http.py [--duration 10] [--rounds 3] [--sizes 0,1000,10000,100000]
                                     [--postgres postgresql+psycopg://user@host:port/postgres]

Needs ``wrk`` (Debian package). Each size is measured in alternating rounds (trivial, floor, decode,
offers, trivial, ...) and the medians are printed, one table; the ratio column is offer throughput
over the trivial endpoint's. The server is ``floor_server.py``: the broker as ``execbroker serve``
runs it, with two more routes that show the stack's own floor for an offer request (read and parse
the body, then answer a stored offer set; and the same plus decoding the request). Offers are held
for their lifetime (300 s), so every offer request of the run adds to the live reservations too (the
"live in 24h" column counts them at the end).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from sqlalchemy import create_engine, insert, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from execbroker.store import tables
from execbroker.store.db import Database
from processes import free_port

P = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/"
POOL = {"name": "bench", "cores": 1_000_000, "memory": 4_000_000, "storage": 10_000_000}

REQUEST = {
    "executable": {
        "kind": P + "executable/docker-container.yaml",
        "meta": {"name": "bench"},
        "image": {"locations": ["localhost/busybox:test"]},
        "environment": {"A": "1", "B": "2"},
    },
    "compute": {
        "kind": P + "compute/simple-compute-resource.yaml",
        "meta": {"name": "c"},
        "cores": {"min": 2, "max": 4},
        "memory": {"min": 2, "max": 8},
    },
    "schedule": {"requested": {"duration": "PT1H"}},
}


def preload(url: str, count: int, now: datetime) -> None:
    db = Database(url)
    db.migrate()
    rng = random.Random(count)
    rows = []
    horizon = 7 * 86400
    for i in range(count):
        start = now.timestamp() + rng.uniform(0, horizon)
        rows.append(
            {
                "pool": POOL["name"],
                "session_uuid": f"preload-{i}",
                "start_at": start,
                "end_at": start + rng.choice([600, 3600, 7200, 14400]),
                "cores": rng.randint(1, 8),
                "memory": rng.randint(1, 16),
                "storage": 1,
                "gpus": 0,
                "live": True,
                "created_seq": 1,
                "changed_seq": 1,
            }
        )
    with db.write() as conn:
        conn.execute(insert(tables.pools).values(name=POOL["name"], version=1))
        for chunk in range(0, len(rows), 5000):
            conn.execute(insert(tables.reservations), rows[chunk : chunk + 5000])
        conn.execute(update(tables.pools).values(version=1))
    db.close()


#: What is measured, in each round in this order: name -> (path, whether it POSTs the request).
ENDPOINTS = {
    "trivial": ("/healthz", False),
    "floor": ("/bench/floor", True),
    "decode": ("/bench/decode", True),
    "offers": ("/requests", True),
}


def wrk(url: str, seconds: int, script: Path | None) -> dict[str, float]:
    command = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1", *command]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per measure, the median over the rounds (errors: the sum)."""
    out = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    out["errors"] = sum(r["errors"] for r in runs)
    return out


def fresh_database(server_url: str, size: int) -> str:
    """An empty PostgreSQL database ``execbroker_bench_<size>`` on the server of ``server_url``."""
    name = f"execbroker_bench_{size}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def run(
    size: int, seconds: int, rounds: int, workdir: Path, postgres: str | None
) -> tuple[dict[str, dict[str, float]], int]:
    data = workdir / f"n{size}"
    data.mkdir()
    db_url = fresh_database(postgres, size) if postgres else f"sqlite:///{data / 'execbroker.db'}"
    now = datetime.now(UTC)
    preload(db_url, size, now)
    config = {
        "data_dir": str(data),
        "database": {"url": db_url},
        "capacity": {"pools": [POOL], "resolution": "PT60S"},
        "platform": {"kind": "simulated"},
        "engine": {"poll_interval": "PT1S"},
        "logging": {"level": "WARNING", "json_format": True},
    }
    (data / "config.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    canned = data / "canned.json"
    server = [
        sys.executable,
        str(Path(__file__).resolve().parent / "floor_server.py"),
        "--port",
        str(port),
        "--config",
        str(data / "config.yaml"),
        "--canned",
        str(canned),
    ]
    if shutil.which("taskset"):
        server = ["taskset", "-c", "0", *server]
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(server, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit("the broker exited:\n" + (data / "server.log").read_text()[-3000:])
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        body = json.dumps(REQUEST)
        script = data / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body)}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            'wrk.headers["Accept"] = "application/json"\n'
            'wrk.headers["Prefer"] = "return=representation"\n'
        )
        # Warm up (builds the profile from the preloaded ledger), then measure in alternating rounds
        # (this machine's speed drifts; the median of the rounds is reported).
        warm = httpx.post(
            f"{base}/requests",
            content=body,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Prefer": "return=representation",
            },
            timeout=60,
        )
        warm.raise_for_status()
        canned.write_bytes(warm.content)  # what the floor routes answer
        wrk(f"{base}/healthz", 2, None)
        measured: dict[str, list[dict[str, float]]] = {name: [] for name in ENDPOINTS}
        for _ in range(rounds):
            for name, (path, posts) in ENDPOINTS.items():
                measured[name].append(wrk(f"{base}{path}", seconds, script if posts else None))
        results = {name: _median(runs) for name, runs in measured.items()}
        live = httpx.get(f"{base}/platform", headers={"Accept": "application/json"}, timeout=30).json()
        held = sum(p["reservations"] for p in live["pools"])
    finally:
        process.terminate()
        process.wait(20)
    return results, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per size (median)")
    parser.add_argument("--sizes", default="0,1000,10000,100000")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on PostgreSQL instead of SQLite: a server URL (a fresh database is made per size)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            results, held = run(size, args.duration, args.rounds, Path(tmp), args.postgres)
            rows.append((size, results, held))
    print(
        f"{'reservations':>12} {'trivial req/s':>14} {'offers req/s':>13} {'ratio':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'live in 24h':>11} "
        f"{'floor ratio':>11} {'decode ratio':>12}"
    )
    for size, results, held in rows:
        trivial, offers = results["trivial"], results["offers"]
        print(
            f"{size:>12} {trivial['rps']:>14.0f} {offers['rps']:>13.0f} "
            f"{offers['rps'] / trivial['rps']:>6.2f} "
            f"{offers['p50']:>7.1f} {offers['p99']:>7.1f} {offers['errors']:>6.0f} {held:>11} "
            f"{results['floor']['rps'] / trivial['rps']:>11.2f} "
            f"{results['decode']['rps'] / trivial['rps']:>12.2f}"
        )
    by_size = {size: results["offers"] for size, results, _ in rows}
    if 1000 in by_size and 100000 in by_size:
        print(f"p50 latency at 100 000 / at 1 000: {by_size[100000]['p50'] / by_size[1000]['p50']:.2f}x")
    print(
        "floor ratio: POST /bench/floor (read and parse the request, answer a stored offer set) over "
        "the trivial endpoint;\ndecode ratio: the same plus decoding the request. No offer request can "
        "be faster than the floor on this stack."
    )


if __name__ == "__main__":
    main()
