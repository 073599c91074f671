"""Serialisation: content types, Accept negotiation (WD rules, protocol.md 5 items 1-7) and body limits."""

from __future__ import annotations

import json

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from execbroker.wire.errors import (
    BodyTooLarge,
    MalformedBody,
    NotAcceptable,
    UnsupportedMediaType,
    WireError,
)
from execbroker.wire.media import Limits, MediaType, _check_tree, body_media, dump, negotiate, parse_body

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
