"""A pool of worker processes with a per-file time limit: a worker stuck on a file is killed and replaced.

The standard pools cannot do this (a hung task cannot be cancelled, and killing one of their processes
breaks the pool), so each worker is a plain child process (worker.py) with its own socket. The supervisor
sends each worker a small chunk of tasks ahead of time, so that it never waits for work, and learns from
the worker's "start" messages when each file began. Every task ends as exactly one Outcome: the worker's
own, or "timed out" / "crashed" when the worker had to be killed or died; the rest of that worker's chunk
goes back to the queue.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Iterator

from ..errors import AuditError
from ..limits import kill_worker, signal_name
from .records import Outcome, Task, failed
from .worker import WorkerConfig

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_MAX_START_FAILURES = 3


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_chunk_size(tasks: int, jobs: int) -> int:
    return max(1, min(8, tasks // (jobs * 8)))


@dataclass
class WorkerProcess:
    """One worker child and what it has been sent but not finished."""

    process: subprocess.Popen
    conn: Connection
    ready: bool = False
    pending: deque = field(default_factory=deque)  # tasks sent, in order; the first is the current one
    started: float | None = None  # when the current file began, per the worker's "start" message
    exiting: bool = False  # asked to exit by itself

    @classmethod
    def spawn(cls, config: WorkerConfig, log=None) -> "WorkerProcess":
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "contract_audit.batch.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log if log is not None else None, env=env, start_new_session=True,
            )
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        conn.send(config)
        return cls(process, conn)

    def kill(self) -> None:
        kill_worker(self.process, self.conn)

    def request_exit(self) -> None:
        """Ask an idle worker to exit by itself; one still busy or loading (the batch was interrupted) is not asked."""
        if self.ready and not self.pending:
            try:
                self.conn.send(None)
                self.exiting = True
            except OSError:
                pass

    def stop(self) -> None:
        """Give a worker asked to exit a moment to do so, then make sure it is gone."""
        if self.exiting:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class LocalPool:
    """`run(tasks)` yields one Outcome per task, in completion order. Workers persist across runs until close()."""

    def __init__(self, jobs: int, config: WorkerConfig, timeout: float, chunk_size: int | None = None,
                 log_path: Path | None = None):
        self.jobs = max(1, jobs)
        self.config = config
        self.timeout = timeout
        self.chunk_size = chunk_size
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.workers: list[WorkerProcess] = []
        self._start_failures = 0

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers now (they load the rules while the caller prepares the tasks)."""
        while len(self.workers) < self.jobs:
            self.workers.append(WorkerProcess.spawn(self.config, self._log))

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        queue = deque(tasks)
        chunk_size = self.chunk_size or default_chunk_size(len(tasks), self.jobs)
        left = len(tasks)
        self.start()
        while left:
            self._dispatch(queue, chunk_size)
            now = time.monotonic()
            deadlines = [w.started + self.timeout for w in self.workers if w.started is not None]
            wait_for = max(0.0, min(deadlines, default=now + 1.0) - now)
            ready = wait([w.conn for w in self.workers], timeout=min(wait_for, 1.0)) if self.workers else []
            for worker in [w for w in self.workers if w.conn in ready]:
                for outcome in self._receive(worker, queue):
                    left -= 1
                    yield outcome
            now = time.monotonic()
            for worker in list(self.workers):
                if worker.started is not None and now - worker.started >= self.timeout:
                    left -= 1
                    yield self._replace(worker, queue, f"timed out after {self.timeout:g} s (per-file limit); the reader was stopped")

    def _dispatch(self, queue: deque, chunk_size: int) -> None:
        while queue and len(self.workers) < self.jobs:  # replace killed workers only while there is work
            self.workers.append(WorkerProcess.spawn(self.config, self._log))
        for worker in self.workers:
            if worker.ready and len(worker.pending) <= 1 and queue:
                # Smaller chunks at the end, so that no worker holds a long queue while another is idle.
                size = min(chunk_size, max(1, -(-len(queue) // (2 * self.jobs))))
                chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                worker.pending.extend(chunk)
                worker.conn.send(chunk)

    def _receive(self, worker: WorkerProcess, queue: deque) -> list[Outcome]:
        outcomes = []
        while True:
            try:
                if not worker.conn.poll():
                    return outcomes
                message = worker.conn.recv()
            except (EOFError, OSError):
                lost = self._replace(worker, queue, None)
                return outcomes + ([lost] if lost else [])
            kind = message[0]
            if kind == "ready":
                worker.ready = True
                self._start_failures = 0
            elif kind == "start":
                worker.started = time.monotonic()
            elif kind == "done":
                outcome: Outcome = message[1]
                task = worker.pending.popleft()
                assert task.sha256 == outcome.sha256, "worker answered out of order"
                worker.started = None
                outcomes.append(outcome)
            elif kind == "fatal":
                self.close()
                raise AuditError(message[1])

    def _replace(self, worker: WorkerProcess, queue: deque, reason: str | None) -> Outcome | None:
        """Kill `worker`, fail its current file (with `reason`, or as a crash) and requeue the rest; a new worker
        is started by _dispatch if work remains."""
        was_ready = worker.ready
        worker.kill()
        outcome = None
        if worker.started is not None and worker.pending:
            current = worker.pending.popleft()
            elapsed = time.monotonic() - worker.started
            outcome = failed(current, reason or _crash_reason(worker.process.returncode), elapsed)
        queue.extendleft(reversed(worker.pending))
        if not was_ready:
            self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES:
                self.close()
                raise AuditError("the batch workers could not start (see workers.log in the output folder)")
        self.workers.remove(worker)
        return outcome

    def close(self) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:  # all at once: the workers wind down side by side
            worker.request_exit()
        for worker in workers:
            worker.stop()
        if self._log is not subprocess.DEVNULL and not self._log.closed:
            self._log.close()


def _crash_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        return f"the reader crashed on this file (worker killed by {signal_name(-returncode)}; out of memory?)"
    return f"the reader crashed on this file (worker exited with code {returncode})"
