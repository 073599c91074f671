"""The ASGI application: routes, error handling, request ids, metrics and the engine's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from execbroker import __version__
from execbroker.api import operations, protocol
from execbroker.api.context import Context
from execbroker.api.observability import RequestContext
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
        # Everything built so far lives as long as the process: keep the cyclic collector off it,
        # and let it run less often (a request allocates thousands of short-lived objects).
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
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

    app.add_middleware(RequestContext, access_log=settings.logging.access_log)

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


def serve(app: FastAPI, settings: Settings) -> None:
    """Run ``app`` with uvicorn in this process (one worker), as ``execbroker serve`` does."""
    import uvicorn

    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,
        access_log=False,
        proxy_headers=settings.server.proxy_headers,
        timeout_graceful_shutdown=10,
    )
