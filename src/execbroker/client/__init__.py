"""A Python client for IVOA Execution Brokers (any conforming broker, v1.0 on the wire).

``Client`` blocks, ``AsyncClient`` awaits; both return the internal model objects
(:class:`~execbroker.model.components.OfferSet`, :class:`~execbroker.model.components.Session`) and raise
the typed errors of :mod:`execbroker.client.errors`.
"""

from execbroker.client.asyncio import AsyncClient, AsyncOfferSetHandle, AsyncSessionHandle
from execbroker.client.errors import (
    BadRequest,
    BrokerError,
    BrokerUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    Problem,
    Rejected,
    SessionFailed,
    UnsupportedUpdate,
    WaitTimeout,
)
from execbroker.client.loading import decode_request_document, read_request_file, request_document
from execbroker.client.protocol import SessionSummary
from execbroker.client.sync import Client, OfferSetHandle, SessionHandle

__all__ = [
    "AsyncClient",
    "AsyncOfferSetHandle",
    "AsyncSessionHandle",
    "BadRequest",
    "BrokerError",
    "BrokerUnavailable",
    "Client",
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "OfferSetHandle",
    "Problem",
    "Rejected",
    "SessionFailed",
    "SessionHandle",
    "SessionSummary",
    "UnsupportedUpdate",
    "WaitTimeout",
    "decode_request_document",
    "read_request_file",
    "request_document",
]
