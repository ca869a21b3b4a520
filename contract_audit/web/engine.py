"""One shared Auditor behind a lock: pdfium and the spaCy pipeline are not safe to call from several threads."""
from __future__ import annotations

import logging
import threading

from ..errors import IngestError
from ..ingest import read_bytes
from ..model import Report
from .settings import WebSettings
from .uploads import UploadRejected, check_page_count, check_pdf_pages, check_upload, page_equivalent

log = logging.getLogger("contract_audit.web")


class Busy(Exception):
    """Too many scans are already waiting; the client should try again shortly."""


class Engine:
    def __init__(self, auditor, settings: WebSettings):
        self.auditor = auditor
        self.settings = settings
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.max_pending)

    def scan(self, data: bytes, name: str) -> Report:
        """Audit one uploaded file, or raise UploadRejected with a clear message (never anything else for bad input)."""
        fmt = check_upload(data, name, self.settings)
        if not self._slots.acquire(blocking=False):
            raise Busy()
        try:
            with self._lock:
                return self._scan_locked(data, name, fmt)
        finally:
            self._slots.release()

    def _scan_locked(self, data: bytes, name: str, fmt: str) -> Report:
        try:
            if fmt == "pdf":
                check_pdf_pages(data, name, self.settings.max_pages)
            document = read_bytes(data, name)
        except UploadRejected:
            raise
        except IngestError as exc:
            raise UploadRejected(422, str(exc)) from None
        except Exception as exc:
            # A malformed file can trip a parser in ways no reader anticipates; refuse it and keep serving.
            log.exception("reading %s failed", name)
            raise UploadRejected(422, f"{name}: the file could not be read ({type(exc).__name__}); is it damaged?") from None
        check_page_count(page_equivalent(document), name, self.settings.max_pages)
        return self.auditor.audit_document(document)

    def classify(self, texts: list[str], ids: list[str] | None = None):
        if not self._slots.acquire(blocking=False):
            raise Busy()
        try:
            with self._lock:
                return self.auditor.classify(texts, ids)
        finally:
            self._slots.release()

    def active_rules(self):
        return self.auditor.ruleset.active()
