"""Serialisation: content types, Accept negotiation (WD rules, protocol.md 5 items 1-7) and body limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from execbroker.wire.errors import (
    BodyTooLarge,
    MalformedBody,
    NotAcceptable,
    Problem,
    UnsupportedMediaType,
    WireError,
)
from execbroker.wire.media import (
    Limits,
    MediaType,
    _check_tree,
    _json_duplicates,
    _json_may_repeat_keys,
    body_media,
    dump,
    negotiate,
    parse_body,
)

LIMITS = Limits()
REQUEST = {
    "executable": {
        "kind": "https://www.purl.org/ivoa.net/EB/schema/v1.0/types/executable/jupyter-notebook-1.0",
        "meta": {"name": "nb"},
        "location": "https://example.org/nb.ipynb",
    },
    "compute": {"cores": {"min": 2, "max": 4}},
}


def billion_laughs(levels: int = 9, width: int = 9) -> bytes:
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------------------------------
# Content types (items 1-3)


@pytest.mark.parametrize(
    ("content_type", "media"),
    [
        (None, MediaType.YAML),  # item 3: no Content-Type means YAML
        ("", MediaType.YAML),
        ("application/yaml", MediaType.YAML),
        ("application/yaml; charset=UTF-8", MediaType.YAML),
        ("application/x-yaml", MediaType.YAML),
        ("text/yaml", MediaType.YAML),
        ("text/x-yaml", MediaType.YAML),
        ("application/vnd.example+yaml", MediaType.YAML),
        ("application/json", MediaType.JSON),
        ("Application/JSON; charset=utf-8", MediaType.JSON),
        ("application/problem+json", MediaType.JSON),
    ],
)
def test_body_media(content_type: str | None, media: MediaType) -> None:
    assert body_media(content_type) is media


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data", "json"])
def test_unknown_content_type_is_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_body(b"a: 1", content_type, LIMITS)
    assert caught.value.status == 415


def test_non_utf8_charset_is_415() -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_body(b"a: 1", "application/yaml; charset=latin-1", LIMITS)


def test_yaml_and_json_bodies_give_the_same_document() -> None:
    """Items 1 and 2: the same request in YAML and in JSON reads the same."""
    as_yaml = yaml.safe_dump(REQUEST).encode()
    as_json = json.dumps(REQUEST).encode()
    assert parse_body(as_yaml, "application/yaml", LIMITS) == REQUEST
    assert parse_body(as_json, "application/json", LIMITS) == REQUEST
    assert parse_body(as_yaml, None, LIMITS) == REQUEST


def test_json_body_without_content_type_is_read_as_yaml() -> None:
    """JSON is (almost always) YAML too, so an undeclared JSON body still reads."""
    assert parse_body(json.dumps(REQUEST).encode(), None, LIMITS) == REQUEST


def test_yaml_scalars_are_read_the_yaml_12_way() -> None:
    doc = parse_body(
        b"result: NO\nanswer: yes\nflag: true\nwhen: 2025-11-25T05:12:49Z\nday: 2025-11-25\nn: 5\n",
        None,
        LIMITS,
    )
    assert doc == {
        "result": "NO",
        "answer": "yes",
        "flag": True,
        "when": "2025-11-25T05:12:49Z",
        "day": "2025-11-25",
        "n": 5,
    }


def test_empty_yaml_body_is_nothing() -> None:
    assert parse_body(b"", None, LIMITS) is None


# --------------------------------------------------------------------------------------------------
# Negotiation (items 4-7)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, MediaType.YAML),  # item 6
        ("", MediaType.YAML),
        ("*/*", MediaType.YAML),
        ("application/json", MediaType.JSON),  # item 4
        ("application/yaml", MediaType.YAML),  # item 5
        ("application/json, application/yaml", MediaType.YAML),  # item 7
        ("application/yaml, application/json", MediaType.YAML),
        ("application/json;q=0.9, application/yaml;q=0.9", MediaType.YAML),
        ("application/json;q=0.9, application/yaml;q=0.8", MediaType.JSON),
        ("application/json, application/yaml;q=0.5", MediaType.JSON),
        ("application/yaml;q=0.1, application/json;q=0.2", MediaType.JSON),
        ("application/*", MediaType.YAML),
        ("application/json, */*;q=0.1", MediaType.JSON),
        # Equal q: the type named beats one only let through by a wildcard (axios, jQuery send these).
        ("application/json, */*", MediaType.JSON),
        ("*/*, application/json", MediaType.JSON),
        ("application/json, text/plain, */*", MediaType.JSON),
        ("application/json, application/*", MediaType.JSON),
        ("application/yaml, */*", MediaType.YAML),
        ("application/json;q=0.9, */*", MediaType.YAML),
        ("text/html, */*;q=0.1", MediaType.YAML),
        ("text/yaml", MediaType.YAML),
        ("application/x-yaml", MediaType.YAML),
        ("text/*", MediaType.YAML),
        ("application/json;q=0, */*", MediaType.YAML),
        ("Application/JSON", MediaType.JSON),
        ("application/json; charset=utf-8", MediaType.JSON),
    ],
)
def test_negotiate(accept: str | None, media: MediaType) -> None:
    assert negotiate(accept) is media


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", "application/json;q=0", "image/*, text/html;q=0.5"]
)
def test_nothing_acceptable_is_406(accept: str) -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate(accept)
    assert caught.value.status == 406


def test_dump_json_and_yaml() -> None:
    doc = {"result": "NO", "offers": [], "name": "Ünïcode", "n": 3}
    assert json.loads(dump(doc, MediaType.JSON)) == doc
    text = dump(doc, MediaType.YAML).decode()
    assert not text.startswith("---")
    assert "Ünïcode" in text  # allow_unicode: no escapes
    assert text.index("result") < text.index("offers") < text.index("name")  # keys keep their order
    assert yaml.safe_load(text) == doc  # "NO" is quoted, so it stays a string


# --------------------------------------------------------------------------------------------------
# Limits


def test_body_over_max_bytes_is_413() -> None:
    with pytest.raises(BodyTooLarge) as caught:
        parse_body(b"a" * 1001, None, Limits(max_bytes=1000))
    assert caught.value.status == 413
    assert caught.value.problems[0].path == "/"


def test_non_utf8_body_is_400() -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body("name: café".encode("latin-1"), None, LIMITS)
    assert caught.value.status == 400
    assert "UTF-8" in caught.value.problems[0].message


def test_alias_bomb_is_refused() -> None:
    body = billion_laughs()  # under 1 KiB, expands to 9**9 strings
    assert len(body) < 1024
    with pytest.raises(MalformedBody) as caught:
        parse_body(body, "application/yaml", LIMITS)
    assert "aliases expand" in caught.value.problems[0].message


def test_small_alias_use_is_fine() -> None:
    doc = parse_body(b"base: &b {min: 1, max: 2}\ncores: *b\nmemory: *b\n", None, LIMITS)
    assert doc["cores"] == doc["memory"] == {"min": 1, "max": 2}


def test_alias_expansion_is_counted_against_max_nodes() -> None:
    # 4 levels of 9 expand to 9**4 = 6561 strings: fine at the default, refused below that.
    body = billion_laughs(levels=4)
    assert parse_body(body, None, LIMITS)["a4"][0][0][0][0] == ["lol"]
    with pytest.raises(MalformedBody):
        parse_body(body, None, Limits(max_nodes=5000))


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body(b"a: &a [1, *a]\n", None, LIMITS)
    assert "recursive alias" in caught.value.problems[0].message


def test_alias_nesting_past_max_depth_is_refused() -> None:
    deep = "[" * 40 + "1" + "]" * 40
    body = f"a: &a {deep}\nb: {'[' * 30}*a{']' * 30}\n".encode()
    with pytest.raises(MalformedBody) as caught:
        parse_body(body, None, LIMITS)
    assert "nest deeper" in caught.value.problems[0].message


@pytest.mark.parametrize(
    "body",
    [
        ("[" * 500_000 + "]" * 500_000).encode(),  # 1 MB of flow nesting: libyaml is quadratic here
        ("- " * 300_000 + "x").encode(),  # block nesting on one line
        ("a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 100)) + " " * 100 + "v: 1\n").encode(),
    ],
    ids=["flow", "compact-block", "indented-block"],
)
def test_depth_bomb_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body(body, None, Limits(max_bytes=2_000_000))
    message = caught.value.problems[0].message
    assert "nested deeper than 64" in message or "more than 100000 nodes" in message


def test_depth_limit_is_exact() -> None:
    ok = ("[" * 64 + "]" * 64).encode()
    parse_body(ok, None, LIMITS)
    with pytest.raises(MalformedBody) as caught:
        parse_body(("[" * 65 + "]" * 65).encode(), None, LIMITS)
    assert "nested deeper than 64 levels at line 1, column 65" in caught.value.problems[0].message


def test_json_depth_bomb_is_refused() -> None:
    for depth in (65, 5000):
        with pytest.raises(MalformedBody) as caught:
            parse_body(b"[" * depth + b"]" * depth, "application/json", LIMITS)
        assert "nested deeper than 64" in caught.value.problems[0].message
    parse_body(b"[" * 64 + b"]" * 64, "application/json", LIMITS)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="ab{[]}", max_size=3),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text("xy{[", max_size=2), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(doc=_JSON_VALUES, max_depth=st.integers(1, 6), max_nodes=st.integers(1, 60))
def test_json_bounds_from_the_text_agree_with_the_walk(doc: object, max_depth: int, max_nodes: int) -> None:
    """The shortcut that clears a small JSON text without walking it refuses exactly what the walk does."""
    text = json.dumps(doc, separators=(",", ":"))
    limits = Limits(max_depth=max_depth, max_nodes=max_nodes)
    try:
        _check_tree(orjson.loads(text), limits)
        walked = None
    except MalformedBody as exc:
        walked = exc.problems[0].message
    try:
        parse_body(text.encode(), "application/json", limits)
        parsed = None
    except MalformedBody as exc:
        parsed = exc.problems[0].message
    assert parsed == walked


@pytest.mark.parametrize("media", ["application/yaml", "application/json"])
def test_too_many_nodes_is_refused(media: str) -> None:
    body = ("[" + "1," * 300_000 + "1]").encode()
    with pytest.raises(MalformedBody) as caught:
        parse_body(body, media, LIMITS)
    assert "more than 100000" in caught.value.problems[0].message


def test_multiple_yaml_documents_are_refused() -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body(b"executable: {}\n---\ncompute: {}\n", None, LIMITS)
    assert "more than one YAML document at line 2, column 1" in caught.value.problems[0].message


@pytest.mark.parametrize(
    "body",
    [
        b"a: !!python/object/apply:os.system [echo hi]\n",
        b"a: !!binary aGVsbG8=\n",
        b"a: !!set {x, y}\n",
        b"a: !!omap [{x: 1}]\n",
        b"a: !custom thing\n",
        b"--- !!python/name:os.system\n",
    ],
)
def test_non_standard_tags_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body(body, None, LIMITS)
    assert "is not allowed" in caught.value.problems[0].message


def test_standard_tags_are_allowed() -> None:
    assert parse_body(b"a: !!str 12\nb: !!int '7'\nc: !!map {x: !!seq [1]}\n", None, LIMITS) == {
        "a": "12",
        "b": 7,
        "c": {"x": [1]},
    }


def test_merge_keys_are_not_expanded() -> None:
    doc = parse_body(b"base: &b {min: 1}\ncores:\n  <<: *b\n", None, LIMITS)
    assert doc["cores"] == {"<<": {"min": 1}}


def test_bad_yaml_reports_line_and_column() -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body(b"executable:\n  kind: [one, two\ncompute: x\n", None, LIMITS)
    problem = caught.value.problems[0]
    assert problem.path == "/"
    assert "line 3, column" in problem.message


def test_bad_json_reports_line_and_column() -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_body(b'{\n  "executable": {,}\n}', "application/json", LIMITS)
    problem = caught.value.problems[0]
    assert problem.path == "/"
    assert "line 2, column" in problem.message


def test_every_wire_error_carries_status_code_and_problems() -> None:
    errors: list[WireError] = []
    for call in (
        lambda: parse_body(b"x" * 20, None, Limits(max_bytes=10)),
        lambda: parse_body(b"a", "text/plain", LIMITS),
        lambda: negotiate("text/html"),
        lambda: parse_body(b"{", "application/json", LIMITS),
    ):
        with pytest.raises(WireError) as caught:
            call()
        errors.append(caught.value)
    assert [e.status for e in errors] == [413, 415, 406, 400]
    assert all(e.problems and e.error for e in errors)


def test_negotiation_caches_short_headers_only() -> None:
    from execbroker.wire import media

    short = "application/json;q=0.9, application/yaml;q=0.1"
    long = "application/json, " + ", ".join(f"x-{i}/y" for i in range(40))
    before = media._negotiate_cached.cache_info()
    assert negotiate(short) is MediaType.JSON
    assert negotiate(short) is MediaType.JSON
    assert negotiate(long) is MediaType.JSON
    after = media._negotiate_cached.cache_info()
    assert after.hits - before.hits >= 1
    assert after.currsize - before.currsize <= 1, "a long header is never cached"


# --------------------------------------------------------------------------------------------------
# Repeated keys: refused, never last-one-wins


def refusal(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    with pytest.raises(MalformedBody) as caught:
        parse_body(body, content_type, LIMITS)
    assert caught.value.status == 400
    return [(p.path, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (b'{"a": 1, "b": 2, "a": 3}', [("/", "Duplicate key [a] in the mapping at /")]),
        (
            b'{"compute": {"cores": {"min": 1, "max": 2, "min": 3}}}',
            [("/compute/cores", "Duplicate key [min] in the mapping at /compute/cores")],
        ),
        (
            b'{"costs": [{"kind": "x"}, {"kind": "x", "min": 1, "kind": "y"}]}',
            [("/costs/1", "Duplicate key [kind] in the mapping at /costs/1")],
        ),
        (
            b'[[{"a/b~": {"k": 1, "k": 1}}]]',
            [("/0/0/a~1b~0", "Duplicate key [k] in the mapping at /0/0/a~1b~0")],
        ),
        # a key three times is one problem; problems come in document order
        (
            b'{"a": 1, "b": {"c": 1, "c": 2, "c": 3}, "a": 2}',
            [
                ("/b", "Duplicate key [c] in the mapping at /b"),
                ("/", "Duplicate key [a] in the mapping at /"),
            ],
        ),
    ],
    ids=["top-level", "nested", "in-a-list-item", "escaped-pointer", "document-order"],
)
def test_repeated_json_keys_are_refused(body: bytes, problems: list[tuple[str, str]]) -> None:
    assert refusal(body, "application/json") == problems


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (rb'{"a\"b": 1, "a\"b": 2}', [("/", 'Duplicate key [a"b] in the mapping at /')]),
        (rb'{"a": 1, "\u0061": 2}', [("/", "Duplicate key [a] in the mapping at /")]),
        (rb'{"x": {"\\": 1, "\u005c": 2}}', [("/x", "Duplicate key [\\] in the mapping at /x")]),
        (rb'{":": 1, "\u003a": 2, "\u003A": 3}', [("/", "Duplicate key [:] in the mapping at /")]),
        (rb'{"a\u003Ab": 1, "a:b": 2}', [("/", "Duplicate key [a:b] in the mapping at /")]),
        ('{"é": "\\n", "\\u00e9": 2}'.encode(), [("/", "Duplicate key [é] in the mapping at /")]),
    ],
    ids=[
        "escaped-quote",
        "escaped-letter",
        "escaped-backslash",
        "escaped-colon",
        "escaped-colon-2",
        "non-ascii",
    ],
)
def test_repeated_json_keys_with_escapes_are_refused(body: bytes, problems: list[tuple[str, str]]) -> None:
    assert refusal(body, "application/json") == problems


@pytest.mark.parametrize(
    "body",
    [
        rb'{"a\"b": "\":", "c": "x\":", "a\"b\"": {"\":": "\": \":"}}',
        rb'{"a": 1, "A": 2, "\u0061\u0062": 3, "a\\": 4, "a\/": 5, "/a": 6}',
        rb'{"k": [{"k": 1}, {"k": 1}], "j": {"k": {"k": "\"k\":"}}}',
        rb'{"\u003a": "\u003A", "::": "\u003a:", "a\u003Ab": {"a:b": "\u00e9"}}',
    ],
)
def test_escaped_json_without_repeats_is_read(body: bytes) -> None:
    """Escapes (colon escapes too) do not send a text the slow way, and the slow way agrees."""
    text = body.decode()
    assert "\\" in text
    assert not _json_may_repeat_keys(text, orjson.loads(text))
    assert _json_duplicates(text) == []
    assert parse_body(body, "application/json", LIMITS) == json.loads(text)


def test_an_escaped_backslash_before_u003a_is_checked_the_slow_way() -> None:
    """``\\\\u003a`` is a backslash and ``u003a``, not a colon: the fast check counts one colon too
    many and so cannot clear the text, and the exact check finds nothing wrong."""
    text = r'{"a\\u003a": 1, "b": "\\u003A"}'
    assert _json_may_repeat_keys(text, orjson.loads(text))
    assert _json_duplicates(text) == []
    assert parse_body(text.encode(), "application/json", LIMITS) == {"a\\u003a": 1, "b": "\\u003A"}


@pytest.mark.parametrize(
    "doc",
    [
        REQUEST,
        {":": ":", "::": [":", {"a:": ":b"}], "é:": "ü:", "😀": {"x": "a:b"}},
        {"a": {"a": {"a": "a"}}, "b": [{"a": 1}, {"a": 1}], "c": ["\x7f:", "\u2028", "\u00a0:"]},
        [],
        ":",
        {},
    ],
)
def test_json_without_repeats_is_cleared_by_the_fast_check(doc: Any) -> None:
    for text in (
        json.dumps(doc, ensure_ascii=False),
        json.dumps(doc, ensure_ascii=False, indent=2),
        orjson.dumps(doc).decode(),
    ):
        assert not _json_may_repeat_keys(text, orjson.loads(text)), text
        assert parse_body(text.encode(), "application/json", LIMITS) == doc


def test_the_fast_check_sees_repeats_however_they_are_spaced() -> None:
    for text in ('{"a":1,"a" :2}', '{"a" :1,"a":2}', '{"a"\n:1,\t"a"\r\n :":"}', '{"a":":a","a":"b"}'):
        assert _json_may_repeat_keys(text, orjson.loads(text)), text
        assert refusal(text.encode(), "application/json") == [("/", "Duplicate key [a] in the mapping at /")]


def test_orjson_escapes_only_quotes_backslashes_and_control_characters() -> None:
    """Any other character, a colon in particular, is written as it is: the fast check counts on it."""
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    plain = "".join(c for c in every if c not in '"\\' and ord(c) >= 0x20)
    assert orjson.dumps(plain) == b'"' + plain.encode() + b'"'
    assert all(b"\\" in orjson.dumps(c) for c in every if c in '"\\' or ord(c) < 0x20)


def test_many_repeats_are_listed_up_to_twenty() -> None:
    body = ("[" + ",".join('{"k": 1, "k": 2, "k": 3}' for _ in range(25)) + "]").encode()
    problems = refusal(body, "application/json")
    assert len(problems) == 21
    assert problems[:20] == [(f"/{i}", f"Duplicate key [k] in the mapping at /{i}") for i in range(20)]
    assert problems[20] == ("/", "5 more duplicate keys are not listed")
    yaml_body = b"- {k: 1, k: 2}\n" * 21
    problems = refusal(yaml_body, None)
    assert [path for path, _ in problems] == [f"/{i}" for i in range(20)] + ["/"]
    assert problems[20][1] == "1 more duplicate keys are not listed"


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (b"a: 1\nb: 2\na: 3\n", [("/", "Duplicate key [a] in the mapping at / at line 3, column 1")]),
        (
            b"compute:\n  cores:\n    min: 1\n    max: 2\n    min: 3\n",
            [("/compute/cores", "Duplicate key [min] in the mapping at /compute/cores at line 5, column 5")],
        ),
        (
            b"costs:\n  - kind: x\n  - kind: x\n    kind: y\n",
            [("/costs/1", "Duplicate key [kind] in the mapping at /costs/1 at line 4, column 5")],
        ),
        (b"x: [{k: 1, k: 2}]\n", [("/x/0", "Duplicate key [k] in the mapping at /x/0 at line 1, column 12")]),
        (b"a: 1\n'a': 2\n", [("/", "Duplicate key [a] in the mapping at / at line 2, column 1")]),
        (
            b"a: 1\nb:\n  c: 1\n  c: 2\na: 3\n",
            [
                ("/b", "Duplicate key [c] in the mapping at /b at line 4, column 3"),
                ("/", "Duplicate key [a] in the mapping at / at line 5, column 1"),
            ],
        ),
        (
            b"1: a\n1.0: b\ntrue: c\n",  # one key to a Python mapping: the last would win
            [("/", "Duplicate key [1.0] in the mapping at / at line 2, column 1 (the same key as [1])")],
        ),
        (
            b"~: 1\nnull: 2\n",
            [("/", "Duplicate key [null] in the mapping at / at line 2, column 1 (the same key as [~])")],
        ),
    ],
    ids=[
        "top-level",
        "nested",
        "in-a-list-item",
        "flow",
        "quoted",
        "document-order",
        "equal-values",
        "nulls",
    ],
)
def test_repeated_yaml_keys_are_refused_with_line_and_column(
    body: bytes, problems: list[tuple[str, str]]
) -> None:
    assert refusal(body, "application/yaml") == problems


def test_yaml_keys_that_construct_to_different_values_are_not_repeats() -> None:
    assert parse_body(b"1: a\n'1': b\n!!str 2: c\n2: d\nyes: e\n'true': f\n", None, LIMITS) == {
        1: "a",
        "1": "b",
        "2": "c",
        2: "d",
        "yes": "e",  # read the YAML 1.2 way
        "true": "f",
    }


def test_yaml_merge_keys_are_ordinary_keys() -> None:
    """``<<`` is not expanded, so the keys it would merge are not compared; ``<<`` twice repeats."""
    doc = parse_body(b"base: &b {min: 1}\ncores:\n  <<: *b\n  min: 2\n", None, LIMITS)
    assert doc["cores"] == {"<<": {"min": 1}, "min": 2}
    body = b"a: &a {x: 1}\nb: &b {y: 1}\nc:\n  <<: *a\n  <<: *b\n"
    assert refusal(body, None) == [("/c", "Duplicate key [<<] in the mapping at /c at line 5, column 3")]


def test_repeats_in_an_aliased_yaml_mapping_are_reported_once() -> None:
    body = b"b: &b {x: 1, x: 2}\nc: *b\nd: [*b]\n"
    assert refusal(body, None) == [("/b", "Duplicate key [x] in the mapping at /b at line 1, column 14")]


# A JSON document as written, repeats and all: an object is its members in order.
@dataclass(frozen=True)
class _Object:
    members: list[tuple[str, Any]]


# Characters that JSON writes as they are (":", non-ASCII, DEL, no-break space, "/", "~") ...
_PLAIN_CHARS = "ab:/~é😀\x7f\u00a0 "
# ... and ones it must escape.
_ESCAPED_CHARS = '"\\\x01\n\t'


def _written_values(alphabet: str) -> st.SearchStrategy[Any]:
    keys = st.text(alphabet, max_size=2)  # few characters: keys often collide
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(alphabet + "x", max_size=4)
    )

    @st.composite
    def objects(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> _Object:
        members = draw(st.lists(st.tuples(keys, children), max_size=4))
        repeat: bool = draw(st.booleans())
        if members and repeat:  # repeat a key by hand
            key = draw(st.sampled_from([key for key, _ in members]))
            members.insert(draw(st.integers(0, len(members))), (key, draw(children)))
        return _Object(members)

    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | objects(inner), max_leaves=20)


@st.composite
def _json_texts(draw: st.DrawFn) -> tuple[Any, str]:
    """A written document and its text: spaced at random, each string written one of four ways
    (as is, ASCII-only, or every character as a ``\\uXXXX`` escape in lower- or upper-case hex)."""
    value = draw(_written_values(_PLAIN_CHARS) | _written_values(_PLAIN_CHARS + _ESCAPED_CHARS))
    spaces = st.sampled_from(["", "", " ", "\n  ", "\t", "\r\n"])
    styles = st.sampled_from(["plain", "plain", "ascii", "escaped", "ESCAPED"])

    def string(text: str) -> str:
        style = draw(styles)
        if style in ("escaped", "ESCAPED"):  # every character as a \uXXXX escape, hex in either case
            units = text.encode("utf-16-be").hex()
            if style == "ESCAPED":
                units = units.upper()
            return '"' + "".join(f"\\u{units[i : i + 4]}" for i in range(0, len(units), 4)) + '"'
        return json.dumps(text, ensure_ascii=style == "ascii")

    def write(value: Any) -> str:
        if isinstance(value, _Object):
            parts = [
                f"{draw(spaces)}{string(key)}{draw(spaces)}:{draw(spaces)}{write(child)}{draw(spaces)}"
                for key, child in value.members
            ]
            return "{" + (",".join(parts) or draw(spaces)) + "}"
        if isinstance(value, list):
            return (
                "[" + (",".join(f"{draw(spaces)}{write(child)}{draw(spaces)}" for child in value) or "") + "]"
            )
        if isinstance(value, str):
            return string(value)
        return json.dumps(value)

    return value, draw(spaces) + write(value) + draw(spaces)


def _token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _expected_repeats(value: Any, path: str = "") -> list[Problem]:
    """The repeats in a written document, straight from how it was written, in document order."""
    found: list[Problem] = []
    if isinstance(value, _Object):
        seen: set[str] = set()
        repeated: set[str] = set()
        for key, child in value.members:
            if key in seen and key not in repeated:
                repeated.add(key)
                found.append(Problem(path or "/", f"Duplicate key [{key}] in the mapping at {path or '/'}"))
            seen.add(key)
            found.extend(_expected_repeats(child, f"{path}/{_token(key)}"))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_expected_repeats(child, f"{path}/{index}"))
    return found


@settings(max_examples=500, deadline=None)
@given(written=_json_texts())
def test_the_fast_repeat_check_agrees_with_the_exact_one(written: tuple[Any, str]) -> None:
    value, text = written
    expected = _expected_repeats(value)
    if len(expected) > 20:
        expected = [*expected[:20], Problem("/", f"{len(expected) - 20} more duplicate keys are not listed")]
    assert _json_duplicates(text) == expected
    fast = _json_may_repeat_keys(text, orjson.loads(text))
    # The fast check never misses a repeat, and never sends a clean text the slow way (these texts
    # have no escaped backslash before a plain "u003a", which it would).
    assert fast == bool(expected)
    if expected:
        with pytest.raises(MalformedBody) as caught:
            parse_body(text.encode(), "application/json", LIMITS)
        assert caught.value.problems == expected
    else:
        assert parse_body(text.encode(), "application/json", LIMITS) == json.loads(text)
