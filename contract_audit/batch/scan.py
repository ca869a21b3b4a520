"""`run_batch`: audit every contract under folders and ZIP archives into a results store, then export it.

The driver (this process) finds and hashes the inputs, records every file in the store, sends each distinct
content not already finished to the workers (a local process pool or a Dask cluster), commits each result
as it arrives, then groups near duplicates and writes the exports.
"""
from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AuditError
from ..limits import DEFAULT_BUDGETS
from .export import ReportPages, remove_report_pages, write_exports
from .lock import FolderLock
from .progress import Progress, format_seconds
from .records import Item, Task
from .similarity import near_duplicate_groups
from .sources import Found, Limits, Reader, SourceError, content_hash, discover
from .store import STORE_NAME, Store
from .worker import WorkerConfig

FORMATS = ("csv", "jsonl", "html")
WORKER_LOG = "workers.log"


@dataclass
class BatchOptions:
    out: Path
    jobs: int | None = None  # local worker processes; default: one per core
    resume: bool = False
    formats: tuple[str, ...] = FORMATS
    timeout: float = DEFAULT_BUDGETS.seconds  # seconds one file may take before its worker is killed
    memory_mb: int = DEFAULT_BUDGETS.memory_mb  # memory one file may take on top of a loaded worker
    chunk_size: int | None = None
    rules_dirs: tuple[str, ...] = ()
    policy: str | None = None
    buyer: str | None = None  # the parties as the user names them, for every contract
    vendor: str | None = None
    scheduler: str | None = None  # Dask scheduler address, e.g. tcp://host:8786
    dask_local: int | None = None  # start a local Dask cluster with this many workers
    limits: Limits = field(default_factory=Limits)
    progress: bool = True


@dataclass
class BatchSummary:
    out: Path
    files: int  # input files, each one record
    ok: int
    failed: int
    audited: int  # distinct contents audited by this run
    resumed: int  # distinct contents already in the store from an earlier run
    duplicates: int  # files identical to another file
    skipped: int  # files of other types (images, spreadsheets) left out
    pages: int
    seconds: float
    outputs: list[Path]


