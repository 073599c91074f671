"""Request ids, request metrics and the last-resort 500, as a plain ASGI middleware.

A plain ASGI wrapper rather than Starlette's ``BaseHTTPMiddleware``: that one runs every request in
an extra task with memory streams, which cost a large share of the time of a small request here.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from execbroker.api.metrics import LATENCY, OFFERSETS, REQUESTS

log = logging.getLogger("execbroker.api")

_BOOKING_ROUTES = frozenset({"/requests", "/offersets"})


class RequestContext:
    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "")
        head = method == "HEAD"
        if head:
            # HEAD is GET without the body (RFC 9110 9.3.2), for every GET resource alike.
            scope = {**scope, "method": "GET"}
        request_id = _request_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "result": None, "sent": False}
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["sent"] = True
                headers = list(message.get("headers", []))
                for name, value in headers:
                    if name == b"x-execbroker-result":
                        state["result"] = value.decode()
                message["headers"] = [*headers, header]
            elif head and message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # a bug: answer 500 with a body (if nothing was sent yet) and log it
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not state["sent"]:
                body = orjson.dumps(
                    {
                        "status": 500,
                        "error": "internal-error",
                        "message": f"Internal error (request {request_id})",
                    }
                )
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        route = scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUESTS.labels(method, path, str(state["status"])).inc()
        LATENCY.labels(method, path).observe(time.perf_counter() - started)
        if path in _BOOKING_ROUTES and state["result"]:
            OFFERSETS.labels(state["result"]).inc()
        if self.access_log:
            log.info(
                "request", extra={"method": method, "path": scope.get("path"), "status": state["status"]}
            )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if 0 < len(text) <= 128 and all(c.isalnum() or c in "-_.:" for c in text):
                return text
            break
    return uuid.uuid4().hex
