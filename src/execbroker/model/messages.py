"""Messages: why an answer is NO, what went wrong, what was noticed.

A message carries a URN kind, a level, a template in the messagetemplates.org style (``${name}``),
its values (always strings, as the reference client requires) and the rendered text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from execbroker.model.times import utcnow


class Level(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    OTHER = "OTHER"


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.-]+)\}")


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``${name}`` placeholders; unknown names are left as they are."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(slots=True)
class Message:
    kind: str
    level: Level
    template: str
    values: dict[str, str] = field(default_factory=dict)
    time: datetime | None = None
    text: str | None = None

    @classmethod
    def make(cls, kind: str, level: Level, template: str, **values: Any) -> Message:
        """Build a message with its values turned into strings and its text rendered."""
        str_values = {k: _as_text(v) for k, v in values.items()}
        return cls(kind, level, template, str_values, utcnow(), render(template, str_values))

    @property
    def rendered(self) -> str:
        return self.text if self.text is not None else render(self.template, self.values)


def _as_text(value: Any) -> str:
    if isinstance(value, datetime):
        from execbroker.model.times import format_instant

        return format_instant(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


# Message kinds this broker emits. URNs, as the reference does, but spelled consistently.
EXECUTABLE_REQUIRED = "urn:executable-required"
INPUT_SYNTAX = "urn:input-syntax-fail"
UNKNOWN_KIND = "urn:unknown-kind"
UNKNOWN_FIELD = "urn:unknown-field"
INVALID_VALUE = "urn:invalid-value"
MISSING_VALUE = "urn:missing-required-value"
RESOURCE_NOT_FOUND = "urn:resource-not-found"
DUPLICATE_RESOURCE = "urn:duplicate-resource"
POLICY_DENIED = "urn:policy-denied"
RESOURCE_LIMIT = "urn:resource-limit"
PLATFORM_TOO_SMALL = "urn:platform-capacity"
WINDOW_TOO_SHORT = "urn:window-too-short"
BEYOND_HORIZON = "urn:beyond-horizon"
NO_CAPACITY = "urn:no-free-capacity"
EARLIEST_START = "urn:earliest-start"
CAPPED = "urn:value-capped"
DEFAULTED = "urn:value-defaulted"
PHASE_CHANGE = "urn:phase-change"
LATE_STEP = "urn:late-step"
COMPONENT_FAILED = "urn:component-failed"
EXECUTION_FAILED = "urn:execution-failed"
