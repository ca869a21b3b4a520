"""Request bodies: a size limit per route, and a budget for the bodies being received or held at once.

A request with a body is admitted (after the access checks, before a byte of the body is read) only when the
budget has room for its declared size; otherwise it gets 503 at once. The reservation lasts until the response
is built, so it covers the upload while it waits for and goes through its audit. File parts larger than
`spool_bytes` wait in an unnamed temporary file (see app.SpoolingRequest), so memory does not grow with them.
"""
from __future__ import annotations

import threading

from flask import abort, g, request

from .engine import Busy
from .settings import MIB, WebSettings
from .uploads import UploadRejected

MAX_JSON_BYTES = 8 * MIB  # one classify request: max_clauses clauses at max_clause_chars each fit easily
_SMALL_FORM_BYTES = 1 * MIB  # the clause form, forget buttons


def route_limit(endpoint: str | None, settings: WebSettings) -> int:
    if endpoint == "api.scan":
        return settings.max_upload_bytes + MIB  # one file plus the multipart framing
    if endpoint == "pages.scan":
        return settings.max_request_bytes
    if endpoint == "api.classify":
        return MAX_JSON_BYTES
    return _SMALL_FORM_BYTES


class BodyBudget:
    """At most `max_uploads` bodies at once, their sizes adding up to at most `max_bytes`."""

    def __init__(self, max_uploads: int, max_bytes: int):
        self.max_uploads = max_uploads
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._count = 0
        self._bytes = 0

    def reserve(self, size: int) -> bool:
        with self._lock:
            if self._count >= self.max_uploads or self._bytes + size > self.max_bytes:
                return False
            self._count += 1
            self._bytes += size
            return True

    def release(self, size: int) -> None:
        with self._lock:
            self._count -= 1
            self._bytes -= size

    @property
    def in_use(self) -> tuple[int, int]:
        with self._lock:
            return self._count, self._bytes


def admit_body(budget: BodyBudget, settings: WebSettings) -> None:
    """Call from before_request, after the access checks; aborts with 413, or raises Busy (503)."""
    limit = route_limit(request.endpoint, settings)
    request.max_content_length = limit
    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not length and not chunked:
        return
    size = length or limit  # a chunked body may grow to the route's limit
    if size > limit and request.endpoint in ("api.scan", "pages.scan"):
        abort(413)  # the app's 413 message names the limits per file
    if size > min(limit, budget.max_bytes):
        raise UploadRejected(413, f"the request is larger than the {min(limit, budget.max_bytes) // MIB} MiB accepted here")
    if not budget.reserve(size):
        raise Busy(503, "the server is receiving too many uploads at once; try again in a moment")
    g.body_reserved = size


def release_body(budget: BodyBudget) -> None:
    size = g.pop("body_reserved", None)
    if size is not None:
        budget.release(size)
