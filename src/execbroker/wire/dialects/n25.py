"""N25, the Nov-2025 pre-release of v1.0 that the reference implementation and its 1.0.5 client speak:
``kind`` + ``meta``, ``…/EB/schema/v1.0/types/<group>/<name>-1.0`` URIs (``compute/``, not REF's own
``computer/``), top-level ``volumes`` named from compute, no costs or metrics, bare updates."""

from __future__ import annotations

from execbroker.wire.dialects.codec import Codec
from execbroker.wire.dialects.encoding import Style
from execbroker.wire.kinds import UriStyle

STYLE = Style(uris=UriStyle.N25, discriminator="kind", nested_meta=True)

CODEC = Codec("n25", STYLE)
