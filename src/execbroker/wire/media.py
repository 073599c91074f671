"""Serialisation: YAML (the standard's default) and JSON, in and out, with limits for hostile bodies.

The Working Draft says a service MUST read and write both YAML and JSON, that a body without a declared
type is YAML, and that YAML wins when a client accepts both. Reading YAML safely needs more than a safe
loader: an alias bomb ("billion laughs") is a few hundred bytes that expand to billions of nodes, and a
deeply nested flow sequence makes libyaml quadratic and its composer recurse until the C stack
overflows. So a YAML body goes through three cheap gates before any Python object is built:

1. a C-speed count of parse events for large bodies with few flow brackets (refuses huge flat bodies
   without creating a Python object per node);
2. a walk over the parse events that stops at the first sign of trouble: nesting deeper than
   ``max_depth``, more than ``max_nodes`` events, a second document, or a tag that is not a plain
   string, number, boolean, null, map or sequence;
3. after composing the node graph (in C), a walk over the graph that counts nodes as the aliases would
   expand them (each distinct node once, with memoised sizes, so the walk itself is cheap) and refuses
   expansions past ``max_nodes`` or ``max_depth`` and recursive aliases.

Only then are Python objects constructed. Scalars are read the YAML 1.2 way where YAML 1.1 surprises
people: timestamps stay strings (the model parses times itself) and ``yes``/``no``/``on``/``off`` stay
strings (``result: NO`` must not become ``False``).

A key that appears twice in one mapping, in JSON or YAML, is refused rather than letting the last one
win silently: the problem names the key and the mapping's JSON pointer (and, in YAML, the line and
column of the repeat). For JSON, which is on the hot path, a document is cleared by comparing its
colons with those orjson writes for it (see :func:`_json_may_repeat_keys`); only a body that fails
that test is read again, slowly and exactly, to find the repeats.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import yaml
from yaml import events as ev
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from execbroker.model.text import shorten
from execbroker.wire.errors import (
    BodyTooLarge,
    MalformedBody,
    NotAcceptable,
    Problem,
    UnsupportedMediaType,
    pointer,
)

if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - depends on the build of PyYAML
    raise ImportError(
        "execbroker needs PyYAML built with libyaml (yaml.CSafeLoader): the pure-Python loader is too "
        "slow to read hostile bodies safely. Reinstall PyYAML with libyaml available."
    )


class MediaType(Enum):
    JSON = "application/json"
    YAML = "application/yaml"

    @property
    def content_type(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on a request body.

    ``max_nodes`` bounds the YAML parse events (a collection counts twice, for its start and end)
    and, separately, the number of nodes after expanding aliases; for JSON it bounds the values.
    """

    max_bytes: int = 1_000_000
    max_depth: int = 64
    max_nodes: int = 100_000


_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_JSON_TYPES = frozenset({"application/json"})
_TAG = "tag:yaml.org,2002:"
#: Tags a body may name explicitly; everything else (python/object, binary, set, omap, ...) is refused.
_ALLOWED_TAGS = frozenset(
    {"!", *(_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq"))}
)
#: Implicitly resolved YAML 1.1 types that are read as plain strings instead.
_DEMOTED_TAGS = frozenset({_TAG + "timestamp", _TAG + "merge", _TAG + "value"})
_YAML11_ONLY_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})
#: Below this size the event walk alone is fast enough; above it, count events in C first.
_PRECOUNT_BYTES = 64 * 1024
#: libyaml's scanner is quadratic in flow depth; only pre-count when the depth cannot be large.
_PRECOUNT_MAX_BRACKETS = 1000
#: Repeated keys listed in one refusal; any more are summed up in one last problem.
_MAX_DUPLICATES = 20


# --------------------------------------------------------------------------------------------------
# Content types


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    main, _, rest = content_type.partition(";")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        name, sep, value = item.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"').lower()
    return main.strip().lower(), params


