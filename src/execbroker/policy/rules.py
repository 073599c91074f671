"""The policy checker: may this platform run this request, and if not, why not.

:meth:`Policy.check` applies every rule of a :class:`PolicyConfig` to a decoded request and returns one
WARN message per violated rule, in request order (executable, compute, storage, data, volumes, then
cross-references). An empty list means the policy has no objection; sizes and time are judged later by
scheduling. A business "no" is never an exception: malformed specs become ``urn:invalid-value`` messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from execbroker.model.components import Component, ExecutionRequest
from execbroker.model.messages import EXECUTABLE_REQUIRED, UNKNOWN_KIND, Message
from execbroker.policy.config import PolicyConfig
from execbroker.policy.data import check_data
from execbroker.policy.executables import check_executable
from execbroker.policy.findings import Findings, Subject
from execbroker.policy.references import all_volumes, check_references


class Policy:
    """What one platform will accept, built from its configuration."""

    def __init__(self, config: PolicyConfig | None = None) -> None:
        self._config = config if config is not None else PolicyConfig()

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> Policy:
        """Build from the ``policy:`` section of a loaded config file (``None`` gives the defaults).

        Raises pydantic's ``ValidationError`` for a bad config: that is the operator's error, not a client's.
        """
        return cls(PolicyConfig.model_validate(dict(section or {})))

    @property
    def config(self) -> PolicyConfig:
        return self._config

    def check(self, request: ExecutionRequest) -> list[Message]:
        """Every reason this platform would refuse the request; empty if it has none."""
        config = self._config
        findings = Findings()
        already = _kinds_already_reported(request)

        executable = request.executable
        if executable is None:
            findings.add(EXECUTABLE_REQUIRED, "An executable is required")
        elif _kind_supported(executable, "executable", config.executables.kinds, already, findings):
            check_executable(executable, config.executables, findings)

        if request.compute is not None:
            _kind_supported(request.compute, "compute resource", config.compute.kinds, already, findings)
        for storage in request.storage:
            _kind_supported(storage, "storage resource", config.storage.kinds, already, findings)
        for data in request.data:
            if _kind_supported(data, "data resource", config.data.kinds, already, findings):
                check_data(data, config.data, findings)
        for volume in all_volumes(request):
            _kind_supported(volume, "volume mount", config.volumes.kinds, already, findings)

        check_references(request, config.volumes, findings)
        return findings.messages

    def allows(self, request: ExecutionRequest) -> bool:
        return not self.check(request)


def _kinds_already_reported(request: ExecutionRequest) -> set[str]:
    """Values quoted by the decoder's own unknown-kind problems, so the same kind is not reported twice."""
    return {
        value
        for problem in request.problems
        if problem.kind == UNKNOWN_KIND
        for value in problem.values.values()
    }


def _kind_supported(
    component: Component, noun: str, supported: list[Any], already: set[str], findings: Findings
) -> bool:
    """True if the component's kind is one this platform supports; otherwise say why and return False."""
    kind = getattr(component, "kind", None)
    subject = Subject.of(noun, component)
    if kind is None:
        uri = component.kind_uri or "(none)"
        if uri not in already:
            findings.add(
                UNKNOWN_KIND,
                "The ${noun} [${name}] has a kind this platform does not know: ${type}",
                subject,
                type=uri,
            )
        return False
    if kind not in supported:
        label = kind.value if isinstance(kind, Enum) else str(kind)
        findings.add(
            UNKNOWN_KIND,
            "The ${noun} [${name}] is a ${type}, which this platform does not support",
            subject,
            type=label,
        )
        return False
    return True
