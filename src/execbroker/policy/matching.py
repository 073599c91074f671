"""How allow and deny lists in the policy config match strings, and how values are normalised first.

One scheme is used for every list in the policy (image locations, URLs, ivoids, port paths, namespaces):
a :class:`Match` has three kinds of entries, each compared with the *whole* value, case-sensitively:

``exact``
    the value equals the entry;
``prefix``
    the value starts with the entry (write a trailing ``/`` when you mean "under this path", so that
    ``https://example.org/data/`` does not also match ``https://example.org/database``);
``glob``
    :func:`fnmatch.fnmatchcase` pattern (``*``, ``?``, ``[...]``) against the whole value.

Globs have their own list because ``?`` is common in URLs and ivoids (``ivo://example.org/path?1234``):
a plain entry is never read as a pattern. In YAML a bare list is shorthand for ``exact``.

An *allow* list that is empty allows everything; a *deny* list that is empty denies nothing.

Locations are compared twice: as given and normalised (scheme and host in lower case, percent escapes
decoded, ``.``/``..``/``//`` segments resolved). A deny entry matching either form denies, so
``http://EXAMPLE.com/./excluded.dat`` cannot slip past ``http://example.com/excluded.dat``; an allow
entry must match the normalised form, so ``https://good.org/data/../../secret`` is judged as
``https://good.org/secret``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Match(BaseModel):
    """A set of exact strings, prefixes and glob patterns; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exact: list[str] = Field(default_factory=list)
    prefix: list[str] = Field(default_factory=list)
    glob: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_list_is_exact(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            return {"exact": list(data)}
        return data

    def is_empty(self) -> bool:
        return not (self.exact or self.prefix or self.glob)

    def matches(self, value: str, *, casefold: bool = False) -> bool:
        """True if ``value`` matches any entry; with ``casefold`` both sides are compared in lower case."""
        fold = str.casefold if casefold else _same
        v = fold(value)
        return (
            any(v == fold(e) for e in self.exact)
            or any(v.startswith(fold(p)) for p in self.prefix)
            or any(fnmatchcase(v, fold(g)) for g in self.glob)
        )


def _same(text: str) -> str:
    return text


def denied(value: str, deny: Match, *, casefold: bool = False, normalised: str | None = None) -> bool:
    """True if the value, or its normalised form, is on the deny list."""
    if deny.matches(value, casefold=casefold):
        return True
    return normalised is not None and deny.matches(normalised, casefold=casefold)


def allowed(value: str, allow: Match, *, casefold: bool = False) -> bool:
    """True if the allow list is empty or the (already normalised) value is on it."""
    return allow.is_empty() or allow.matches(value, casefold=casefold)


def normalise_path(path: str) -> str:
    """Resolve ``.``, ``..`` and repeated slashes of an absolute POSIX path, percent escapes decoded.

    ``..`` never climbs above the root, so ``/allowed/../etc/passwd`` becomes ``/etc/passwd`` and is then
    judged for what it is.
    """
    decoded = unquote(path)
    resolved = posixpath.normpath("/" + decoded.lstrip("/"))
    # normpath keeps a leading '//' (POSIX allows it a special meaning); nothing here wants that.
    return "/" + resolved.lstrip("/")


def path_within(path: str, root: str) -> bool:
    """True if the normalised ``path`` is ``root`` or lies below it (both absolute)."""
    root_n = normalise_path(root)
    if root_n == "/":
        return True
    return path == root_n or path.startswith(root_n + "/")


@dataclass(frozen=True, slots=True)
class Location:
    """An absolute URL taken apart, with its normalised spelling for list matching."""

    raw: str
    scheme: str
    host: str
    path: str
    normalised: str


def parse_location(text: str) -> Location | None:
    """Split an absolute URL (``scheme:...``); ``None`` if it has no scheme or cannot be parsed."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return None
    if not parts.scheme or len(parts.scheme) < 2:
        # One letter is a Windows drive ("C:\\data"), not a scheme.
        return None
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    host = (parts.hostname or "").lower() if netloc else ""
    if parts.path.startswith("/"):
        path = normalise_path(parts.path)
        if parts.path.endswith("/") and path != "/":
            path += "/"
    else:
        path = parts.path
    if netloc and path == "/" and not parts.query and not parts.fragment:
        path = ""
    normalised = urlunsplit((scheme, netloc, path, parts.query, parts.fragment))
    return Location(raw=text, scheme=scheme, host=host, path=path, normalised=normalised)
