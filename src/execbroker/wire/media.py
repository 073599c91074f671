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
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import yaml
from yaml import events as ev
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from execbroker.wire.errors import (
    BodyTooLarge,
    MalformedBody,
    NotAcceptable,
    Problem,
    UnsupportedMediaType,
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


def _where(mark: Any) -> str:
    if mark is None:
        return ""
    return f" at line {mark.line + 1}, column {mark.column + 1}"


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
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
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise MalformedBody([_yaml_problem(exc)]) from None


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


def _quality(ranges: list[tuple[str, float]], mime: str) -> float:
    """The q-value of ``mime``: from the most specific matching range (RFC 9110 12.5.1)."""
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
    return best[1] if best is not None else 0.0


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
    if json_q <= 0 and yaml_q <= 0:
        raise NotAcceptable([Problem("/", f"Cannot produce any of [{accept}]")])
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
