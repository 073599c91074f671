"""The broker as ``execbroker serve`` runs it, plus two routes that show what the stack itself costs.

Used by ``offers_http.py`` so that every number of one run comes from the same process:

- ``POST /bench/floor`` reads and parses the request body exactly as ``POST /requests`` does, then
  answers with a stored copy of a real offer set (``--canned``, written by the benchmark after its
  warm-up request), in the negotiated media type. No checking, planning or writing: the least any
  offer request can cost on this stack.
- ``POST /bench/decode`` does the same and also decodes the request into the domain model (the first
  step of a real offer request).

Run: ``python benchmarks/floor_server.py --config FILE --port N --canned FILE``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from execbroker.api.app import create_app, serve
from execbroker.api.logging import configure_logging
from execbroker.api.protocol import read_document
from execbroker.api.responses import document
from execbroker.config import load_settings
from execbroker.wire.dialects import Dialect, detect_dialect, get_codec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--canned", type=Path, required=True)
    args = parser.parse_args()
    settings = load_settings(args.config, server={"port": args.port})
    configure_logging(settings.logging.level, settings.logging.json_format)
    app = create_app(settings)
    cache: dict[str, Any] = {}

    def canned() -> Any:
        if "doc" not in cache:
            cache["doc"] = json.loads(args.canned.read_text())
        return cache["doc"]

    @app.post("/bench/floor", include_in_schema=False)
    async def floor(request: Request) -> Response:
        await read_document(request)
        return document(request, canned())

    @app.post("/bench/decode", include_in_schema=False)
    async def decode(request: Request) -> Response:
        doc = await read_document(request)
        get_codec(detect_dialect(doc, Dialect.V1_0)).decode_request(doc)
        return document(request, canned())

    serve(app, settings)  # as ``execbroker serve`` runs it


if __name__ == "__main__":
    main()
