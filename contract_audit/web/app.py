"""The Flask application: an audit engine, an in-memory result store, pages and the JSON API."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass

from flask import Flask, Request, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .bodies import BodyBudget, admit_body, release_body
from .engine import Busy, InProcessEngine, PoolEngine
from .exports import ExportUnavailable
from .security import AccessDenied
from .settings import WebSettings
from .store import ResultStore
from .uploads import UploadRejected

log = logging.getLogger("contract_audit.web")


class SpoolingRequest(Request):
    """A file part is held in memory up to `spool_bytes`, then in an unnamed temporary file (unlinked from the
    start, so no other process can open it and nothing is left behind); the upload's name never becomes a path."""

    spool_bytes = 1024 * 1024

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return tempfile.SpooledTemporaryFile(max_size=self.spool_bytes)


@dataclass
class WebState:
    settings: WebSettings
    engine: InProcessEngine | PoolEngine
    store: ResultStore
    bodies: BodyBudget


def state() -> WebState:
    return current_app.extensions["contract_audit"]


def create_app(settings: WebSettings | None = None, auditor=None, engine=None) -> Flask:
    """Build the app around an audit engine (`serve` passes its worker pool), or else around one Auditor run
    in-process (built here when none is given; that takes a second or two)."""
    from .. import __version__
    from . import api, pages, security

    settings = settings or WebSettings()
    if engine is None:
        if auditor is None:
            from ..api import Auditor

            auditor = Auditor()
        engine = InProcessEngine(auditor, settings)
    app = Flask(__name__)
    app.request_class = type("Request", (SpoolingRequest,), {"spool_bytes": settings.spool_bytes})  # this app's size
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=512 * 1024,
        MAX_FORM_PARTS=settings.max_files + 20,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.extensions["contract_audit"] = WebState(
        settings=settings, engine=engine, store=ResultStore(settings.keep_results, settings.keep_seconds),
        bodies=BodyBudget(settings.max_uploads, settings.upload_budget_bytes),
    )
    app.jinja_env.globals.update(version=__version__, settings=settings)
    budget = app.extensions["contract_audit"].bodies
    security.install(app, settings, after_access=lambda: admit_body(budget, settings))
    app.teardown_request(lambda exc: release_body(budget))
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(UploadRejected)
    def _rejected(exc: UploadRejected):
        return error_response(exc.status, exc.message)

    @app.errorhandler(AccessDenied)
    def _denied(exc: AccessDenied):
        response = error_response(exc.status, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Busy)
    def _busy(exc: Busy):
        response = error_response(exc.status, exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(ExportUnavailable)
    def _unavailable(exc: ExportUnavailable):
        return error_response(501, str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        messages = {
            413: f"the upload is too large (at most {current_settings().max_upload_bytes // (1024 * 1024)} MiB per file, "
                 f"{current_settings().max_files} files at once)",
            404: "there is nothing at this address; results are kept for a limited time and then forgotten",
        }
        response = error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))
        if exc.code == 405:
            response.headers["Allow"] = ", ".join(exc.valid_methods or [])
        return response

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "an internal error occurred; the server is still running, please try again")


def current_settings() -> WebSettings:
    return state().settings


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str):
    if wants_json():
        response = jsonify({"error": message, "status": status})
    else:
        response = current_app.response_class(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response