def body_media(content_type: str | None) -> MediaType:
    """The serialisation of a body from its Content-Type; YAML when there is none (the WD default)."""
    if content_type is None or not content_type.strip():
        return MediaType.YAML
    mime, params = _media_type(content_type)
    charset = params.get("charset")
    if charset is not None and charset not in ("utf-8", "utf8", "us-ascii"):
        raise UnsupportedMediaType([Problem("/", f"Unsupported charset [{charset}]; bodies must be UTF-8")])
    if mime in _JSON_TYPES or (mime.startswith("application/") and mime.endswith("+json")):
        return MediaType.JSON
    if mime in _YAML_TYPES or mime.endswith("+yaml"):
        return MediaType.YAML
    raise UnsupportedMediaType([Problem("/", f"Unsupported content type [{mime}]")])


# --------------------------------------------------------------------------------------------------
# Reading


def parse_body(body: bytes, content_type: str | None, limits: Limits) -> Any:
    """Parse a request body into plain JSON-like data (dicts, lists, str, int, float, bool, None)."""
    if len(body) > limits.max_bytes:
        raise BodyTooLarge([Problem("/", f"The body is {len(body)} bytes; the limit is {limits.max_bytes}")])
    media = body_media(content_type)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            [Problem("/", f"The body is not valid UTF-8 (byte {exc.start}: {exc.reason})")]
        ) from None
    if media is MediaType.JSON:
        return _load_json(text, limits)
    return _load_yaml(text, limits)


def _load_json(text: str, limits: Limits) -> Any:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "recursion" in exc.msg.lower() or "depth" in exc.msg.lower():
            message = f"The document is nested deeper than {limits.max_depth} levels"
        else:
            message = f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise MalformedBody([Problem("/", message)]) from None
    _check_tree(doc, limits, text)
    if _json_may_repeat_keys(text, doc):
        problems = _json_duplicates(text)
        if problems:
            raise MalformedBody(problems)
    return doc


def _check_tree(doc: Any, limits: Limits, text: str | None = None) -> None:
    """Depth and size bounds on parsed JSON (orjson itself stops at 1024 levels).

    Given the JSON ``text`` it was parsed from, small documents are cleared without a walk: every
    value takes at least one character, and every level of nesting one ``{`` or ``[``.
    """
    if (
        text is not None
        and len(text) <= limits.max_nodes
        and text.count("{") + text.count("[") <= limits.max_depth
    ):
        return
    count = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise MalformedBody([Problem("/", f"The document has more than {limits.max_nodes} values")])
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth + 1 > limits.max_depth:
            raise MalformedBody(
                [Problem("/", f"The document is nested deeper than {limits.max_depth} levels")]
            )
        stack.extend((child, depth + 1) for child in children)


# --------------------------------------------------------------------------------------------------
# Repeated keys


@dataclass(frozen=True, slots=True)
class _Repeat:
    """A key seen again in the mapping at ``path``; ``where`` and ``first`` add what YAML knows."""

    path: str
    key: str
    where: str = ""
    first: str = ""


class _Duplicates:
    """The repeated keys of one document, in document order: the first ``_MAX_DUPLICATES`` as
    problems, any more counted in one last problem.

    A key repeated in one mapping is one problem, however many times it repeats, reported where it
    first repeats; the problem's path is the pointer to the mapping (``/`` for the top level).
    """

    def __init__(self) -> None:
        self.found = 0
        self.problems: list[Problem] = []

    def add(self, repeat: _Repeat) -> None:
        self.found += 1
        if self.found > _MAX_DUPLICATES:
            return
        shown = repeat.path or "/"
        message = f"Duplicate key [{shorten(repeat.key)}] in the mapping at {shorten(shown, 200)}"
        message += repeat.where
        if repeat.first:
            message += f" (the same key as [{shorten(repeat.first)}])"
        self.problems.append(Problem(shown, message))

    def listed(self) -> list[Problem]:
        """The problems to report: none when no key repeats."""
        if self.found <= _MAX_DUPLICATES:
            return list(self.problems)
        more = Problem("/", f"{self.found - _MAX_DUPLICATES} more duplicate keys are not listed")
        return [*self.problems, more]


