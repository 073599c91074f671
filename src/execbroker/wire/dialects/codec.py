"""A codec: the liberal reader plus the writer of one dialect, behind the interface the API uses."""

from __future__ import annotations

from typing import Any

from execbroker.model.components import ExecutionRequest, OfferSet, Session, Update
from execbroker.wire.dialects import decoding
from execbroker.wire.dialects.encoding import OfferChanges, Style, Writer


class Codec:
    """Decodes any dialect (reading is liberal) and encodes exactly one (writing is exact).

    ``extras=True`` on the encoders adds the superset fields that the target dialect has no place for
    (v1.0: a request's ``meta``, mounts' ``cardinality`` and ``resources``, mounts that are declared
    but not attached); the decoders read them back, so our own stored documents round-trip losslessly.
    Dialects that already carry these fields ignore the flag.
    """

    def __init__(self, name: str, style: Style) -> None:
        self.name = name
        self.style = style

    def __repr__(self) -> str:
        return f"Codec({self.name!r})"

    def decode_request(self, doc: Any) -> ExecutionRequest:
        return decoding.decode_request(doc)

    def decode_offerset(self, doc: Any) -> OfferSet:
        return decoding.decode_offerset(doc)

    def decode_session(self, doc: Any) -> Session:
        return decoding.decode_session(doc)

    def decode_update(self, doc: Any) -> Update:
        return decoding.decode_update(doc)

    def encode_request(self, request: ExecutionRequest, *, extras: bool = False) -> dict[str, Any]:
        return Writer(self.style, extras).request(request)

    def encode_offerset(self, offerset: OfferSet, *, extras: bool = False) -> dict[str, Any]:
        return Writer(self.style, extras).offerset(offerset)

    def encode_session(self, session: Session, *, extras: bool = False) -> dict[str, Any]:
        return Writer(self.style, extras).session(session)

    def restamp_session(self, template: dict[str, Any], changes: OfferChanges) -> dict[str, Any]:
        """See :meth:`Writer.restamp` (the template must have been written by this codec)."""
        return Writer(self.style).restamp(template, changes)

    def encode_update(self, update: Update, *, extras: bool = False) -> dict[str, Any]:
        return Writer(self.style, extras).update(update)
