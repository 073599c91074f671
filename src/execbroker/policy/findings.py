"""Collecting the reasons for a NO, and reading a component's JSON-like ``spec`` without trusting it.

A ``spec`` comes straight from a client's document, so any field may have any type. :class:`SpecView`
reads one field at a time and, when the type is wrong, records an ``urn:invalid-value`` message naming
the field's path (``network.ports[0].internal.port``) and returns ``None``: a wrong type is a reason to
say NO, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from execbroker.model.components import Component
from execbroker.model.messages import (
    INVALID_VALUE,
    MISSING_VALUE,
    POLICY_DENIED,
    Level,
    Message,
)
from execbroker.model.text import shorten


@dataclass(slots=True)
class Subject:
    """The component a message is about, as users see it: "executable [my-exe]"."""

    noun: str
    name: str

    @classmethod
    def of(cls, noun: str, component: Component) -> Subject:
        return cls(noun, component.label)


@dataclass(slots=True)
class Findings:
    """The messages of one policy check, in the order the rules found them."""

    messages: list[Message] = field(default_factory=list)

    def add(self, urn: str, template: str, subject: Subject | None = None, /, **values: Any) -> None:
        """Record one reason. ``${noun}`` and ``${name}`` come from ``subject``.

        Value names must not be ``kind``, ``level`` or ``template``: :meth:`Message.make` takes those.
        """
        if subject is not None:
            values = {"noun": subject.noun, "name": subject.name, **values}
        self.messages.append(Message.make(urn, Level.WARN, template, **values))

    def denied(self, template: str, subject: Subject | None = None, /, **values: Any) -> None:
        self.add(POLICY_DENIED, template, subject, **values)

    def missing(self, subject: Subject, path: str) -> None:
        self.add(
            MISSING_VALUE, "The ${noun} [${name}] has no ${field}, which is required", subject, field=path
        )

    def invalid(self, subject: Subject, path: str, expected: str, value: Any) -> None:
        self.add(
            INVALID_VALUE,
            "The ${field} of ${noun} [${name}] must be ${expected}, not ${value}",
            subject,
            field=path,
            expected=expected,
            value=_quote(value),
        )


def _quote(value: Any) -> str:
    return shorten(repr(value) if isinstance(value, str) else str(value))


@dataclass(slots=True)
class SpecView:
    """A read-only, type-checking window on a JSON-like mapping, reporting into ``findings``."""

    data: Mapping[str, Any]
    subject: Subject
    findings: Findings
    path: str = ""

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def absent(self, key: str) -> bool:
        """True if the field is missing or blank (a value of the wrong type is not "absent")."""
        value = self.data.get(key)
        return value is None or (isinstance(value, str) and not value.strip())

    def text(self, key: str, *, blank_is_missing: bool = True) -> str | None:
        """A string field; ``None`` if absent (or blank), reported if not a string."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.findings.invalid(self.subject, self._where(key), "a string", value)
            return None
        if blank_is_missing and not value.strip():
            return None
        return value

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.findings.invalid(self.subject, self._where(key), "true or false", value)
            return None
        return value

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.findings.invalid(self.subject, self._where(key), "a whole number", value)
            return None
        return value

    def mapping(self, key: str) -> SpecView | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.findings.invalid(self.subject, self._where(key), "a mapping", value)
            return None
        return SpecView(value, self.subject, self.findings, self._where(key))

    def items(self, key: str) -> list[Any] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.findings.invalid(self.subject, self._where(key), "a list", value)
            return None
        return value

    def mappings(self, key: str) -> list[SpecView]:
        """A list of mappings; entries of another type are reported and skipped."""
        out: list[SpecView] = []
        for index, item in enumerate(self.items(key) or []):
            where = f"{self._where(key)}[{index}]"
            if isinstance(item, Mapping):
                out.append(SpecView(item, self.subject, self.findings, where))
            else:
                self.findings.invalid(self.subject, where, "a mapping", item)
        return out

    def texts(self, key: str) -> list[str] | None:
        """A list of strings; entries of another type are reported and skipped."""
        raw = self.items(key)
        if raw is None:
            return None
        out: list[str] = []
        for index, item in enumerate(raw):
            if isinstance(item, str):
                out.append(item)
            else:
                self.findings.invalid(self.subject, f"{self._where(key)}[{index}]", "a string", item)
        return out

    def text_map(self, key: str) -> None:
        """Check a string-to-string mapping (an environment); only reports, nothing to return."""
        view = self.mapping(key)
        if view is None:
            return
        for name, value in view.data.items():
            if not isinstance(value, str):
                self.findings.invalid(self.subject, f"{view.path}.{name}", "a string", value)
