"""The ASGI application: routes, error handling, request ids, metrics and the engine's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from execbroker import __version__
from execbroker.api import operations, protocol
from execbroker.api.context import Context
from execbroker.api.metrics import LATENCY, OFFERSETS, REQUESTS
from execbroker.api.responses import error_response
from execbroker.config import Settings
from execbroker.services.errors import ServiceError
from execbroker.wire.errors import Problem, WireError

log = logging.getLogger("execbroker.api")


def create_app(settings: Settings, *, context: Context | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or Context.build(settings)
        app.state.context = ctx
        ctx.notifier.bind(asyncio.get_running_loop())
        engine_task = None
        if settings.engine.enabled:
            engine_task = asyncio.create_task(ctx.engine.run(), name="engine")
        try:
            yield
        finally:
            if engine_task is not None:
                await ctx.engine.stop()
                engine_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await engine_task
            await ctx.platform.close()
            ctx.db.close()

    app = FastAPI(
        title="execbroker",
        version=__version__,
        description=(
            "An IVOA Execution Broker. Request and response bodies are YAML (default) or JSON, in the v1.0 "
            "dialect on /requests and /direct, and in the dialect of the request on /offersets and /sessions."
        ),
        lifespan=lifespan,
    )
    app.include_router(operations.router)
    app.include_router(protocol.router)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        if not _plain(request_id):
            request_id = uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # a bug: answer 500 with a body, and log it with the request id
            log.exception("unhandled error", extra={"path": request.url.path})
            response = error_response(
                request, 500, "internal-error", f"Internal error (request {request_id})"
            )
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        LATENCY.labels(request.method, path).observe(elapsed)
        if path in ("/requests", "/offersets") and response.status_code in (200, 303):
            result = response.headers.get("x-execbroker-result")
            if result:
                OFFERSETS.labels(result).inc()
        response.headers["X-Request-ID"] = request_id
        if settings.logging.access_log:
            log.info(
                "request",
                extra={"method": request.method, "path": request.url.path, "status": response.status_code},
            )
        return response

    @app.exception_handler(WireError)
    async def wire_error(request: Request, exc: WireError) -> Response:
        return error_response(request, exc.status, exc.error, str(exc), exc.problems)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        return error_response(request, exc.status, exc.error, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "not-found", 405: "method-not-allowed"}
        return error_response(
            request, exc.status_code, names.get(exc.status_code, "http-error"), str(exc.detail)
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            Problem("/" + "/".join(str(p) for p in err.get("loc", ())), str(err.get("msg")))
            for err in exc.errors()
        ]
        return error_response(request, 400, "bad-request", "The request is not valid", problems)

    return app


def _plain(value: str) -> bool:
    return 0 < len(value) <= 128 and all(c.isalnum() or c in "-_.:" for c in value)
