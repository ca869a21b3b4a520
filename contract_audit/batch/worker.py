"""The worker process: loads the rules and model once, then audits the files it is sent, one at a time.

It runs as `python -m contract_audit.batch.worker FD` and talks to its supervisor (runner.py) over the
socket FD: it receives its WorkerConfig, answers ("ready",), then for every list of tasks sends
("start", sha256) before each file and ("done", Outcome) after it. A file that hangs is dealt with by the
supervisor, which kills this process; a file that exhausts the memory limit raises MemoryError here, is
recorded as failed, and the process exits so that a fresh one replaces it.

Test hooks (for the test suite and the benchmark only): CONTRACT_AUDIT_TEST_HANG and CONTRACT_AUDIT_TEST_HOG
name comma-separated file stems; a file with such a stem makes the worker sleep for ever (a hung parser) or
allocate memory until the limit stops it (a memory-hungry parser).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..errors import AuditError
from ..limits import DEFAULT_BUDGETS, die_with_parent, limit_address_space
from .records import Outcome, Task, failed, stored_report
from .sources import Limits, Reader, content_hash

HANG_HOOK = "CONTRACT_AUDIT_TEST_HANG"
HOG_HOOK = "CONTRACT_AUDIT_TEST_HOG"


@dataclass(frozen=True)
class WorkerConfig:
    rules_dirs: tuple[str, ...] = ()
    policy: str | None = None
    memory_mb: int = DEFAULT_BUDGETS.memory_mb  # address space a file may use on top of what the loaded worker holds
    limits: Limits = field(default_factory=Limits)
    buyer: str | None = None  # the parties as the user names them, for every contract of the batch
    vendor: str | None = None


def audit_task(auditor, task: Task, reader: Reader) -> Outcome:
    """Audit one file; every problem becomes a failed Outcome (MemoryError is left to the caller)."""
    start = time.perf_counter()
    name = task.item.path
    try:
        _test_hooks(name)
        data = reader.read(task.item)
        if content_hash(data) != task.sha256:
            return failed(task, "the file changed while the batch was running", time.perf_counter() - start,
                          file_failure=True)
        report = auditor.audit_bytes(data, name)
        return _summary(task, report, time.perf_counter() - start)
    except AuditError as exc:
        return failed(task, strip_name(str(exc), name), time.perf_counter() - start)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a reader bug on one odd file must not stop the batch
        return failed(task, f"unexpected error in the reader: {type(exc).__name__}: {exc}", time.perf_counter() - start)


def strip_name(message: str, name: str) -> str:
    """Ingest errors start with the file name; the record already carries the path."""
    prefix = f"{name}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _summary(task: Task, report, seconds: float) -> Outcome:
    from ..report.json import report_to_dict
    from .similarity import signature

    document = report.document
    return Outcome(
        sha256=task.sha256, path=task.item.path, status="ok",
        format=document.format, pages=document.pages, clause_count=len(report.clauses),
        risk=report.risk_score, grade=report.grade,
        family_risks={family: summary.risks for family, summary in report.families.items()},
        missing=sorted({f.family for f in report.findings if f.kind == "missing"}),
        vendor=report.parties.vendor or None,
        report_json=stored_report(report_to_dict(report)),
        signature=signature(document.text),
        seconds=seconds,
    )


def _test_hooks(name: str) -> None:
    stem = PurePosixPath(name.replace("\\", "/")).stem
    if stem in _stems(HANG_HOOK):
        while True:
            time.sleep(3600)
    if stem in _stems(HOG_HOOK):
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))


def _stems(variable: str) -> set[str]:
    return {s.strip() for s in os.environ.get(variable, "").split(",") if s.strip()}


def main(argv: list[str] | None = None) -> int:
    import signal
    from multiprocessing.connection import Connection

    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the supervisor, which stops us in order
    die_with_parent()
    conn = Connection(int(argv[0]))
    config: WorkerConfig = conn.recv()
    try:
        from ..api import Auditor, freeze_loaded_objects

        auditor = Auditor(rules_dirs=config.rules_dirs, policy=config.policy, buyer=config.buyer, vendor=config.vendor)
    except AuditError as exc:
        conn.send(("fatal", str(exc)))
        return 1
    freeze_loaded_objects()
    limit_address_space(config.memory_mb)  # not enforceable everywhere (macOS): the time limit still applies
    reader = Reader(config.limits)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            tasks = conn.recv()
        except (EOFError, OSError):
            return 0
        if tasks is None:
            return 0
        for task in tasks:
            conn.send(("start", task.sha256))
            try:
                outcome = audit_task(auditor, task, reader)
            except MemoryError:
                reader.close()
                conn.send(("done", failed(task, f"out of memory (per-file limit {config.memory_mb} MiB)")))
                return 3  # a fresh process replaces this one: the heap may be left fragmented
            conn.send(("done", outcome))


if __name__ == "__main__":
    sys.exit(main())
