"""A typed view of a docker-container executable's spec, and the image digest rule.

The spec is kept as plain JSON in the model (every dialect shapes it the same way); this module
reads it once, says what is wrong with it in messages, and leaves the engine API calls to
:mod:`execbroker.platforms.docker`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from execbroker.model.messages import INVALID_VALUE, MISSING_VALUE, Level, Message

_SHA256 = re.compile(r"^(sha256:)?[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class PortSpec:
    port: int
    protocol: str = "TCP"
    path: str = ""

    @property
    def scheme(self) -> str:
        proto = self.protocol.upper()
        return {"HTTP": "http", "HTTPS": "https", "UDP": "udp"}.get(proto, "tcp")


@dataclass(slots=True)
class ContainerSpec:
    locations: list[str] = field(default_factory=list)
    digest: str | None = None
    architecture: str | None = None
    os: str | None = None
    privileged: bool = False
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    ports: list[PortSpec] = field(default_factory=list)


def _problem(kind: str, template: str, **values: object) -> Message:
    return Message.make(kind, Level.ERROR, template, **values)


def parse_container_spec(spec: dict[str, Any]) -> tuple[ContainerSpec, list[Message]]:
    """The typed spec and every problem found (empty list: usable)."""
    out = ContainerSpec()
    problems: list[Message] = []
    image = spec.get("image")
    if isinstance(image, dict):
        locations = image.get("locations")
        if isinstance(locations, str):
            locations = [locations]
        if isinstance(locations, list):
            out.locations = [loc.strip() for loc in locations if isinstance(loc, str) and loc.strip()]
        digest = image.get("digest")
        if isinstance(digest, str) and digest.strip():
            out.digest = digest.strip().lower()
            if not _SHA256.match(out.digest):
                problems.append(
                    _problem(INVALID_VALUE, "The image digest [${digest}] is not sha256", digest=digest)
                )
        platform = image.get("platform")
        if isinstance(platform, dict):
            arch, osname = platform.get("architecture"), platform.get("os")
            out.architecture = arch if isinstance(arch, str) and arch else None
            out.os = osname if isinstance(osname, str) and osname else None
    if not out.locations:
        problems.append(_problem(MISSING_VALUE, "The container executable needs at least one image location"))
    privileged = spec.get("privileged")
    out.privileged = privileged is True or (isinstance(privileged, str) and privileged.lower() == "true")
    entrypoint = spec.get("entrypoint")
    if isinstance(entrypoint, str) and entrypoint.strip():
        out.entrypoint = shlex.split(entrypoint)
    elif isinstance(entrypoint, list) and all(isinstance(e, str) for e in entrypoint):
        out.entrypoint = list(entrypoint)
    command = spec.get("command")
    if isinstance(command, list) and all(isinstance(c, (str, int, float)) for c in command):
        out.command = [str(c) for c in command]
    elif isinstance(command, str) and command.strip():
        out.command = shlex.split(command)
    environment = spec.get("environment")
    if isinstance(environment, dict):
        out.environment = {str(k): "" if v is None else str(v) for k, v in environment.items()}
    out.ports, port_problems = _ports(spec.get("network"))
    problems.extend(port_problems)
    return out, problems


def _ports(network: Any) -> tuple[list[PortSpec], list[Message]]:
    ports: list[PortSpec] = []
    problems: list[Message] = []
    entries = network.get("ports") if isinstance(network, dict) else None
    if not isinstance(entries, list):
        return ports, problems
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("access") is False:
            continue
        internal = entry.get("internal")
        port = internal.get("port") if isinstance(internal, dict) else None
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problems.append(_problem(INVALID_VALUE, "A network port needs an internal port from 1 to 65535"))
            continue
        protocol = entry.get("protocol") if isinstance(entry.get("protocol"), str) else "TCP"
        path = entry.get("path") if isinstance(entry.get("path"), str) else ""
        if path and not path.startswith("/"):
            path = "/" + path
        ports.append(PortSpec(port, str(protocol), str(path)))
    return ports, problems


def digest_matches(digest: str, image_id: str, repo_digests: list[str]) -> bool:
    """Whether ``digest`` names this image: its id (config digest) or one of its repo digests."""
    wanted = digest.lower().removeprefix("sha256:")
    candidates = [image_id] + [d.rsplit("@", 1)[-1] for d in repo_digests]
    return any(c.lower().removeprefix("sha256:") == wanted for c in candidates if c)
