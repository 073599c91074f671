"""What an operator and the VO registry look at: service root, health, VOSI, metrics, the platform."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Connection

from execbroker import __version__
from execbroker.api.context import Context
from execbroker.api.metrics import REGISTRY, refresh_gauges
from execbroker.api.protocol import base_url, ctx
from execbroker.api.responses import document
from execbroker.model.times import format_duration, format_instant, parse_instant
from execbroker.scheduling.amounts import Amounts
from execbroker.services.errors import ServiceError
from execbroker.store.ledger import live_reservations
from execbroker.store.sessions import phase_counts

router = APIRouter()

#: Provisional: the IVOA has not assigned the Execution Broker a standard identifier yet.
STANDARD_ID = "ivo://ivoa.net/std/ExecutionBroker#v1.0"


@router.get("/", summary="Service name, version and links")
async def root(request: Request) -> Response:
    base = base_url(request)
    return document(
        request,
        {
            "service": "execbroker",
            "description": "An IVOA Execution Broker: ask when and where something can run, then run it",
            "version": __version__,
            "platform": ctx(request).platform.name,
            "links": {
                "requests": f"{base}/requests",
                "direct": f"{base}/direct",
                "offersets": f"{base}/offersets",
                "sessions": f"{base}/sessions",
                "platform": f"{base}/platform",
                "availability": f"{base}/availability",
                "capabilities": f"{base}/capabilities",
                "openapi": f"{base}/openapi.json",
                "docs": f"{base}/docs",
                "metrics": f"{base}/metrics",
            },
        },
    )


@router.get("/healthz", summary="Liveness")
async def healthz(request: Request) -> Response:
    return Response('{"status":"ok"}', media_type="application/json")


async def _readiness(context: Context) -> tuple[bool, list[str]]:
    notes: list[str] = []
    try:
        revision = await context.db.run_read(lambda conn: context.db.current_revision())
    except Exception as exc:  # any database failure means not ready
        return False, [f"database unreachable: {type(exc).__name__}"]
    head = context.db.head_revision()
    if revision != head:
        notes.append(f"database schema at {revision}, expected {head}")
    if context.settings.engine.enabled and not context.engine.running:
        notes.append("the lifecycle engine is not running")
    if notes:
        return False, notes
    engine = "engine running" if context.settings.engine.enabled else "engine disabled in this process"
    return True, [f"database reachable, schema current, {engine}"]


@router.get("/readyz", summary="Readiness: database reachable, schema current, engine running")
async def readyz(request: Request) -> Response:
    ready, notes = await _readiness(ctx(request))
    return document(request, {"ready": ready, "notes": notes}, status=200 if ready else 503)


@router.get("/availability", summary="VOSI availability (XML); HEAD too, as for every GET")
async def availability(request: Request) -> Response:
    from vo_models.vosi.availability import Availability

    context = ctx(request)
    ready, notes = await _readiness(context)
    doc = Availability(available=ready, up_since=context.started, note=notes)
    return Response(doc.to_xml(skip_empty=True), media_type="text/xml")


@router.get("/capabilities", summary="VOSI capabilities (XML); HEAD too, as for every GET")
async def capabilities(request: Request) -> Response:
    from pydantic import AnyUrl
    from vo_models.voresource.models import AccessURL, Capability, Interface
    from vo_models.vosi.capabilities.models import VOSICapabilities

    base = base_url(request)

    def capability(standard: str, url: str, use: Literal["full", "base", "dir"]) -> Capability:
        access = AccessURL(value=AnyUrl(url), use=use)
        return Capability(standard_id=AnyUrl(standard), interface=[Interface(access_url=[access])])

    doc = VOSICapabilities(
        capability=[
            capability(STANDARD_ID, base, "base"),
            capability("ivo://ivoa.net/std/VOSI#availability", f"{base}/availability", "full"),
            capability("ivo://ivoa.net/std/VOSI#capabilities", f"{base}/capabilities", "full"),
        ]
    )
    return Response(doc.to_xml(skip_empty=True), media_type="text/xml")


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    context = ctx(request)
    counts = await context.db.run_read(phase_counts)
    refresh_gauges(counts, context.engine.lag_seconds)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get("/platform", summary="Pools, limits and the booked/held capacity over a time range")
async def platform(request: Request) -> Response:
    context = ctx(request)
    capacity = context.settings.capacity
    now = datetime.now(UTC)
    try:
        start = parse_instant(request.query_params["start"]) if "start" in request.query_params else now
        end = (
            parse_instant(request.query_params["end"])
            if "end" in request.query_params
            else start + timedelta(days=1)
        )
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    if end <= start:
        raise ServiceError("end must be after start")
    if end - start > capacity.horizon + timedelta(days=7):
        raise ServiceError("the range is too long; ask for at most the horizon plus a week")
    pools: list[dict[str, Any]] = []
    for pool in capacity.pools:
        rows = await context.db.run_read(
            functools.partial(_live, name=pool.name, start=start.timestamp(), end=end.timestamp())
        )
        pools.append(
            {
                "name": pool.name,
                "totals": {
                    "cores": pool.cores,
                    "memory": pool.memory,
                    "storage": pool.storage,
                    "gpus": pool.gpus,
                },
                "profile": _steps(rows, start.timestamp(), end.timestamp()),
                "reservations": len(rows),
            }
        )
    limits = capacity.limits
    doc = {
        "platform": context.platform.name,
        "range": {"start": format_instant(start), "end": format_instant(end)},
        "resolution": format_duration(capacity.resolution),
        "horizon": format_duration(capacity.horizon),
        "offers_per_request": capacity.offers_per_request,
        "offer_lifetime": format_duration(capacity.offer_lifetime),
        "min_accept_time": format_duration(capacity.min_accept_time),
        "limits": {
            "max_cores": limits.max_cores,
            "max_memory": limits.max_memory,
            "max_storage": limits.max_storage,
            "max_duration": format_duration(limits.max_duration) if limits.max_duration else None,
        },
        "pools": pools,
    }
    return document(request, doc)


def _live(conn: Connection, *, name: str, start: float, end: float) -> list[tuple[float, float, Amounts]]:
    return live_reservations(conn, name, start, end)


def _steps(rows: list[tuple[float, float, Any]], start: float, end: float) -> list[dict[str, Any]]:
    """The used capacity as a step function: one entry per change, from ``start`` to ``end``."""
    deltas: dict[float, list[int]] = {}
    for s, e, amounts in rows:
        # A reservation that lasts beyond ``end`` has no step down inside the range.
        changes = ((max(s, start), 1), (e, -1)) if e < end else ((max(s, start), 1),)
        for at, sign in changes:
            d = deltas.setdefault(at, [0, 0, 0, 0])
            for i, v in enumerate((amounts.cores, amounts.memory, amounts.storage, amounts.gpus)):
                d[i] += sign * v
    used = [0, 0, 0, 0]
    steps = []
    for at in sorted(deltas):
        used = [u + d for u, d in zip(used, deltas[at], strict=True)]
        steps.append(
            {
                "from": format_instant(datetime.fromtimestamp(at, UTC)),
                "cores": used[0],
                "memory": used[1],
                "storage": used[2],
                "gpus": used[3],
            }
        )
    if not steps or steps[0]["from"] != format_instant(datetime.fromtimestamp(start, UTC)):
        steps.insert(
            0,
            {
                "from": format_instant(datetime.fromtimestamp(start, UTC)),
                "cores": 0,
                "memory": 0,
                "storage": 0,
                "gpus": 0,
            },
        )
    return steps
