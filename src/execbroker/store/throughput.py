"""Measured staging throughput per source, kept across restarts (it improves later estimates)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from execbroker.store import tables

T = tables.throughput


def load_throughput(conn: Connection) -> dict[str, Any]:
    """The saved measurements, in the form ``ThroughputBook.load`` reads."""
    rows = conn.execute(select(T.c.source, T.c.bytes_per_second, T.c.samples)).all()
    return {"sources": {r[0]: {"bytes_per_second": r[1], "samples": r[2]} for r in rows}}


def save_throughput(conn: Connection, learned: dict[str, Any]) -> None:
    sources = learned.get("sources", {})
    if not sources:
        return
    conn.execute(delete(T).where(T.c.source.in_(list(sources))))
    now = time.time()
    conn.execute(
        insert(T),
        [
            {
                "source": key,
                "bytes_per_second": float(entry["bytes_per_second"]),
                "samples": int(entry.get("samples", 1)),
                "updated": now,
            }
            for key, entry in sources.items()
        ],
    )
