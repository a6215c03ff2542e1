"""One error hierarchy for the review desk; the console maps it to HTTP with `HTTP_STATUS`."""

from __future__ import annotations

__all__ = ["HTTP_STATUS", "Conflict", "Forbidden", "InvalidRequest", "NotFound", "ReviewError"]


class ReviewError(Exception):
    """Base: the message is safe to show to the caller."""

    code = "review_error"


class NotFound(ReviewError):
    code = "not_found"


class Forbidden(ReviewError):
    """The caller's role or identity does not allow this (own four-eyes item, someone else's claim…)."""

    code = "forbidden"


class Conflict(ReviewError):
    """The alert is not in a state that allows this (already claimed, closed, changed meanwhile)."""

    code = "conflict"


class InvalidRequest(ReviewError):
    code = "invalid_request"


HTTP_STATUS: dict[type[ReviewError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidRequest: 422,
    ReviewError: 400,
}
