"""Runs the app on a threaded WSGI server. Requests are parsed in memory; scans are serialised by the engine."""
from __future__ import annotations

import logging
import sys
from urllib.parse import quote

from werkzeug.serving import WSGIRequestHandler, make_server

from ..errors import AuditError
from .settings import MIN_TOKEN_LENGTH, TOKEN_ENV, WebSettings, is_loopback


class _Handler(WSGIRequestHandler):
    timeout = 120  # seconds a connection may sit idle mid-request before it is dropped

    def version_string(self) -> str:
        return "contract-audit"

    def log_request(self, code="-", size="-"):
        # One short line per request, without the query string (it may hold the access token).
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command, path, code)


def check_binding(host: str, token: str | None) -> None:
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise AuditError(f"the access token must be at least {MIN_TOKEN_LENGTH} characters long")
    if token is not None and token != token.strip():
        # a request's Authorization header loses such spaces, so the token could never be matched
        raise AuditError("the access token must not start or end with spaces")
    if not is_loopback(host) and token is None:
        raise AuditError(
            f"binding to {host} makes the page reachable from other machines: give an access token with --token "
            f"or the {TOKEN_ENV} environment variable (for example: python -c \"import secrets; print(secrets.token_urlsafe(24))\")"
        )


def serve(host: str, port: int, settings: WebSettings, auditor=None, echo=print) -> None:
    """Start serving until interrupted. Raises AuditError for a refused binding or a port in use."""
    from .app import create_app

    check_binding(host, settings.token)
    if host not in settings.allowed_hosts and host not in ("0.0.0.0", "::"):
        settings = _with_host(settings, host)
    app = create_app(settings, auditor)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=_Handler)
    except OSError as exc:
        raise AuditError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    server.daemon_threads = True
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{server.server_port}/"
    if settings.token:
        url += f"?token={quote(settings.token)}"
    echo(f"contract-audit web page: {url}")
    echo("Press Ctrl+C to stop.")
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _with_host(settings: WebSettings, host: str) -> WebSettings:
    from dataclasses import replace

    return replace(settings, allowed_hosts=settings.allowed_hosts + (host.lower(),))
