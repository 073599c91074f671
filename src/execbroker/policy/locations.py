"""The location rule shared by notebooks, Singularity images and simple data resources.

The Working Draft says a service that cannot reach an external location must answer NO. Here that
means: the URL must be absolute, its scheme one the platform fetches, it must not be denied and (if an
allow list is set) must be allowed; a ``file://`` URL must be local and lie inside a shared root after
``..`` segments are resolved.
"""

from __future__ import annotations

from execbroker.policy.config import LocationRules
from execbroker.policy.findings import Findings, SpecView
from execbroker.policy.matching import allowed, denied, parse_location, path_within


def check_location(view: SpecView, rules: LocationRules, key: str = "location") -> None:
    """Check the ``key`` field of ``view`` against ``rules``, recording each problem in the findings."""
    findings = view.findings
    subject = view.subject
    value = view.text(key)
    if value is None:
        # A value of the wrong type has been reported already; absent or blank is "missing".
        if rules.require_location and view.absent(key):
            findings.missing(subject, key)
        return
    where = f"{view.path}.{key}" if view.path else key
    loc = parse_location(value)
    if loc is None:
        findings.invalid(subject, where, "an absolute URL", value)
        return
    if denied(value, rules.locations_denied, normalised=loc.normalised):
        findings.denied(
            "The location ${location} of ${noun} [${name}] is not allowed on this platform",
            subject,
            location=value,
        )
        return
    if loc.scheme == "file":
        _check_file(findings, view, rules, value, loc.host, loc.path)
        return
    if rules.schemes_allowed and loc.scheme not in rules.schemes_allowed:
        findings.denied(
            "The location ${location} of ${noun} [${name}] uses the ${scheme} scheme; "
            "this platform can only fetch ${schemes}",
            subject,
            location=value,
            scheme=loc.scheme,
            schemes=", ".join(rules.schemes_allowed),
        )
        return
    if not allowed(loc.normalised, rules.locations_allowed):
        findings.denied(
            "The location ${location} of ${noun} [${name}] is not one this platform can reach",
            subject,
            location=value,
        )


def _check_file(
    findings: Findings, view: SpecView, rules: LocationRules, value: str, host: str, path: str
) -> None:
    if host not in ("", "localhost"):
        findings.denied(
            "The location ${location} of ${noun} [${name}] is a file on another host (${host}), "
            "which this platform cannot reach",
            view.subject,
            location=value,
            host=host,
        )
        return
    if not any(path_within(path, root) for root in rules.file_roots_allowed):
        findings.denied(
            "The location ${location} of ${noun} [${name}] is the local path ${path}, "
            "which is outside the directories this platform shares",
            view.subject,
            location=value,
            path=path or "/",
        )
        return
    if not allowed(f"file://{path}", rules.locations_allowed):
        findings.denied(
            "The location ${location} of ${noun} [${name}] is not one this platform can reach",
            view.subject,
            location=value,
        )