def _json_may_repeat_keys(text: str, doc: Any) -> bool:
    """False when the JSON ``text``, which orjson read as ``doc``, certainly repeats no key.

    Outside strings, a colon in JSON text is only ever the one after a key; inside a string it is
    either itself or the escape ``\\u003a`` (or ``\\u003A``). orjson writes ``doc`` back compactly
    and never escapes a colon, nor writes one for anything else. So the colons of the text plus its
    colon escapes are its keys plus the colons in all its strings, and the colons orjson writes are
    the keys of ``doc`` plus the colons in the strings ``doc`` kept. A repeated key takes one key,
    and perhaps some strings, out of ``doc`` and nothing ever comes in: the two counts are equal
    exactly when no key repeats. Counting escapes as text only ever counts too many (an escaped
    backslash before a plain ``u003a``), which can only send a text the slow way, never clear one.
    (UTF-8 never uses the byte of ``:`` inside a multi-byte character, so counting bytes is counting
    colons.) A document orjson will not write (deeper than it nests) may repeat.
    """
    colons = text.count(":")
    if "\\" in text:
        colons += text.count("\\u003a") + text.count("\\u003A")
    try:
        written = orjson.dumps(doc)
    except orjson.JSONEncodeError:  # pragma: no cover - only with max_depth raised past orjson's 254
        return True
    return colons != written.count(b":")


class _Members(list[tuple[str, Any]]):
    """A JSON object as :func:`_json_duplicates` reads it: every member in order, repeats and all."""


def _json_duplicates(text: str) -> list[Problem]:
    """Every repeated key in the JSON ``text`` (already read once, within the limits), exactly."""
    try:
        doc = json.loads(text, object_pairs_hook=_Members)
    except (ValueError, RecursionError):  # pragma: no cover - orjson read it, within the limits
        return []
    found = _Duplicates()
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Repeat):
            found.add(value)
        elif isinstance(value, _Members):
            seen: set[str] = set()
            repeated: set[str] = set()
            items: list[tuple[Any, str]] = []
            for key, child in value:
                if key not in seen:
                    seen.add(key)
                elif key not in repeated:
                    repeated.add(key)
                    items.append((_Repeat(path, key), path))
                items.append((child, pointer(path, key)))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend((value[i], pointer(path, i)) for i in range(len(value) - 1, -1, -1))
    return found.listed()


