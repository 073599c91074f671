"""Which broker a command talks to: ``--broker`` > ``EXECBROKER_URL`` > the client config file > localhost.

The config file is ``$XDG_CONFIG_HOME/execbroker/client.yaml`` (``~/.config/...`` by default), or the
file named by ``EXECBROKER_CLIENT_CONFIG``; it holds ``broker: URL``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from execbroker.cli.exits import CommandError, ExitCode
from execbroker.client.protocol import base_of

DEFAULT_BROKER = "http://127.0.0.1:8080"


def config_path() -> Path:
    explicit = os.environ.get("EXECBROKER_CLIENT_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "execbroker" / "client.yaml"


def configured_broker() -> str | None:
    """The broker named in the client config file, if there is one."""
    path = config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(f"Cannot read the client config {path}: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CommandError(f"The client config {path} is not valid YAML: {exc}") from None
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("broker", ""), str):
        raise CommandError(f"The client config {path} must be a mapping with 'broker: URL'")
    broker = doc.get("broker")
    return checked(broker, f"'broker' in {path}", ExitCode.ERROR) if broker else None


def checked(url: str, where: str = "--broker", code: ExitCode = ExitCode.USAGE) -> str:
    """A broker URL with the trailing slash removed, or a CommandError that says what is wrong with it."""
    problem = f"{where}: [{url}] is not a broker URL; expected e.g. http://127.0.0.1:8080"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as exc:  # an unclosed [IPv6 address, a port over 65535, ...
        raise CommandError(f"{problem} ({exc})", code) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(problem, code)
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if last in _ENDPOINTS:
        base = url.strip().rstrip("/")[: -len(last)].rstrip("/")
        raise CommandError(
            f"{where}: [{url}] names the broker's /{last} endpoint; give the broker itself, e.g. {base}", code
        )
    return url.strip().rstrip("/")


#: The last path segment of the broker's own endpoints: a broker URL does not end in one.
_ENDPOINTS = frozenset({"sessions", "offersets", "requests", "direct"})


def resolve(flags: list[str] | None) -> list[str]:
    """The broker URLs to use, in order (several only when given several ``--broker`` flags)."""
    if flags:
        out: list[str] = []
        for flag in flags:
            url = checked(flag)
            if url not in out:
                out.append(url)
        return out
    env = os.environ.get("EXECBROKER_URL", "").strip()
    if env:
        return [checked(env, "EXECBROKER_URL", ExitCode.ERROR)]
    return [configured_broker() or DEFAULT_BROKER]


def locate(ref: str, flags: list[str] | None) -> tuple[str, str]:
    """(broker URL, uuid) for a session named by its uuid or its full URL (which names its broker too)."""
    ref = ref.strip()
    if ref.startswith(("http://", "https://")):
        found = base_of(ref)
        if found is None:
            raise CommandError(
                f"[{ref}] is not a session URL; expected <broker>/sessions/<uuid>", ExitCode.USAGE
            )
        return found
    if not ref or "/" in ref or ref in (".", ".."):
        raise CommandError(
            f"[{ref}] names no session; give its uuid or its URL (<broker>/sessions/<uuid>)", ExitCode.USAGE
        )
    brokers = resolve(flags)
    if len(brokers) > 1:
        raise CommandError("Give one --broker for a session named by its uuid (or give its URL)")
    return brokers[0], ref
