"""Rules for data resources: where each kind says its bytes are, and whether the platform may go there.

Required fields are listed in the config (``require``), so a platform that can fetch a whole bucket can
drop ``object`` and one that cannot can add it. Endpoints are URLs and are matched like locations (as
given and normalised, see :mod:`execbroker.policy.matching`).
"""

from __future__ import annotations

from collections.abc import Iterable

from execbroker.model.components import Data, DataKind
from execbroker.policy.config import DataPolicy, IvoaRules, RucioRules, S3Rules, SkaoRules
from execbroker.policy.findings import Findings, SpecView, Subject
from execbroker.policy.locations import check_location
from execbroker.policy.matching import Match, allowed, denied, parse_location

NOUN = "data resource"
OBJECT_TYPES = ("FILE", "CONTAINER", "DATASET")


def check_data(data: Data, rules: DataPolicy, findings: Findings) -> None:
    """Kind-specific rules for a supported data kind (the kind itself is checked by the caller)."""
    view = SpecView(data.spec, Subject.of(NOUN, data), findings)
    if data.kind is DataKind.SIMPLE:
        check_location(view, rules.simple)
    elif data.kind is DataKind.S3:
        _check_s3(view, rules.s3)
    elif data.kind is DataKind.RUCIO:
        _check_rucio(view, rules.rucio)
    elif data.kind is DataKind.IVOA:
        _check_ivoa(view, rules.ivoa, required=rules.ivoa.require_ivoid)
    elif data.kind is DataKind.SKAO:
        _check_skao(view, rules.skao, rules.ivoa)


def _require(view: SpecView | None, fields: Iterable[str], *, parent: SpecView, block: str = "") -> None:
    """Report each required field that is absent; ``view`` is None when its whole block is missing."""
    if view is None and block and not parent.absent(block):
        return  # the block is there but is not a mapping: reported already, once is enough
    for name in fields:
        if view is None or view.absent(name):
            parent.findings.missing(parent.subject, f"{block}.{name}" if block else name)


def _check_endpoint(
    view: SpecView, key: str, schemes: list[str], allow: Match, deny: Match, what: str
) -> None:
    endpoint = view.text(key)
    if endpoint is None:
        return
    loc = parse_location(endpoint)
    where = f"{view.path}.{key}" if view.path else key
    if loc is None or (schemes and loc.scheme not in schemes):
        view.findings.invalid(view.subject, where, f"an absolute {'/'.join(schemes) or ''} URL", endpoint)
        return
    if denied(endpoint, deny, normalised=loc.normalised) or not allowed(loc.normalised, allow):
        view.findings.denied(
            "The ${what} endpoint ${endpoint} of ${noun} [${name}] is not allowed on this platform",
            view.subject,
            what=what,
            endpoint=endpoint,
        )


def _check_listed(
    view: SpecView, key: str, allow: Match, deny: Match, what: str, casefold: bool = False
) -> None:
    """A plain name (bucket, scope, namespace) against its allow and deny lists."""
    value = view.text(key)
    if value is None:
        return
    if denied(value, deny, casefold=casefold) or not allowed(value, allow, casefold=casefold):
        view.findings.denied(
            "The ${what} ${value} of ${noun} [${name}] is not allowed on this platform",
            view.subject,
            what=what,
            value=value,
        )


def _check_object_type(view: SpecView, key: str) -> None:
    value = view.text(key)
    if value is not None and value.strip().upper() not in OBJECT_TYPES:
        view.findings.invalid(view.subject, f"{view.path}.{key}", " or ".join(OBJECT_TYPES), value)


def _check_s3(view: SpecView, rules: S3Rules) -> None:
    for key in ("template", "object"):
        view.text(key)
    _require(view, rules.require, parent=view)
    _check_endpoint(
        view,
        "endpoint",
        rules.endpoint_schemes_allowed,
        rules.endpoints_allowed,
        rules.endpoints_denied,
        "S3",
    )
    _check_listed(view, "bucket", Match(), rules.buckets_denied, "bucket")


def _check_rucio(view: SpecView, rules: RucioRules) -> None:
    block = view.mapping("rucio")
    if block is not None:
        block.text("object")
        _check_object_type(block, "type")
    _require(block, rules.require, parent=view, block="rucio")
    if block is None:
        return
    _check_endpoint(
        block, "endpoint", ["https", "http"], rules.endpoints_allowed, rules.endpoints_denied, "Rucio"
    )
    _check_listed(block, "scope", rules.scopes_allowed, rules.scopes_denied, "Rucio scope")


def _check_ivoa(view: SpecView, rules: IvoaRules, *, required: bool) -> None:
    block = view.mapping("ivoa")
    if block is not None:
        block.mapping("obscore")
        block.mapping("datalink")
    if required:
        _require(block, ["ivoid"], parent=view, block="ivoa")
    ivoid = block.text("ivoid") if block is not None else None
    if ivoid is None or block is None:
        return
    if not ivoid.strip().lower().startswith("ivo://"):
        view.findings.invalid(view.subject, "ivoa.ivoid", "an IVOA identifier (ivo://...)", ivoid)
        return
    loc = parse_location(ivoid.strip())
    normal = loc.normalised if loc is not None else None
    if denied(ivoid, rules.ivoids_denied, casefold=True, normalised=normal) or not allowed(
        normal or ivoid, rules.ivoids_allowed, casefold=True
    ):
        view.findings.denied(
            "The ivoid ${ivoid} of ${noun} [${name}] is not allowed on this platform",
            view.subject,
            ivoid=ivoid,
        )


def _check_skao(view: SpecView, rules: SkaoRules, ivoa: IvoaRules) -> None:
    block = view.mapping("skao")
    if block is not None:
        block.text("objectname")
        _check_object_type(block, "objecttype")
        size = block.integer("datasize")
        if size is not None and size < 0:
            view.findings.invalid(view.subject, "skao.datasize", "a size in bytes, 0 or more", size)
        block.mapping("checksum")
        for replica in block.mappings("replicas"):
            replica.text("rsename")
            replica.text("dataurl")
    _require(block, rules.require, parent=view, block="skao")
    if block is not None:
        _check_listed(block, "namespace", rules.namespaces_allowed, rules.namespaces_denied, "namespace")
    # The ivoa block is optional here, but when it names an ivoid the IVOA lists apply to it.
    _check_ivoa(view, ivoa, required=False)
