"""The Execution Broker endpoints: offer requests, offer sets, sessions, updates, direct execution."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from execbroker.api.context import Context
from execbroker.api.responses import (
    dialect_for,
    document,
    encode_offerset,
    encode_session,
    media_for,
)
from execbroker.model.components import Family, Result
from execbroker.model.phases import SessionPhase
from execbroker.services.errors import NotFound, ServiceError
from execbroker.store.records import SessionRecord
from execbroker.wire.dialects import Dialect, detect_dialect, get_codec
from execbroker.wire.media import Limits, parse_body

router = APIRouter()

ANONYMOUS = "anonymous"

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def ctx(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def base_url(request: Request) -> str:
    """The broker's own URL as the client reached it (or as configured), without a trailing slash."""
    configured = ctx(request).settings.server.base_url
    if configured:
        return configured.rstrip("/")
    scope = request.scope
    host = request.headers.get("host")
    if host is not None and len(host) > 200:  # not worth caching (and must not fill the cache)
        return str(request.base_url).rstrip("/")
    server = scope.get("server")
    key = (
        scope.get("scheme"),
        host,
        tuple(server) if server else None,
        scope.get("root_path"),
    )
    found = _BASE_URLS.get(key)
    if found is None:
        found = str(request.base_url).rstrip("/")
        if len(_BASE_URLS) >= 1024:
            _BASE_URLS.clear()
        _BASE_URLS[key] = found
    return found


#: (scheme, Host header, server address, root path) -> base URL: building it is costly and the same
#: few combinations come back on every request.
_BASE_URLS: dict[tuple[object, ...], str] = {}


def owner(request: Request) -> str:
    return ANONYMOUS


async def read_document(request: Request) -> Any:
    limits = Limits(max_bytes=ctx(request).settings.server.max_body_bytes)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        from execbroker.wire.errors import BodyTooLarge, Problem

        raise BodyTooLarge([Problem("/", f"The body is {declared} bytes; the limit is {limits.max_bytes}")])
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limits.max_bytes:
            from execbroker.wire.errors import BodyTooLarge, Problem

            raise BodyTooLarge([Problem("/", f"The body is larger than {limits.max_bytes} bytes")])
    return parse_body(bytes(body), request.headers.get("content-type"), limits)


