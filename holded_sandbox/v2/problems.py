"""RFC 7807 problem answers, as Holded API v2 sends every error.

Invariants: every v2 error is `{"type": "https://api.holded.com/problems/<slug>", "title", "status",
"detail"}` with `Content-Type: application/problem+json`; the slug and title follow the status
(bad-request 400, unauthorized 401, forbidden 403, not-found 404, unprocessable-entity 422,
too-many-requests 429; other statuses get a slug of their reason). Handlers raise `Problem`; the
frame turns it into the answer, so no handler builds an error body by hand.
"""

from __future__ import annotations

from http import HTTPStatus

from ..routing import Response
from ..store import dumps

PROBLEM_TYPE = "application/problem+json"
PROBLEM_BASE = "https://api.holded.com/problems/"
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    422: "unprocessable-entity",
    429: "too-many-requests",
}


class Problem(Exception):
    """An error answer: raise it from a v2 handler with the HTTP status and a human `detail`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}

    def response(self) -> Response:
        """The problem+json answer for this error."""
        resp = problem(self.status, self.detail)
        resp.headers.update(self.headers)
        return resp


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, detail: str) -> Response:
    """A problem+json answer: `problem(404, "Contact not found.")`."""
    title = _title(status)
    slug = SLUGS.get(status) or title.lower().replace(" ", "-")
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return Response(status, dumps(body), PROBLEM_TYPE)


def not_found(what: str) -> Problem:
    """404 for an unknown id: `raise not_found("Contact")`."""
    return Problem(404, f"{what} not found.")


def invalid(detail: str) -> Problem:
    """422: the body was understood but a value is missing or wrong."""
    return Problem(422, detail)


def bad_request(detail: str) -> Problem:
    """400: the request itself is malformed (query parameter, cursor, JSON)."""
    return Problem(400, detail)
