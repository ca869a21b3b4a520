"""The results store: one SQLite file (WAL mode) in the output folder, written only by the batch's driver.

Each finished content is committed in its own transaction as soon as it arrives, so an interrupted batch
keeps everything it finished and `--resume` only audits the rest. The schema is documented in docs/batch.md
("Results store schema"); change it only by adding columns, tables or views.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from ..errors import AuditError
from ..ingest import is_markdown_name
from .records import Outcome, stored_report

SCHEMA_VERSION = 1
STORE_NAME = "results.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per input file: a file in a folder, or a member of a ZIP archive ("a.zip!dir/b.pdf").
CREATE TABLE IF NOT EXISTS files (
    path   TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    sha256 TEXT,              -- NULL when the file could not be read at all (see error)
    error  TEXT               -- zip-slip name, zip bomb, too large, unreadable; NULL otherwise
);
CREATE INDEX IF NOT EXISTS files_by_sha256 ON files (sha256);
-- One row per distinct content (identical files are audited once).
CREATE TABLE IF NOT EXISTS results (
    sha256       TEXT PRIMARY KEY,
    path         TEXT NOT NULL,    -- the file that was audited for this content
    status       TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error        TEXT,             -- why it failed: corrupt, encrypted, timed out, out of memory, ...
    format       TEXT,             -- pdf | docx | text | markdown
    pages        INTEGER,
    clause_count INTEGER,
    risk         INTEGER,          -- 0-100
    grade        TEXT,             -- A-F
    family_risks TEXT,             -- JSON object: family -> number of risky clauses
    missing      TEXT,             -- JSON array: families with no protective clause anywhere
    vendor       TEXT,             -- first supplier name the contract defines, if any
    near_group   TEXT,             -- near-duplicate group: path of its first member; NULL if none
    report       TEXT,             -- the full JSON report (schema_version 1 of scan --format json)
    signature    BLOB,             -- MinHash of the text, for near-duplicate grouping
    seconds      REAL,             -- time spent on it by the worker
    finished_at  TEXT              -- UTC, ISO 8601
);
-- The table the exports are made from: one row per input file, with its content's result.
CREATE VIEW IF NOT EXISTS documents AS
SELECT f.path, f.size, f.sha256,
       CASE WHEN f.error IS NOT NULL THEN 'failed' WHEN r.sha256 IS NULL THEN 'pending' ELSE r.status END AS status,
       COALESCE(f.error, r.error) AS error,
       CASE WHEN r.path <> f.path THEN r.path END AS duplicate_of,
       r.near_group, r.format, r.pages, r.clause_count, r.risk, r.grade, r.family_risks, r.missing, r.vendor
FROM files AS f LEFT JOIN results AS r ON r.sha256 = f.sha256;
"""


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: durable at checkpoints, never corrupt
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            raise AuditError(f"{self.path}: not a usable results store ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def is_empty(self) -> bool:
        return self.db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def record_files(self, rows: list[tuple[str, int, str | None, str | None]]) -> None:
        """(path, size, sha256, error) for every input file of this run, replacing the previous run's list
        (results are kept: they are keyed by content, and a file that comes back is not audited again)."""
        with self._transaction():
            self.db.execute("DELETE FROM files")
            self.db.executemany("INSERT OR REPLACE INTO files (path, size, sha256, error) VALUES (?, ?, ?, ?)", rows)

    def fail_file(self, path: str, error: str) -> None:
        """Record a failure that concerns one file, not its content (see Outcome.file_failure): the file's
        content is no longer known, so it is tied to no result."""
        with self._transaction():
            self.db.execute("UPDATE files SET error = ?, sha256 = NULL WHERE path = ?", (error, path))

    def rehome(self, holders: dict[str, list[str]]) -> list[str]:
        """Each finished content takes as its audited file the first of this run's files that hold it (the one
        a fresh run would audit), in the result and in its stored report, so that no record points at a file
        renamed, moved or edited since. `holders` maps a content hash to this run's paths holding it; returns
        the hashes whose file changed."""
        updates, redo = [], []
        for sha256, path, report in self.db.execute("SELECT sha256, path, report FROM results").fetchall():
            first = min(holders.get(sha256, [path]))
            if first != path and is_markdown_name(first) != is_markdown_name(path):
                redo.append((sha256,))  # read as text before and as Markdown now, or the reverse: audit again
            elif first != path:
                if report is not None:
                    data = json.loads(report)
                    data["document"]["path"] = first
                    report = stored_report(data)
                updates.append((first, report, sha256))
        with self._transaction():
            self.db.executemany("UPDATE results SET path = ?, report = ? WHERE sha256 = ?", updates)
            self.db.executemany("DELETE FROM results WHERE sha256 = ?", redo)
        return [sha256 for _, _, sha256 in updates] + [sha256 for sha256, in redo]

    def finished(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT sha256 FROM results")}

    def save(self, outcome: Outcome) -> None:
        """Commit one result; it either is in the store whole, or not at all."""
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO results (sha256, path, status, error, format, pages, clause_count, risk, grade,"
                " family_risks, missing, vendor, report, signature, seconds, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (outcome.sha256, outcome.path, outcome.status, outcome.error, outcome.format, outcome.pages,
                 outcome.clause_count, outcome.risk, outcome.grade,
                 json.dumps(outcome.family_risks) if outcome.status == "ok" else None,
                 json.dumps(outcome.missing) if outcome.status == "ok" else None,
                 outcome.vendor, outcome.report_json, outcome.signature, round(outcome.seconds, 4),
                 datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )

    def signatures(self) -> dict[str, bytes]:
        """Audited path -> MinHash signature, for every content audited successfully."""
        rows = self.db.execute("SELECT path, signature FROM results WHERE status = 'ok' AND signature IS NOT NULL"
                               " AND sha256 IN (SELECT sha256 FROM files)")
        return {row[0]: bytes(row[1]) for row in rows}

    def set_near_groups(self, groups: dict[str, str]) -> None:
        with self._transaction():
            self.db.execute("UPDATE results SET near_group = NULL")
            self.db.executemany("UPDATE results SET near_group = ? WHERE path = ?",
                                [(label, path) for path, label in sorted(groups.items())])

    def documents(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM documents ORDER BY path").fetchall()

    def reports(self):
        """(sha256, report JSON text) for every successful content, by hash."""
        yield from self.db.execute("SELECT sha256, report FROM results WHERE status = 'ok' ORDER BY sha256")

    def report_hashes(self) -> list[str]:
        """The hash of every successful content that one of this run's files holds, in order."""
        return [row[0] for row in self.db.execute("SELECT sha256 FROM results WHERE status = 'ok'"
                                                  " AND sha256 IN (SELECT sha256 FROM files) ORDER BY sha256")]

    def report(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT report FROM results WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def _transaction(self):
        return _Transaction(self.db, self.path)


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on an error. A store that cannot be written (disk full, read-only, locked)
    is an AuditError of one line: the batch stops, and what was committed before stays."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self.db = db
        self.path = path

    def __enter__(self):
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def __exit__(self, kind, value, traceback):
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return False
            except sqlite3.Error as exc:
                value = exc
        self._rollback()
        if isinstance(value, sqlite3.Error):
            raise self._error(value) from None
        return False

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (a full disk ends the transaction itself)

    def _error(self, exc: sqlite3.Error) -> AuditError:
        return AuditError(f"{self.path}: cannot write the results store ({exc}); the results committed so far are "
                          "kept, finish with --resume once the problem is fixed")