def prefers_representation(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return "return=representation" in prefer.replace(" ", "").lower()


async def _offer_request(request: Request, endpoint_dialect: Dialect, direct: bool) -> Response:
    media_for(request)  # fail with 406 before doing any work
    dialect_for(request, endpoint_dialect.value)  # and with 400 for a bad ?dialect=
    doc = await read_document(request)
    dialect = detect_dialect(doc, endpoint_dialect)
    decoded = get_codec(dialect).decode_request(doc)
    context = ctx(request)
    answer = await context.offers.request(
        decoded, dialect=dialect.value, owner=owner(request), base_url=base_url(request), direct=direct
    )
    out = dialect_for(request, answer.dialect)  # the request's dialect, or ?dialect=
    asked = f"?dialect={out.value}" if "dialect" in request.query_params else ""
    if direct:
        session = answer.accepted
        if session is None:
            failed = _failed_session(answer)
            return document(request, encode_session(failed, out), status=400)
        location = f"{base_url(request)}/sessions/{session.meta.uuid}{asked}"
        body = encode_session(session, out)
        if prefers_representation(request):
            return document(request, body, headers={"Content-Location": location})
        return document(request, body, status=303, headers={"Location": location})
    offerset = answer.offerset
    location = f"{base_url(request)}/offersets/{offerset.meta.uuid}{asked}"
    if out is Dialect.V1_0 and answer.v10_offers is not None and answer.v10_shell is not None:
        # The set and its offers were written in exact v1.0 for the store already: answer with them.
        body = dict(answer.v10_shell)
        body["offers"] = answer.v10_offers
    elif out.value != answer.dialect:
        # Another dialect than the request's (?dialect=): answer with the set as stored, as a GET would.
        record, sessions = await context.sessions.get_offerset(str(offerset.meta.uuid))
        body = encode_offerset(context.codec.offerset(record, sessions), out)
    else:
        body = encode_offerset(offerset, out)
    result = (offerset.result or Result.NO).value
    if prefers_representation(request):
        return document(request, body, headers={"Content-Location": location, "X-Execbroker-Result": result})
    return document(request, body, status=303, headers={"Location": location, "X-Execbroker-Result": result})


def _failed_session(answer: Any) -> Any:
    from execbroker.model.components import Meta, Session

    offerset = answer.offerset
    return Session(
        meta=Meta(
            uuid=offerset.meta.uuid, created=offerset.meta.created, messages=list(offerset.meta.messages)
        ),
        phase=SessionPhase.FAILED,
    )


@router.post("/requests", status_code=303, openapi_extra=_BODY, summary="Ask for offers (v1.0)")
async def post_requests(request: Request) -> Response:
    return await _offer_request(request, Dialect.V1_0, direct=False)


@router.post("/offersets", status_code=303, openapi_extra=_BODY, summary="Ask for offers (N25 and seed)")
async def post_offersets(request: Request) -> Response:
    return await _offer_request(request, Dialect.N25, direct=False)


@router.post("/direct", status_code=303, openapi_extra=_BODY, summary="Run at the earliest slot (v1.0)")
async def post_direct(request: Request) -> Response:
    return await _offer_request(request, Dialect.V1_0, direct=True)


@router.post("/sessions", status_code=303, openapi_extra=_BODY, summary="Run at the earliest slot (REF)")
async def post_sessions(request: Request) -> Response:
    return await _offer_request(request, Dialect.N25, direct=True)


@router.get("/offersets/{uuid}", summary="Read an offer set")
async def get_offerset(uuid: str, request: Request) -> Response:
    context = ctx(request)
    record, sessions = await context.sessions.get_offerset(uuid)
    offerset = context.codec.offerset(record, sessions)
    return document(request, encode_offerset(offerset, dialect_for(request, record.dialect)))


def _limit_offset(request: Request) -> tuple[int, int]:
    try:
        limit = int(request.query_params.get("limit", "50"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        raise ServiceError("limit and offset must be whole numbers") from None
    if not 1 <= limit <= 500 or not 0 <= offset <= _MAX_OFFSET:
        raise ServiceError(f"limit must be 1..500 and offset 0..{_MAX_OFFSET}")
    return limit, offset


#: The largest listing offset (the databases' integers are 64-bit).
_MAX_OFFSET = 2**62


def _known_parameters(request: Request, known: set[str]) -> None:
    """Refuse query parameters a listing does not read, rather than answer as if they were not there."""
    unknown = sorted({k for k in request.query_params if k not in known})
    if unknown:
        names = ", ".join(sorted(known))
        raise ServiceError(f"Unknown query parameter(s) {', '.join(unknown)}; this listing reads {names}")


def _page(request: Request, items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    page: dict[str, Any] = {"total": total, "limit": limit, "offset": offset, "items": items}
    if offset + limit < total:
        query = request.query_params.multi_items()
        kept = "&".join(f"{k}={v}" for k, v in query if k not in ("offset", "limit"))
        page["next"] = f"{request.url.path}?{kept + '&' if kept else ''}limit={limit}&offset={offset + limit}"
    return page


@router.get("/offersets", summary="List offer sets")
async def list_offersets(request: Request) -> Response:
    _known_parameters(request, {"limit", "offset", "owner", "result"})
    limit, offset = _limit_offset(request)
    result = request.query_params.get("result")
    if result is not None and result not in (Result.YES.value, Result.NO.value):
        raise ServiceError("result must be YES or NO")
    page = await ctx(request).sessions.list_offersets(
        owner=request.query_params.get("owner"), result=result, limit=limit, offset=offset
    )
    base = base_url(request)
    items = [
        {
            "uuid": r.uuid,
            "url": f"{base}/offersets/{r.uuid}",
            "result": r.result,
            "owner": r.owner,
            "dialect": r.dialect,
            "created": _instant(r.created),
        }
        for r in page.items
        if not isinstance(r, SessionRecord)
    ]
    return document(request, _page(request, items, page.total, limit, offset))


def _instant(epoch: float | None) -> str | None:
    from datetime import UTC, datetime

    from execbroker.model.times import format_instant

    return format_instant(datetime.fromtimestamp(epoch, UTC)) if epoch is not None else None


@router.get("/sessions", summary="List sessions")
async def list_sessions(request: Request) -> Response:
    _known_parameters(request, {"limit", "offset", "owner", "phase", "offerset"})
    limit, offset = _limit_offset(request)
    phases = None
    if "phase" in request.query_params:
        try:
            phases = [SessionPhase(p.upper()) for p in request.query_params.getlist("phase")]
        except ValueError:
            raise ServiceError("phase must be a session phase such as RUNNING") from None
    page = await ctx(request).sessions.list(
        owner=request.query_params.get("owner"),
        phases=phases,
        offerset=request.query_params.get("offerset"),
        limit=limit,
        offset=offset,
    )
    base = base_url(request)
    items = [
        {
            "uuid": r.uuid,
            "url": f"{base}/sessions/{r.uuid}",
            "phase": r.phase.value,
            "offerset": r.offerset_uuid,
            "owner": r.owner,
            "created": _instant(r.created),
            "modified": _instant(r.modified),
            "start": _instant(r.start_at),
            "end": _instant(r.end_at),
        }
        for r in page.items
        if isinstance(r, SessionRecord)
    ]
    return document(request, _page(request, items, page.total, limit, offset))


@router.get("/sessions/{uuid}", summary="Read a session (?WAIT=seconds&PHASE=phase to long-poll)")
async def get_session(uuid: str, request: Request) -> Response:
    context = ctx(request)
    params = {k.lower(): v for k, v in request.query_params.items()}
    if "wait" in params:
        try:
            seconds = min(float(params["wait"]), context.settings.server.max_wait)
        except ValueError:
            raise ServiceError("WAIT must be a number of seconds") from None
        if math.isnan(seconds):
            raise ServiceError("WAIT must be a number of seconds")
        if seconds < 0:  # UWS: a negative WAIT means as long as the service allows
            seconds = context.settings.server.max_wait
        phase = None
        if "phase" in params:
            try:
                phase = SessionPhase(params["phase"].upper())
            except ValueError:
                raise ServiceError(f"PHASE [{params['phase']}] is not a session phase") from None
        record = await context.sessions.wait(uuid, seconds, phase)
    else:
        record = await context.sessions.get(uuid)
    session = context.codec.session(record)
    return document(request, encode_session(session, dialect_for(request, record.dialect)))


@router.post("/sessions/{uuid}", openapi_extra=_BODY, summary="Update a session (accept, reject, cancel)")
async def post_session(uuid: str, request: Request) -> Response:
    context = ctx(request)
    media_for(request)
    record = await context.sessions.get(uuid)
    doc = await read_document(request)
    change = get_codec(Dialect(record.dialect)).decode_update(doc)
    record = await context.sessions.apply(uuid, change, actor=owner(request))
    session = context.codec.session(record)
    return document(request, encode_session(session, dialect_for(request, record.dialect)))


@router.get("/sessions/{uuid}/events", summary="Every phase change of a session: when, from, to, by whom")
async def session_events(uuid: str, request: Request) -> Response:
    context = ctx(request)
    uuid = (await context.sessions.get(uuid)).uuid
    from execbroker.store.sessions import list_events

    events = await context.db.run_read(lambda conn: list_events(conn, uuid))
    for event in events:
        at = event["at"]
        event["at"] = _instant(at if isinstance(at, float) else None)
    return document(request, {"session": uuid, "items": events})


@router.get("/sessions/{uuid}/logs", summary="The executable's output so far (text)")
async def session_logs(uuid: str, request: Request) -> Response:
    context = ctx(request)
    record = await context.sessions.get(uuid)
    session = context.codec.session(record)
    text = await context.platform.logs(session, record.platform_state)
    if text is None:
        raise NotFound(_no_logs(record, context.platform.name))
    return Response(text, media_type="text/plain; charset=utf-8")


#: Phases before the executable can have written anything.
_BEFORE_RUN = frozenset(
    {
        SessionPhase.INITIAL,
        SessionPhase.OFFERED,
        SessionPhase.ACCEPTED,
        SessionPhase.WAITING,
        SessionPhase.PREPARING,
        SessionPhase.AVAILABLE,
    }
)


def _no_logs(record: SessionRecord, platform: str) -> str:
    """Why a session has no output to show: not run yet, never run, or a platform that keeps none."""
    phase = record.phase
    if phase in _BEFORE_RUN:
        return f"No output yet: the session is {phase.value}; its executable's output is kept once it runs"
    if platform == "simulated":
        return "The simulated platform runs nothing, so it has no output to show"
    return f"No output is kept for this session (it is {phase.value}; it may never have run)"


def _component_route(family: Family) -> Any:
    async def get_component(uuid: str, request: Request) -> Response:
        context = ctx(request)
        record = await context.sessions.component(uuid, family.value)
        session = context.codec.session(record)
        dialect = dialect_for(request, record.dialect)
        encoded = encode_session(session, dialect)
        found = _find_component(encoded, uuid)
        if found is None:
            raise ServiceError(f"Component [{uuid}] is not in its session any more")
        return document(request, found)

    get_component.__name__ = f"get_{family.name.lower()}"
    return get_component


def _find_component(doc: Any, uuid: str) -> Any:
    if isinstance(doc, dict):
        meta = doc.get("meta")
        if (isinstance(meta, dict) and meta.get("uuid") == uuid) or doc.get("uuid") == uuid:
            return doc
        for value in doc.values():
            found = _find_component(value, uuid)
            if found is not None:
                return found
    elif isinstance(doc, list):
        for value in doc:
            found = _find_component(value, uuid)
            if found is not None:
                return found
    return None


for _family in (Family.EXECUTABLE, Family.COMPUTE, Family.STORAGE, Family.DATA, Family.VOLUME):
    router.add_api_route(
        f"/{_family.value}/{{uuid}}",
        _component_route(_family),
        methods=["GET"],
        summary=f"Read one {_family.name.lower()} component",
    )
