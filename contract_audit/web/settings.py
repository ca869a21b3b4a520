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
    max_pending: int = 32                 # scans waiting for the auditor before the server answers 503
    keep_results: int = 40                # results (and their uploads, for the redline) kept in memory
    keep_seconds: int = 3600
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")

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
