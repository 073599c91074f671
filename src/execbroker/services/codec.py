"""How sessions and offer sets are kept in the database and turned back into model objects.

Bodies are the v1.0 encoding with the superset extras (so nothing of an older dialect is lost); the
row's columns (phase, modified, expires) are authoritative and laid over the body on the way out,
together with the options that the phase allows.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from execbroker.model.components import Meta, OfferSet, Option, OptionKind, Session
from execbroker.model.phases import ComponentPhase, SessionPhase, client_options
from execbroker.store.records import OfferSetRecord, SessionRecord
from execbroker.wire.dialects import Dialect, get_codec
from execbroker.wire.dialects.encoding import OfferChanges


def _dt(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


class StoredCodec:
    def __init__(self) -> None:
        self._codec = get_codec(Dialect.V1_0)

    def session_body(self, session: Session) -> dict[str, Any]:
        return self._codec.encode_session(session, extras=True)

    def offer_body(self, session: Session) -> tuple[dict[str, Any], bool]:
        """The stored body of a new offer, and whether it is also its exact v1.0 answer.

        A new offer's components were all made by the broker (their kind spelling does not matter) so
        without volume mounts the superset extras add nothing: one encoding serves both purposes.
        """
        if session.volumes or (session.compute is not None and session.compute.volumes):
            return self._codec.encode_session(session, extras=True), False
        return self._codec.encode_session(session), True

    def restamp(self, template: dict[str, Any], changes: OfferChanges) -> dict[str, Any]:
        """Another offer's body from an exact one (see ``Writer.restamp``): same kind of document."""
        return self._codec.restamp_session(template, changes)

    def offerset_body(self, offerset: OfferSet) -> dict[str, Any]:
        """The stored body of an offer set without its offers (the v1.0 writer adds no extras to it,
        so it is also the set's exact v1.0 document)."""
        shell = OfferSet(meta=offerset.meta, result=offerset.result, description=offerset.description)
        return self._codec.encode_offerset(shell, extras=True)

    def session(self, record: SessionRecord) -> Session:
        session = self._codec.decode_session(record.body)
        phase = record.phase
        if phase is SessionPhase.OFFERED and record.expires is not None and record.expires <= time.time():
            # Past its expiry an offer can no longer be taken (an accept is a 409), even before the
            # sweep that records it has run: show it as what it is.
            phase = SessionPhase.EXPIRED
        session.phase = phase
        session.meta.modified = _dt(record.modified)
        # An offer's expiry means something while it is offered (and, once passed, when it expired);
        # an accepted or rejected session has none.
        offered = phase in (SessionPhase.OFFERED, SessionPhase.EXPIRED)
        session.expires = _dt(record.expires) if offered and record.expires is not None else None
        session.meta.options = session_options(phase)
        if record.phase is SessionPhase.CANCELLED:
            # Cancelled before anything was prepared, the session ended without an engine step: its
            # components end with it (the engine sets them itself when it cleans up).
            for component in session.components():
                if component.phase is None or not component.phase.is_final:
                    component.phase = ComponentPhase.CANCELLED
        return session

    def offerset(self, record: OfferSetRecord, sessions: list[SessionRecord]) -> OfferSet:
        offerset = self._codec.decode_offerset(record.body)
        offerset.offers = [self.session(s) for s in sessions]
        if offerset.meta is None:
            offerset.meta = Meta()
        return offerset


def session_options(phase: SessionPhase) -> list[Option]:
    values = [p.value for p in client_options(phase)]
    return [Option(OptionKind.ENUM_VALUE, "phase", values)] if values else []
