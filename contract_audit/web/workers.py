"""Worker processes for the web server's audits, each with a time limit and a memory limit.

A worker runs as `python -m contract_audit.web.workers FD`: it receives its WorkerSetup over the socket FD,
loads the Auditor once (rules, model), caps its own address space, answers ("ready", pid), then audits one job
at a time and sends back a Reply. The parent (WorkerPool) gives each job to an idle worker and waits at most
the time limit; a worker that overruns is killed and a fresh one is started in the background. A regular
expression that backtracks for minutes holds its worker's interpreter, never the server's.
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from ..errors import AuditError
from ..limits import die_with_parent, kill_worker, limit_address_space
from .engine import Busy, queue_full
from .uploads import UploadRejected

log = logging.getLogger("contract_audit.web")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class WorkerSetup:
    rules_dirs: tuple[str, ...] = ()
    policy: str | None = None
    memory_mb: int = 2048  # address space one audit may add to the loaded worker
    max_pages: int = 400


@dataclass(frozen=True)
class ScanJob:
    data: bytes
    name: str
    fmt: str  # as judged by uploads.check_upload
    buyer: str | None = None  # the parties as the user names them
    vendor: str | None = None

    @property
    def what(self) -> str:  # starts the messages about this job
        return f"{self.name}: the audit"


@dataclass(frozen=True)
class ClassifyJob:
    texts: list[str]
    ids: list[str] | None
    what = "checking the clauses"


@dataclass(frozen=True)
class ExportJob:
    key: str  # an exports.EXPORTS key
    report: object
    original: bytes

    @property
    def what(self) -> str:
        return f"{self.report.document.path}: building {self.key}"


@dataclass(frozen=True)
class Reply:
    kind: str  # "ok"; "rejected" (bad input: status, message); "unavailable" (an export's module is missing);
    #            "error" (a bug, logged by the worker)
    value: object = None
    status: int = 0
    message: str = ""
    exiting: bool = False  # the worker stops after this reply (its memory ran out) and must be replaced


class WorkerError(RuntimeError):
    """An unexpected error in a worker (logged there); the app answers 500 and keeps serving."""


# --- the worker process -------------------------------------------------------------------------------------

def answer(auditor, job, setup: WorkerSetup) -> Reply:
    from .engine import audit_upload
    from .exports import ExportUnavailable, render_download

    try:
        if isinstance(job, ScanJob):
            return Reply("ok", audit_upload(auditor, job.data, job.name, job.fmt, setup.max_pages,
                                             job.buyer, job.vendor))
        if isinstance(job, ExportJob):
            return Reply("ok", render_download(job.key, job.report, job.original))
        return Reply("ok", auditor.classify(job.texts, job.ids))
    except UploadRejected as exc:
        return Reply("rejected", status=exc.status, message=exc.message)
    except ExportUnavailable as exc:
        return Reply("unavailable", message=str(exc))
    except AuditError as exc:  # an export that cannot be built from this file
        return Reply("rejected", status=422, message=str(exc))
    except MemoryError:
        return Reply("rejected", status=422, exiting=True,
                     message=f"{job.what} needed more than the {setup.memory_mb} MiB memory limit and was stopped")
    except Exception as exc:
        log.exception("audit failed in worker %s", os.getpid())
        return Reply("error", message=f"{type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> int:
    import signal

    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops its workers
    die_with_parent()
    logging.basicConfig(level=logging.INFO, format="worker %(process)d: %(message)s", stream=sys.stderr)
    conn = Connection(int(argv[0]))
    setup: WorkerSetup = conn.recv()
    try:
        from ..api import Auditor, freeze_loaded_objects

        auditor = Auditor(rules_dirs=setup.rules_dirs, policy=setup.policy)
    except AuditError as exc:
        conn.send(("fatal", str(exc)))
        return 1
    freeze_loaded_objects()
    limit_address_space(setup.memory_mb)
    try:
        conn.send(("ready", os.getpid()))
        while True:
            job = conn.recv()
            if job is None:
                return 0
            reply = answer(auditor, job, setup)
            conn.send(reply)
            if reply.exiting:
                return 3  # the heap may be left fragmented; a fresh process takes over
    except (EOFError, OSError):  # the server has gone
        return 0


# --- the pool in the server ---------------------------------------------------------------------------------

@dataclass(eq=False)  # each worker is itself, for the pool's set
class _Worker:
    process: subprocess.Popen
    conn: Connection

    @classmethod
    def spawn(cls, setup: WorkerSetup) -> "_Worker":
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "contract_audit.web.workers", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
                start_new_session=True,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        conn.send(setup)
        return cls(process, conn)

    def wait_ready(self, seconds: float) -> None:
        """Block until the worker has loaded the auditor; AuditError if it cannot."""
        try:
            if not self.conn.poll(seconds):
                raise AuditError(f"an audit worker did not start within {seconds:g} s")
            message = self.conn.recv()
        except (EOFError, OSError):
            raise AuditError(f"an audit worker stopped while starting (exit code {self.process.poll()})") from None
        if message[0] == "fatal":
            raise AuditError(message[1])

    def kill(self) -> None:
        kill_worker(self.process, self.conn)


class WorkerPool:
    """`run(job)` audits in a free worker and returns its result, or raises: Busy (queue full, or no worker
    free in time), UploadRejected (bad input, time or memory limit, a crashed reader), WorkerError (a bug)."""

    def __init__(self, setup: WorkerSetup, workers: int, timeout: float, max_queue: int, start_seconds: float = 180):
        self.setup = setup
        self.size = max(1, workers)
        self.timeout = timeout
        self.start_seconds = start_seconds
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._slots = threading.BoundedSemaphore(self.size + max(0, max_queue))
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._wanted: queue.Queue[None] = queue.Queue()

    def start(self) -> None:
        """Start every worker and wait until all are ready; AuditError (after stopping them) if one cannot start."""
        started = [_Worker.spawn(self.setup) for _ in range(self.size)]
        with self._lock:
            self._live.update(started)
        try:
            for worker in started:
                worker.wait_ready(self.start_seconds)
        except AuditError:
            self.close()
            raise
        for worker in started:
            self._idle.put(worker)
        threading.Thread(target=self._spawner, name="audit-worker-spawner", daemon=True).start()

    def run(self, job):
        if not self._slots.acquire(blocking=False):
            raise queue_full()
        try:
            while True:
                try:
                    # No worker stays busy longer than the time limit, so a longer wait means the pool is unwell.
                    worker = self._idle.get(timeout=self.timeout + 5)
                except queue.Empty:
                    raise Busy(503, "no audit worker became free in time; try again in a moment", retry_after=30) from None
                if worker.process.poll() is None:
                    return self._run_on(worker, job)
                self._replace(worker)  # it died while idle (killed from outside); take the next
        finally:
            self._slots.release()

    def _run_on(self, worker: _Worker, job):
        what = job.what
        try:
            worker.conn.send(job)
            finished = worker.conn.poll(self.timeout)
            reply: Reply | None = worker.conn.recv() if finished else None
        except Exception as exc:  # the worker died (EOF, broken pipe) or sent something unreadable
            if not isinstance(exc, (EOFError, OSError)):
                log.error("unreadable answer from audit worker %s: %s", worker.process.pid, exc)
            code = self._replace(worker)
            raise UploadRejected(422, f"{what} stopped unexpectedly (its worker exited with code {code})") from None
        if reply is None:
            self._replace(worker)
            raise UploadRejected(422, f"{what} took longer than the {self.timeout:g} s limit and was stopped; "
                                      "a document built to slow the reader down can do this")
        if reply.exiting:
            self._replace(worker)
        else:
            self._idle.put(worker)
        if reply.kind == "rejected":
            raise UploadRejected(reply.status, reply.message)
        if reply.kind == "unavailable":
            from .exports import ExportUnavailable

            raise ExportUnavailable(reply.message)
        if reply.kind == "error":
            raise WorkerError(reply.message)
        return reply.value

    def _replace(self, worker: _Worker) -> int | None:
        """Kill `worker` and have another started in the background; returns the old one's exit code."""
        worker.kill()
        with self._lock:
            self._live.discard(worker)
        self._wanted.put(None)
        return worker.process.returncode

    def _spawner(self) -> None:
        # Replacements are started from this one long-lived thread: a worker's "die with the parent" signal is
        # tied to the thread that started it, so a short-lived thread would take its worker down as it ended.
        while True:
            self._wanted.get()
            self._start_replacement()

    def _start_replacement(self) -> None:
        delay = 1.0
        while not self._closed:
            try:
                worker = _Worker.spawn(self.setup)
            except OSError as exc:
                log.error("cannot start an audit worker: %s", exc)
            else:
                with self._lock:
                    if self._closed:
                        worker.kill()
                        return
                    self._live.add(worker)
                try:
                    worker.wait_ready(self.start_seconds)
                except AuditError as exc:
                    log.error("%s", exc)
                    worker.kill()
                    with self._lock:
                        self._live.discard(worker)
                else:
                    self._idle.put(worker)
                    return
            time.sleep(delay)
            delay = min(delay * 2, 30.0)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._live = list(self._live), set()
        for worker in workers:
            worker.kill()


if __name__ == "__main__":
    # Run the module's own copy, not this __main__ one, so that replies pickle as contract_audit.web.workers.Reply.
    from contract_audit.web.workers import main as worker_main

    sys.exit(worker_main())