def _yaml_duplicates(root: Node, loader: yaml.CSafeLoader) -> None:
    """Refuse mappings that repeat a key, walking each node of the (checked) graph once.

    Two keys are the same when building the mapping would keep only one of them: keys compare by the
    values they construct to, so ``1`` and ``"1"`` differ, while ``a`` and ``"a"`` (or ``1`` and
    ``1.0``, or ``1`` and ``true``, which a Python mapping cannot tell apart) are one key. ``<<`` is
    an ordinary key here, since merges are not expanded (``_DEMOTED_TAGS``): the keys it would merge
    in are not compared, and ``<<`` twice is a repeat. A mapping reached again through an alias is
    not walked again, so its repeats are reported once, at the first path that reaches it. Keys that
    are not scalars are left to the constructor, which refuses them.
    """
    found = _Duplicates()
    walked: set[int] = set()
    stack: list[tuple[Node | _Repeat, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Repeat):
            found.add(node)
            continue
        if id(node) in walked:
            continue
        walked.add(id(node))
        if isinstance(node, MappingNode):
            firsts: dict[Any, tuple[str, bool]] = {}  # key -> (its first spelling, reported)
            items: list[tuple[Node | _Repeat, str]] = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    continue
                key = loader.construct_object(key_node)
                text = key_node.value
                if key not in firsts:
                    firsts[key] = (text, False)
                elif not firsts[key][1]:
                    first = firsts[key][0]
                    firsts[key] = (first, True)
                    where = _where(key_node.start_mark)
                    items.append((_Repeat(path, text, where, first if first != text else ""), path))
                items.append((value_node, pointer(path, text)))
            stack.extend(reversed(items))
        elif isinstance(node, SequenceNode):
            stack.extend((node.value[i], pointer(path, i)) for i in range(len(node.value) - 1, -1, -1))
    if found.found:
        raise MalformedBody(found.listed())


def _where(mark: Any) -> str:
    if mark is None:
        return ""
    return f" at line {mark.line + 1}, column {mark.column + 1}"


#: Newer libyaml builds (the one bundled with PyYAML 6.0.4's wheel, for one) stop nesting at 1000 levels;
#: their scanner reads that far ahead before the first events reach our depth check, so their error
#: comes first: it is reported as ours, which it implies.
_LIBYAML_MAX_DEPTH = 1000


def _yaml_problem(exc: yaml.YAMLError, limits: Limits) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        if (
            exc.problem is not None
            and "maximum nesting depth" in exc.problem
            and limits.max_depth < _LIBYAML_MAX_DEPTH
        ):
            return Problem("/", f"The document is nested deeper than {limits.max_depth} levels")
        what = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return Problem("/", f"Invalid YAML{_where(exc.problem_mark or exc.context_mark)}: {what}")
    return Problem("/", f"Invalid YAML: {exc}")


def _load_yaml(text: str, limits: Limits) -> Any:
    try:
        _precount(text, limits)
        _scan_events(text, limits)
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_graph(node, limits)
            _yaml_duplicates(node, loader)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise MalformedBody([_yaml_problem(exc, limits)]) from None


def _too_many(limits: Limits) -> MalformedBody:
    return MalformedBody([Problem("/", f"The document has more than {limits.max_nodes} nodes")])


def _precount(text: str, limits: Limits) -> None:
    if len(text) < _PRECOUNT_BYTES:
        return
    if text.count("[") + text.count("{") > _PRECOUNT_MAX_BRACKETS:
        return
    parser = yaml.CSafeLoader(text)
    try:
        events = parser.raw_parse()
    finally:
        parser.dispose()
    if events > limits.max_nodes + 4:  # stream and document start/end
        raise _too_many(limits)


def _scan_events(text: str, limits: Limits) -> None:
    parser = yaml.CSafeLoader(text)
    get = parser.get_event
    starts = (ev.MappingStartEvent, ev.SequenceStartEvent)
    ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
    depth = 0
    count = 0
    documents = 0
    try:
        while True:
            event = get()
            if event is None:
                return
            kind = type(event)
            count += 1
            if count > limits.max_nodes + 4:
                raise _too_many(limits)
            if kind in starts:
                depth += 1
                if depth > limits.max_depth:
                    raise MalformedBody(
                        [
                            Problem(
                                "/",
                                f"The document is nested deeper than {limits.max_depth} levels"
                                f"{_where(event.start_mark)}",
                            )
                        ]
                    )
            elif kind in ends:
                depth -= 1
            elif kind is ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise MalformedBody(
                        [
                            Problem(
                                "/",
                                f"The body holds more than one YAML document{_where(event.start_mark)}",
                            )
                        ]
                    )
            elif kind is ev.StreamEndEvent:
                return
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _ALLOWED_TAGS:
                raise MalformedBody(
                    [Problem("/", f"YAML tag [{tag}] is not allowed{_where(event.start_mark)}")]
                )
    finally:
        parser.dispose()


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _check_graph(root: Node, limits: Limits) -> None:
    """Refuse alias expansions past the limits; read YAML 1.1-only scalars as strings."""
    cap = limits.max_nodes + 1
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, collection height)
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            children = _children(node)
            size = min(cap, 1 + sum(done[id(c)][0] for c in children))
            height = 1 + max((done[id(c)][1] for c in children), default=0)
            done[key] = (size, height)
            open_nodes.discard(key)
            if size >= cap:
                raise MalformedBody(
                    [Problem("/", f"The document's aliases expand to more than {limits.max_nodes} nodes")]
                )
            if height > limits.max_depth:
                raise MalformedBody(
                    [Problem("/", f"The document's aliases nest deeper than {limits.max_depth} levels")]
                )
            continue
        if key in done:
            continue
        if key in open_nodes:
            raise MalformedBody(
                [Problem("/", f"The document has a recursive alias{_where(node.start_mark)}")]
            )
        if isinstance(node, ScalarNode):
            if node.tag in _DEMOTED_TAGS or (
                node.tag == _TAG + "bool" and not node.style and node.value.lower() in _YAML11_ONLY_BOOLS
            ):
                node.tag = _TAG + "str"
            done[key] = (1, 0)
            continue
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in done)


