"""Runs the app on Werkzeug's threaded WSGI server, guarded against slow and greedy clients, with the audits in a
pool of worker processes.

- connections.py caps open connections and drops those that are too slow with their headers or body;
- bodies.py admits request bodies within a budget and spools large file parts out of memory;
- workers.py runs each audit in a worker process with a time and a memory limit.
"""
from __future__ import annotations

import errno
import logging
import signal
import sys
import time
from urllib.parse import quote

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..errors import AuditError
from .connections import BoundedDrain, ConnectionGuard, TrackedInput
from .settings import MIN_TOKEN_LENGTH, TOKEN_ENV, WebSettings, is_loopback

log = logging.getLogger("contract_audit.web")
RESERVED_FILES = 64  # descriptors kept free of client connections: workers, spooled uploads, the log


class _Handler(WSGIRequestHandler):
    server: "GuardedServer"

    def setup(self) -> None:
        # A backstop for reads and writes; the guard's deadlines are the real limits while a request comes in.
        self.timeout = self.server.idle_timeout
        super().setup()

    def version_string(self) -> str:
        return "contract-audit"

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            length = self.headers.get("Content-Length", "").strip()
            has_body = (length.isdigit() and int(length) > 0) or "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            self.server.guard.headers_done(self.connection, has_body)
        return parsed

    def make_environ(self):
        environ = super().make_environ()
        length = environ.get("CONTENT_LENGTH", "")
        environ["wsgi.input"] = TrackedInput(
            environ["wsgi.input"], int(length) if length.isdigit() and "wsgi.input_terminated" not in environ else None,
            lambda: self.server.guard.body_done(self.connection),
        )
        self.rfile = BoundedDrain(self.rfile)
        return environ

    def log_request(self, code="-", size="-"):
        # One short line per request, without the query string (it may hold the access token).
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command, path, code)


class GuardedServer(ThreadedWSGIServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, app, guard: ConnectionGuard, idle_timeout: float):
        self.guard = guard
        self.idle_timeout = idle_timeout
        super().__init__(host, port, app, handler=_Handler)

    def get_request(self):
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                # Out of descriptors: free one, and do not spin on the listening socket meanwhile.
                self.guard.make_room()
                time.sleep(0.05)
            raise

    def verify_request(self, request, client_address) -> bool:
        if self.guard.admit(request):
            return True
        self.guard.refuse(request)
        return False

    def shutdown_request(self, request) -> None:
        self.guard.forget(request)
        super().shutdown_request(request)


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


def connection_cap(wanted: int) -> int:
    """`wanted`, lowered so that client connections can never use up the process's file descriptors (whose soft
    limit is first raised as far as the hard limit allows)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - RESERVED_FILES))


def serve(host: str, port: int, settings: WebSettings, rules_dirs=(), policy: str | None = None, echo=print) -> None:
    """Start the workers, then serve until interrupted. Raises AuditError for a refused binding, a port in use,
    or rules the workers cannot load."""
    from ..rules import load_policy, load_rules
    from .app import create_app
    from .engine import PoolEngine
    from .workers import WorkerPool, WorkerSetup

    check_binding(host, settings.token)
    if host not in settings.allowed_hosts and host not in ("0.0.0.0", "::"):
        settings = _with_host(settings, host)
    ruleset = load_rules(rules_dirs, policy=load_policy(policy) if policy else None, trust_shipped=True)
    pool = WorkerPool(WorkerSetup(tuple(str(d) for d in rules_dirs), policy, settings.worker_memory_mb, settings.max_pages),
                      settings.workers, settings.scan_timeout, settings.max_queue)
    guard = ConnectionGuard(connection_cap(settings.max_connections), settings.header_timeout, settings.body_timeout)
    try:
        server = GuardedServer(host, port, None, guard, idle_timeout=max(settings.header_timeout, settings.body_timeout))
    except (OSError, SystemExit):  # Werkzeug prints the reason and exits when it cannot bind
        raise AuditError(f"cannot listen on {host}:{port}") from None
    try:
        pool.start()
        server.app = create_app(settings, engine=PoolEngine(pool, ruleset, settings))
        _stop_on_sigterm()
        logging.getLogger("werkzeug").setLevel(logging.INFO)
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        guard.start()
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{server.server_port}/"
        if settings.token:
            url += f"?token={quote(settings.token)}"
        echo(f"contract-audit web page: {url}")
        echo("Press Ctrl+C to stop.")
        server.serve_forever()
    finally:
        guard.stop()
        server.server_close()
        pool.close()


def _stop_on_sigterm() -> None:
    """SIGTERM stops the server as Ctrl+C does, so the workers are stopped too."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass


def _with_host(settings: WebSettings, host: str) -> WebSettings:
    from dataclasses import replace

    return replace(settings, allowed_hosts=settings.allowed_hosts + (host.lower(),))