def run_batch(paths, options: BatchOptions, stream=None) -> BatchSummary:
    started = time.monotonic()
    stream = stream or sys.stderr
    out = Path(options.out)
    if out.exists() and not out.is_dir():
        raise AuditError(f"{out}: --out must be a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    lock = FolderLock(out)
    lock.acquire()  # before the store is opened: a second batch must not touch it
    store = pool = None
    try:
        store = Store(out / STORE_NAME)
        _check_store(store, options, out)
        found = discover(paths, options.limits)
        pool = _pool(options, out)
        pool.start()  # the workers load the rules while the inputs are hashed
        progress = Progress(0, stream, options.progress)
        progress.note(f"found {len(found.items) + len(found.rejected)} files"
                      + (f" ({found.skipped} of other types left out)" if found.skipped else "") + "; hashing")
        holders = _record_inputs(store, found, options.limits)
        rehomed = store.rehome({sha256: [item.path for item in items] for sha256, items in holders.items()})
        remove_report_pages(out, rehomed)  # they name the file audited; written again below or at export
        finished = store.finished()
        tasks = [Task(sha256, min(items, key=lambda i: i.path)) for sha256, items in holders.items() if sha256 not in finished]
        tasks.sort(key=lambda t: (-t.item.size, t.item.path))  # largest first: the last chunks stay short
        resumed = len(holders) - len(tasks)
        audited = len(tasks)
        if resumed:
            progress.note(f"resuming: {resumed} distinct files already done, {len(tasks)} to go")
        progress = Progress(len(tasks), stream, options.progress)
        # Each report page is written as its result arrives, while the workers are busy, not all at the end.
        pages = ReportPages(out) if "html" in options.formats else None
        failed_files: set[str] = set()
        while tasks:
            retries = []
            for outcome in pool.run(tasks):
                if outcome.file_failure:
                    store.fail_file(outcome.path, outcome.error)
                    failed_files.add(outcome.path)
                    others = [item for item in holders[outcome.sha256] if item.path not in failed_files]
                    if others:  # the content is still to be audited, from another file that holds it
                        retries.append(Task(outcome.sha256, min(others, key=lambda i: i.path)))
                        progress.total += 1
                else:
                    store.save(outcome)
                if pages is not None and outcome.status == "ok":
                    pages.write(outcome.sha256, outcome.report_json)
                progress.update(failed=outcome.status == "failed")
            tasks = retries
        progress.finish()
        pool.close()
        store.set_near_groups(near_duplicate_groups(store.signatures()))
        outputs = write_exports(store, out, options.formats)
        rows = store.documents()
        summary = BatchSummary(
            out=out, files=len(rows), ok=sum(r["status"] == "ok" for r in rows),
            failed=sum(r["status"] == "failed" for r in rows), audited=audited, resumed=resumed,
            duplicates=sum(bool(r["duplicate_of"]) for r in rows), skipped=found.skipped,
            pages=sum(r["pages"] or 0 for r in rows if r["status"] == "ok"),
            seconds=time.monotonic() - started, outputs=[out / STORE_NAME] + outputs,
        )
        progress.note(f"done in {format_seconds(summary.seconds)}: {summary.files} files, {summary.ok} ok, "
                      f"{summary.failed} failed")
        return summary
    finally:
        if pool is not None:
            pool.close()
        if store is not None:
            store.close()
        lock.release()


def _check_store(store: Store, options: BatchOptions, out: Path) -> None:
    settings = settings_fingerprint(options)
    if not store.is_empty():
        if not options.resume:
            raise AuditError(f"{out} already holds a batch ({STORE_NAME}); pass --resume to finish it, or choose another --out")
        if store.meta("settings") not in (None, settings):
            raise AuditError(f"{out} was scanned with other rules, policy, parties or contract-audit version; "
                             "resuming would mix results: choose another --out")
    store.set_meta("settings", settings)


def settings_fingerprint(options: BatchOptions) -> str:
    """What decides the findings: the version, the rule files, the policy and the model (and how near
    duplicates are recognised)."""
    from .. import __version__
    from ..classifier import MODEL_NAME, shipped_model_dir
    from ..rules import rule_files, shipped_rules_dir
    from .similarity import SCHEME

    digest = hashlib.sha256(f"{__version__} signature scheme {SCHEME}".encode())
    if options.buyer or options.vendor:
        digest.update(f"buyer {options.buyer or ''!r} vendor {options.vendor or ''!r}".encode())
    files = rule_files(shipped_rules_dir())
    for directory in options.rules_dirs:
        files += rule_files(Path(directory))
    files += sorted(shipped_model_dir().glob(f"{MODEL_NAME}.*"))
    if options.policy:
        files.append(Path(options.policy))
    for file in files:
        digest.update(file.name.encode())
        try:
            digest.update(file.read_bytes())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def _record_inputs(store: Store, found: Found, limits: Limits) -> dict[str, list[Item]]:
    """Hash every input and record it in the store; returns the files holding each distinct content."""
    rows = [(r.path, r.size, None, r.reason) for r in found.rejected]
    holders: dict[str, list[Item]] = {}
    reader = Reader(limits)
    try:
        for item in found.items:
            try:
                data = reader.read(item)
            except SourceError as exc:
                rows.append((item.path, item.size, None, str(exc)))
                continue
            sha256 = content_hash(data)
            rows.append((item.path, len(data), sha256, None))
            holders.setdefault(sha256, []).append(item)
    finally:
        reader.close()
    store.record_files(rows)
    return holders


def _pool(options: BatchOptions, out: Path):
    config = WorkerConfig(rules_dirs=tuple(str(Path(d).resolve()) for d in options.rules_dirs),
                          policy=str(Path(options.policy).resolve()) if options.policy else None,
                          memory_mb=options.memory_mb, limits=options.limits, buyer=options.buyer, vendor=options.vendor)
    if options.scheduler or options.dask_local:
        from .distributed import DaskPool

        return DaskPool(config, options.timeout, options.chunk_size, scheduler=options.scheduler,
                        local_workers=options.dask_local)
    from .runner import LocalPool, default_jobs

    return LocalPool(options.jobs or default_jobs(), config, options.timeout, options.chunk_size,
                     log_path=out / WORKER_LOG)
