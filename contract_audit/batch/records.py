"""Plain records passed between the batch stages, the worker processes and the results store."""
from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    """One input file. `path` is what the analyst sees: the path as given, with "!" between a ZIP archive and
    the member inside it ("tenders/2019.zip!lot 3/contract.pdf"). `file` is the absolute path on disk (the
    outermost ZIP for archive members) and `members` the chain of member names inside (nested) ZIPs, with
    `indexes` their positions in their archives' entry lists (a ZIP may hold two entries of the same name)."""

    path: str
    file: str
    members: tuple[str, ...] = ()
    size: int = 0
    indexes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Task:
    """Audit the content with this hash, read from `item` (the first of the files that hold it)."""

    sha256: str
    item: Item


@dataclass
class Outcome:
    """The result of auditing one distinct content: `ok` with its summary and full report, or `failed` with why."""

    sha256: str
    path: str
    status: str  # "ok" | "failed"
    error: str | None = None
    format: str | None = None
    pages: int | None = None
    clause_count: int | None = None
    risk: int | None = None
    grade: str | None = None
    family_risks: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    vendor: str | None = None
    report_json: str | None = None
    signature: bytes | None = None
    seconds: float = 0.0
    # The failure lies with the file that was read (it changed while the batch ran), not with the content the
    # batch hashed: it is recorded against that file alone, and another file with the content is audited.
    file_failure: bool = False


def failed(task: Task, error: str, seconds: float = 0.0, file_failure: bool = False) -> Outcome:
    return Outcome(sha256=task.sha256, path=task.item.path, status="failed", error=error, seconds=seconds,
                   file_failure=file_failure)


def stored_report(data: dict) -> str:
    """A report (report.json's dict) as the results store keeps it: the one spelling every writer uses, so that a
    report edited in the store (a file renamed before a resume) reads byte for byte as a fresh one."""
    return json.dumps(data, ensure_ascii=False)
