"""Answers in the negotiated media type and dialect, and errors that always have a structured body."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from execbroker.model.components import OfferSet, Session
from execbroker.wire.dialects import Dialect, get_codec
from execbroker.wire.errors import NotAcceptable, Problem
from execbroker.wire.media import MediaType, dump, negotiate

_CONTENT_TYPES = {MediaType.JSON: "application/json", MediaType.YAML: "application/yaml"}


def media_for(request: Request) -> MediaType:
    """The response media type the client asked for (raises NotAcceptable)."""
    return negotiate(request.headers.get("accept"))


def fallback_media(request: Request) -> MediaType:
    """Like :func:`media_for`, but JSON when negotiation fails (for error bodies)."""
    try:
        return negotiate(request.headers.get("accept"))
    except NotAcceptable:
        return MediaType.JSON


def document(
    request: Request, doc: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    media = media_for(request)
    return Response(dump(doc, media), status_code=status, media_type=_CONTENT_TYPES[media], headers=headers)


def dialect_for(request: Request, stored: str) -> Dialect:
    """The dialect to answer in: ``?dialect=`` if given, else the one the offer set was made in."""
    override = request.query_params.get("dialect")
    value = stored if override is None else override
    try:
        return Dialect(value)
    except ValueError:
        from execbroker.services.errors import ServiceError

        names = ", ".join(d.value for d in Dialect)
        raise ServiceError(f"Unknown dialect [{value}]; use one of {names}") from None


def encode_session(session: Session, dialect: Dialect) -> dict[str, Any]:
    return get_codec(dialect).encode_session(session)


def encode_offerset(offerset: OfferSet, dialect: Dialect) -> dict[str, Any]:
    return get_codec(dialect).encode_offerset(offerset)


def error_body(
    status: int, error: str, message: str, problems: list[Problem] | None = None
) -> dict[str, Any]:
    """The error document: status, a short error code, a sentence, and each problem with its path."""
    body: dict[str, Any] = {"status": status, "error": error, "message": message}
    if problems:
        body["problems"] = [{"path": p.path, "message": p.message} for p in problems]
    return body


def error_response(
    request: Request, status: int, error: str, message: str, problems: list[Problem] | None = None
) -> Response:
    media = fallback_media(request)
    return Response(
        dump(error_body(status, error, message, problems), media),
        status_code=status,
        media_type=_CONTENT_TYPES[media],
    )
