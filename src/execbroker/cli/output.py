"""Machine output (JSON, YAML) on stdout, and the console that tables go to."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Any

import yaml
from rich.console import Console

from execbroker.model.components import Session
from execbroker.wire.dialects import Dialect, get_codec


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


def console() -> Console:
    """A console on stdout. Off a terminal (unless COLUMNS says otherwise), wide enough that a table
    never folds a uuid; NO_COLOR is respected by rich itself."""
    out = Console(highlight=False, soft_wrap=False)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        out = Console(highlight=False, soft_wrap=False, width=200)
    return out


def emit(doc: Any, output: Output) -> None:
    """Write ``doc`` to stdout as JSON or YAML."""
    if output is Output.YAML:
        sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    else:
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def session_document(session: Session) -> dict[str, Any]:
    """A session as the v1.0 wire document, for ``-o json|yaml``."""
    return get_codec(Dialect.V1_0).encode_session(session)
