"""Limits and options of the web server, in one place so the CLI, the app and the tests agree."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MIB = 1024 * 1024
TOKEN_ENV = "CONTRACT_AUDIT_TOKEN"
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class WebSettings:
    token: str | None = None              # when set, every request must carry it
    max_upload_bytes: int = 20 * MIB      # per file
    max_files: int = 10                   # per form submission
    max_pages: int = 400                  # per document
    max_unpacked_bytes: int = 80 * MIB    # a DOCX's ZIP members, added up
    max_zip_members: int = 2000
    max_clauses: int = 200                # per classify request
    max_clause_chars: int = 20_000        # per clause
    keep_results: int = 40                # results (and their uploads, for the redline) kept in memory
    keep_seconds: int = 3600
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")
    # Audits (scans and clause checks)
    workers: int = 2                      # worker processes; a stuck audit occupies one of them at most
    scan_timeout: float = 120.0           # seconds one audit may run before its worker is killed
    worker_memory_mb: int = 2048          # address space an audit may add to a loaded worker
    max_queue: int = 32                   # audits waiting for a free worker before the server answers 429
    # Request bodies
    max_uploads: int = 48                 # requests whose bodies are being received or held at once
    upload_budget_bytes: int = 256 * MIB  # their declared sizes, added up
    spool_bytes: int = 1 * MIB            # an uploaded file larger than this waits in an unnamed temporary file
    # Connections
    max_connections: int = 200            # open at once (lowered to fit the open-file limit)
    header_timeout: float = 10.0          # seconds from connecting to the end of the request headers
    body_timeout: float = 120.0           # seconds from the end of the headers to the end of the body

    @property
    def max_request_bytes(self) -> int:
        # Room for every file at its limit plus the multipart framing and the small form fields.
        return self.max_files * self.max_upload_bytes + MIB


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
