"""Request checks and response headers: access token, Host check, CSRF, Origin check, security headers."""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from flask import Flask, g, redirect, request

from .settings import WebSettings

TOKEN_COOKIE = "ca_token"
CSRF_COOKIE = "ca_csrf"
CSRF_FIELD = "csrf_token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

HEADERS = {
    # Everything the pages use is served by this app itself; no inline script or style.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class AccessDenied(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def install(app: Flask, settings: WebSettings, after_access=None) -> None:
    """`after_access` runs once the caller is known to be allowed in, before the body is read (the CSRF check
    reads a form): the app admits request bodies there."""
    @app.before_request
    def _check_request():
        if settings.token is None:
            _check_host(settings)
        else:
            response = _check_token(settings.token)
            if response is not None:
                return response
        if after_access is not None:
            after_access()
        if request.method in _UNSAFE:
            _check_origin()
            if not request.path.startswith("/api/"):
                _check_csrf()
        return None

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-cache"
        else:
            # Results describe confidential contracts: keep them out of shared caches and the back-forward cache.
            response.headers["Cache-Control"] = "no-store"
        if g.get("csrf_new"):
            response.set_cookie(CSRF_COOKIE, g.csrf_new, httponly=True, samesite="Strict", path="/")
        if g.get("token_cookie"):
            response.set_cookie(TOKEN_COOKIE, g.token_cookie, httponly=True, samesite="Strict", path="/")
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token


def _check_host(settings: WebSettings) -> None:
    # Without a token the server trusts loopback callers only; a Host check stops DNS-rebinding pages.
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if host.lower() not in settings.allowed_hosts:
        raise AccessDenied(421, f"this server answers only on {', '.join(settings.allowed_hosts[:2])}, not '{host}'")


def _check_token(token: str):
    supplied = None
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        supplied = auth[7:].strip()
    elif "token" in request.args:
        supplied = request.args["token"]
        if _same(supplied, token) and request.method == "GET":
            # Trade the token in the address for a cookie, so it leaves the address bar and the history.
            args = {key: value for key, value in request.args.items(multi=True) if key != "token"}
            response = redirect(request.path + ("?" + urlencode(args) if args else ""), code=303)
            g.token_cookie = token
            return response
    else:
        supplied = request.cookies.get(TOKEN_COOKIE)
    if not supplied or not _same(supplied, token):
        raise AccessDenied(401, "an access token is required: open the address printed by 'contract-audit serve' "
                                "(it ends in ?token=...), or send 'Authorization: Bearer TOKEN'")
    return None


def _check_origin() -> None:
    origin = request.headers.get("Origin")
    if origin and origin != request.host_url.rstrip("/"):
        raise AccessDenied(403, "cross-site request refused")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise AccessDenied(403, "cross-site request refused")


def _check_csrf() -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    field = request.form.get(CSRF_FIELD, "")
    if not cookie or not field or not _same(cookie, field):
        raise AccessDenied(403, "the form has expired or did not come from this page; reload the page and try again")


def csrf_token() -> str:
    """The token for this browser's forms (double-submit cookie); set as a cookie on first use."""
    token = request.cookies.get(CSRF_COOKIE) or g.get("csrf_new")
    if not token:
        token = g.csrf_new = secrets.token_urlsafe(24)
    return token


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
