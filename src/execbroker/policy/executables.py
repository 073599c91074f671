"""Rules for executables: Docker containers (privilege, image, platform, ports), notebooks, Singularity.

Docker image locations: *every* entry of ``image.locations`` must pass (none denied; each allowed when an
allow list is set). The request is judged on everything it names, so whichever location the platform
ends up pulling from is one the operator accepted, and the policy never has to know which one that is.
"""

from __future__ import annotations

import re

from execbroker.model.components import Executable, ExecutableKind
from execbroker.model.messages import INVALID_VALUE
from execbroker.policy.config import PORT_MAX, PORT_MIN, DockerRules, ExecutablePolicy, PortRules
from execbroker.policy.findings import Findings, SpecView, Subject
from execbroker.policy.locations import check_location
from execbroker.policy.matching import allowed, denied, normalise_path

#: The OCI image-spec digest grammar: ``algorithm:encoded``.
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")

NOUN = "executable"


def check_executable(executable: Executable, rules: ExecutablePolicy, findings: Findings) -> None:
    """Kind-specific rules for a supported executable kind (the kind itself is checked by the caller)."""
    subject = Subject.of(NOUN, executable)
    view = SpecView(executable.spec, subject, findings)
    if executable.kind is ExecutableKind.DOCKER_CONTAINER:
        _check_docker(view, rules.docker)
    elif executable.kind is ExecutableKind.JUPYTER_NOTEBOOK:
        check_location(view, rules.jupyter)
    elif executable.kind is ExecutableKind.SINGULARITY_CONTAINER:
        check_location(view, rules.singularity)


def _check_docker(view: SpecView, rules: DockerRules) -> None:
    findings, subject = view.findings, view.subject
    if view.flag("privileged") and not rules.allow_privileged:
        findings.denied(
            "The ${noun} [${name}] asks to run privileged, which is not allowed on this platform", subject
        )
    view.text("entrypoint")
    view.texts("command")
    view.text_map("environment")
    _check_image(view, rules)
    network = view.mapping("network")
    if network is not None:
        for index, port in enumerate(network.mappings("ports")):
            _check_port(port, index, rules.ports)


def _check_image(view: SpecView, rules: DockerRules) -> None:
    findings, subject = view.findings, view.subject
    image = view.mapping("image")
    locations = (image.texts("locations") if image is not None else None) or []
    locations = [loc.strip() for loc in locations if loc.strip()]
    if not locations and rules.require_image:
        findings.missing(subject, "image.locations")
    for location in locations:
        if any(ord(c) < 33 or ord(c) == 127 for c in location):
            expected = "an image reference without spaces or control characters"
            findings.invalid(subject, "image.locations", expected, location)
        elif denied(location, rules.images_denied) or not allowed(location, rules.images_allowed):
            findings.denied(
                "The image ${image} of ${noun} [${name}] is not allowed on this platform",
                subject,
                image=location,
            )
    if image is None:
        if rules.require_digest:
            findings.missing(subject, "image.digest")
        return
    digest = image.text("digest")
    if digest is None:
        if rules.require_digest and image.absent("digest"):
            findings.missing(subject, "image.digest")
    elif not _DIGEST.match(digest.strip()):
        findings.invalid(subject, "image.digest", "an image digest such as sha256:<64 hex digits>", digest)
    platform = image.mapping("platform")
    if platform is None:
        return
    for key, accepted in (("architecture", rules.architectures), ("os", rules.os)):
        value = platform.text(key)
        if value is not None and accepted and value.strip().lower() not in {a.lower() for a in accepted}:
            findings.denied(
                "The image of ${noun} [${name}] is built for ${field} ${value}; "
                "this platform runs ${accepted}",
                subject,
                field=key,
                value=value,
                accepted=", ".join(accepted),
            )


def _in_spans(port: int, spans: list[tuple[int, int]]) -> bool:
    return any(low <= port <= high for low, high in spans)


def _check_port(port: SpecView, index: int, rules: PortRules) -> None:
    findings, subject = port.findings, port.subject
    port.flag("access")
    internal = port.mapping("internal")
    number = internal.integer("port") if internal is not None else None
    label = str(number) if number is not None else f"#{index + 1}"
    if number is None:
        if internal is None or internal.data.get("port") is None:
            findings.missing(subject, f"{port.path}.internal.port")
    elif not PORT_MIN <= number <= PORT_MAX:
        findings.add(
            INVALID_VALUE,
            "Port ${port} of ${noun} [${name}] is not a valid port number (${low} to ${high})",
            subject,
            port=number,
            low=PORT_MIN,
            high=PORT_MAX,
        )
    elif _in_spans(number, rules.internal_ports_denied) or (
        rules.internal_ports_allowed and not _in_spans(number, rules.internal_ports_allowed)
    ):
        findings.denied(
            "Port ${port} of ${noun} [${name}] is not allowed on this platform", subject, port=number
        )

    protocol = port.text("protocol")
    effective = (protocol or "TCP").strip().upper()
    if rules.protocols_allowed and effective not in rules.protocols_allowed:
        findings.denied(
            "Port ${port} of ${noun} [${name}] uses the ${protocol} protocol; "
            "this platform allows ${protocols}",
            subject,
            port=label,
            protocol=protocol or effective,
            protocols=", ".join(rules.protocols_allowed),
        )

    external = port.mapping("external")
    if external is not None and any(v not in (None, [], "") for v in external.data.values()):
        if not rules.allow_external_port:
            findings.denied(
                "Port ${port} of ${noun} [${name}] asks for an external port; "
                "this platform chooses external ports itself",
                subject,
                port=label,
            )
        else:
            outside = external.integer("port")
            if outside is not None and not PORT_MIN <= outside <= PORT_MAX:
                findings.invalid(subject, f"{external.path}.port", "a port number from 1 to 65535", outside)

    path = port.text("path")
    if path is None:
        return
    if not path.startswith("/"):
        findings.invalid(subject, f"{port.path}.path", "a path starting with /", path)
        return
    normal = normalise_path(path)
    if denied(path, rules.paths_denied, normalised=normal) or not allowed(normal, rules.paths_allowed):
        findings.denied(
            "The path ${path} of port ${port} of ${noun} [${name}] is not allowed on this platform",
            subject,
            path=path,
            port=label,
        )