# --------------------------------------------------------------------------------------------------
# Negotiation and writing

_YAML_ACCEPT = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def _accept_ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        if not item.strip():
            continue
        mime, params = _media_type(item)
        quality = 1.0
        if "q" in params:
            try:
                quality = float(params["q"])
            except ValueError:
                continue
            if not 0.0 <= quality <= 1.0:
                continue
        if "/" not in mime:
            continue
        ranges.append((mime, quality))
    return ranges


def _quality(ranges: list[tuple[str, float]], mime: str) -> tuple[float, int]:
    """The q-value of ``mime`` from the most specific matching range (RFC 9110 12.5.1), and how
    specific that range is (2: named, 1: ``type/*``, 0: ``*/*``; -1 and q 0 when none matches)."""
    main = mime.split("/")[0]
    best: tuple[int, float] | None = None
    for candidate, quality in ranges:
        if candidate == mime:
            specificity = 2
        elif candidate == f"{main}/*":
            specificity = 1
        elif candidate == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0] or (specificity == best[0] and quality > best[1]):
            best = (specificity, quality)
    return (best[1], best[0]) if best is not None else (0.0, -1)


def negotiate(accept: str | None) -> MediaType:
    """Pick the response serialisation from an Accept header: YAML unless JSON is strictly preferred.

    Clients send the same few short Accept headers again and again: those answers are cached (a
    refusal is not); a long header is worked out afresh, so it cannot fill the cache.
    """
    if accept is not None and len(accept) > 200:
        return _negotiate(accept)
    return _negotiate_cached(accept)


@functools.lru_cache(maxsize=256)
def _negotiate_cached(accept: str | None) -> MediaType:
    return _negotiate(accept)


def _negotiate(accept: str | None) -> MediaType:
    if accept is None or not accept.strip():
        return MediaType.YAML
    ranges = _accept_ranges(accept)
    if not ranges:
        return MediaType.YAML
    json_q = _quality(ranges, "application/json")
    yaml_q = max(_quality(ranges, mime) for mime in _YAML_ACCEPT)
    if json_q[0] <= 0 and yaml_q[0] <= 0:
        raise NotAcceptable([Problem("/", f"Cannot produce any of [{accept}]")])
    # Higher q wins; at equal q, the type the client named over one it only let through with a
    # wildcard (``application/json, */*`` is a JSON client); a tie is YAML, the draft's default.
    return MediaType.JSON if json_q > yaml_q else MediaType.YAML


class _PlainDumper(yaml.CSafeDumper):
    """Writes a block that appears twice (one schedule shared by a session and its components) in
    full each time: no ``&anchor``/``*alias`` pairs, which clients need not understand."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: Any, media: MediaType) -> bytes:
    """Serialise a document (plain data, times already strings) in ``media``."""
    if media is MediaType.JSON:
        return orjson.dumps(doc)
    text = yaml.dump(
        doc,
        Dumper=_PlainDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
    return text.encode("utf-8")
