"""Errors a service raises for a client's mistake; the API turns them into HTTP answers."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    error = "bad-request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status = 404
    error = "not-found"


class Conflict(ServiceError):
    status = 409
    error = "illegal-transition"


class Unprocessable(ServiceError):
    status = 422
    error = "unsupported-update"
