"""v1.0 (Calycopis-openapi schema/v1.0, 2026-07): ``kind`` + ``meta``, ``…/kinds/<group>/<name>.yaml``
URIs, mounts inline under compute with a single ``resource``, costs and metrics, bare updates."""

from __future__ import annotations

from execbroker.wire.dialects.codec import Codec
from execbroker.wire.dialects.encoding import Style
from execbroker.wire.kinds import UriStyle

STYLE = Style(
    uris=UriStyle.V10,
    discriminator="kind",
    nested_meta=True,
    inline_volumes=True,
    v10_fields=True,
)

CODEC = Codec("v1.0", STYLE)
