"""Where the web page's audits run.

`serve` uses a PoolEngine: every scan and clause check runs in a worker process with a time and a memory limit
(workers.py), so a slow or hostile document occupies one worker, never the server. An app built around an
Auditor object (the tests, library use) gets an InProcessEngine: that Auditor behind a lock, because pdfium and
the spaCy pipeline are not safe to call from several threads.
"""
from __future__ import annotations

import contextlib
import logging
import threading

from ..errors import IngestError
from ..ingest import read_bytes
from ..model import Report
from .settings import WebSettings
from .uploads import UploadRejected, check_page_count, check_pdf_pages, check_upload, page_equivalent

log = logging.getLogger("contract_audit.web")


class Busy(Exception):
    """Too many audits are already running or waiting; the client should try again shortly."""

    def __init__(self, status: int, message: str, retry_after: int = 5):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def queue_full() -> Busy:
    return Busy(429, "the server is busy with other scans; try again in a moment")


def audit_upload(auditor, data: bytes, name: str, fmt: str, max_pages: int, buyer: str | None = None,
                 vendor: str | None = None) -> Report:
    """Read and audit one checked upload, or raise UploadRejected with a clear message (never anything else for
    bad input). Runs where the Auditor lives: in a worker process, or in-process under the engine's lock."""
    try:
        if fmt == "pdf":
            check_pdf_pages(data, name, max_pages)
        document = read_bytes(data, name)
    except UploadRejected:
        raise
    except IngestError as exc:
        raise UploadRejected(422, str(exc)) from None
    except MemoryError:
        raise
    except Exception as exc:
        # A malformed file can trip a parser in ways no reader anticipates; refuse it and keep serving.
        log.exception("reading %s failed", name)
        raise UploadRejected(422, f"{name}: the file could not be read ({type(exc).__name__}); is it damaged?") from None
    check_page_count(page_equivalent(document), name, max_pages)
    return auditor.audit_document(document, buyer, vendor)


class InProcessEngine:
    def __init__(self, auditor, settings: WebSettings):
        self.auditor = auditor
        self.settings = settings
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(1 + settings.max_queue)

    def scan(self, data: bytes, name: str, buyer: str | None = None, vendor: str | None = None) -> Report:
        fmt = check_upload(data, name, self.settings)
        with self._slot():
            return audit_upload(self.auditor, data, name, fmt, self.settings.max_pages, buyer, vendor)

    def classify(self, texts: list[str], ids: list[str] | None = None):
        with self._slot():
            return self.auditor.classify(texts, ids)

    def export(self, key: str, report: Report, original: bytes):
        from .exports import render_download

        return render_download(key, report, original)

    def active_rules(self):
        return self.auditor.ruleset.active()

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def _slot(self):
        if not self._slots.acquire(blocking=False):
            raise queue_full()
        try:
            with self._lock:
                yield
        finally:
            self._slots.release()


class PoolEngine:
    """Audits in worker processes (see workers.py); the rules are loaded here too, for the rule pages."""

    def __init__(self, pool, ruleset, settings: WebSettings):
        self.pool = pool
        self.ruleset = ruleset
        self.settings = settings

    def scan(self, data: bytes, name: str, buyer: str | None = None, vendor: str | None = None) -> Report:
        from .workers import ScanJob

        fmt = check_upload(data, name, self.settings)
        return self.pool.run(ScanJob(data, name, fmt, buyer, vendor))

    def classify(self, texts: list[str], ids: list[str] | None = None):
        from .workers import ClassifyJob

        return self.pool.run(ClassifyJob(list(texts), None if ids is None else list(ids)))

    def export(self, key: str, report: Report, original: bytes):
        """A download built in a worker too: the redline reads the uploaded file again."""
        from .workers import ExportJob

        return self.pool.run(ExportJob(key, report, original))

    def active_rules(self):
        return self.ruleset.active()

    def close(self) -> None:
        self.pool.close()
