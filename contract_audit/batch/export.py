"""Exports made from the results store: CSV (one row per file), JSON Lines (full findings) and an HTML dashboard
with one report per audited content. Every file is written to a temporary name and renamed into place, so
a reader never sees half a file. Rows are sorted by path and carry no timings, so the same archive gives
the same bytes whichever way (and in whichever order) it was scanned."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

from ..atomic import atomic_write, replacing
from ..model import FAMILIES
from ..report.markdown import escape_controls
from .sources import SEPARATOR
from .store import Store

CSV_NAME, JSONL_NAME, DASHBOARD_NAME, REPORTS_DIR = "results.csv", "results.jsonl", "dashboard.html", "reports"
CSV_COLUMNS = (["path", "sha256", "status", "error", "format", "pages", "risk", "grade"]
               + [f"risks_{family}" for family in FAMILIES]
               + ["missing", "vendor", "duplicate_of", "near_group"])


def csv_row(row) -> list:
    risks = json.loads(row["family_risks"]) if row["family_risks"] else {}
    missing = json.loads(row["missing"]) if row["missing"] else []
    ok = row["status"] == "ok"
    cells = ([row["path"], row["sha256"] or "", row["status"], row["error"] or "", row["format"] or "",
              _blank(row["pages"]), _blank(row["risk"]), row["grade"] or ""]
             + [risks.get(family, 0) if ok else "" for family in FAMILIES]
             + [";".join(missing), row["vendor"] or "", row["duplicate_of"] or "", row["near_group"] or ""])
    return [csv_cell(cell) if isinstance(cell, str) else cell for cell in cells]


# A spreadsheet reads a cell that starts with one of these as a formula (=HYPERLINK(...), +cmd|...).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t")  # a carriage return is already written out as \\x0d


def csv_cell(text: str) -> str:
    """A text cell as a spreadsheet shows it and never runs it: control characters (other than a line break or a
    tab, which the CSV quoting keeps) written out as \\xNN, and a leading quote before a would-be formula."""
    text = escape_controls(text, keep="\n\t")
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _blank(value) -> str | int:
    return "" if value is None else value


def render_csv(store: Store) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in store.documents():
        writer.writerow(csv_row(row))
    return buffer.getvalue()


def write_jsonl(store: Store, path: Path) -> None:
    """One line per file: its record and, when it was audited, the full report (scan --format json)."""
    with replacing(path) as stream:
        for row in store.documents():
            record = {key: row[key] for key in ("path", "sha256", "status", "error", "duplicate_of", "near_group")}
            head = json.dumps(record, ensure_ascii=False)
            report = store.report(row["sha256"]) if row["status"] == "ok" else None
            # The stored report is already JSON: splice it in rather than parse and re-encode it.
            stream.write(head[:-1] + ', "report": ' + (report or "null") + "}\n")


@dataclass
class Bar:
    label: str
    value: int
    share: float  # of the longest bar, 0-1
    note: str = ""


def folder_of(path: str) -> str:
    """The folder a file sits in; for a ZIP member, the folder inside the archive."""
    parent = str(PurePosixPath(path.replace("\\", "/")).parent)
    return "." if parent in ("", ".") else parent


def common_root(paths: list[str]) -> str:
    """The folder all paths share (ending in "/"), so that the dashboard can show shorter paths."""
    if not paths:
        return ""
    first, last = min(paths), max(paths)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:first.rfind("/", 0, size) + 1] if "/" in first[:size] else ""


def dashboard_data(store: Store) -> dict:
    rows = store.documents()
    root = common_root([r["path"] for r in rows])
    ok = [r for r in rows if r["status"] == "ok"]
    findings = _findings_by_hash(store)
    grades = Counter(r["grade"] for r in ok)
    buckets = Counter(min(r["risk"] // 10, 9) for r in ok)
    flags: Counter = Counter()
    titles: dict[str, tuple[str, str, str]] = {}
    for row in ok:
        for rule_id, title, family, severity in findings.get(row["sha256"], ()):
            flags[rule_id] += 1
            titles[rule_id] = (title, family, severity)
    missing = Counter(f for r in ok for f in json.loads(r["missing"] or "[]"))
    top_flags = flags.most_common(15)
    return {
        "totals": {
            "files": len(rows), "ok": len(ok),
            "failed": sum(r["status"] == "failed" for r in rows),
            "pending": sum(r["status"] == "pending" for r in rows),
            "duplicates": sum(bool(r["duplicate_of"]) for r in rows),
            "near_groups": len({r["near_group"] for r in rows if r["near_group"]}),
            "pages": sum(r["pages"] or 0 for r in ok),
        },
        "histogram": _bars([(f"{b * 10}-{b * 10 + 9 if b < 9 else 100}", buckets.get(b, 0)) for b in range(10)]),
        "grades": _bars([(g, grades.get(g, 0)) for g in "ABCDF"]),
        "flags": [Bar(titles[rule][0] or rule, count, count / max(top_flags[0][1], 1), f"{rule} · {titles[rule][1]} · {titles[rule][2]}")
                  for rule, count in top_flags],
        "missing": _bars([(family, missing.get(family, 0)) for family in FAMILIES]),
        "root": root,
        "by_folder": _family_matrix(ok, lambda r: folder_of(r["path"][len(root):])),
        "by_vendor": _family_matrix([r for r in ok if r["vendor"]], lambda r: r["vendor"]),
        "failures": Counter(_reason_kind(r["error"]) for r in rows if r["status"] == "failed").most_common(),
        "rows": [_table_row(r, root) for r in rows],
        "families": FAMILIES,
    }


def _findings_by_hash(store: Store) -> dict[str, list[tuple[str, str, str, str]]]:
    found = {}
    for sha256, report in store.reports():
        data = json.loads(report)
        found[sha256] = sorted({(f["rule_id"], f["title"], f["family"], f["severity"])
                                for f in data["findings"] if f["kind"] == "risk"})
    return found


def _bars(pairs: list[tuple[str, int]]) -> list[Bar]:
    top = max((value for _, value in pairs), default=0) or 1
    return [Bar(label, value, value / top) for label, value in pairs]


def _family_matrix(rows, group_of, limit: int = 25) -> list[dict]:
    """Per group (folder or vendor): documents, and the share of them with a risk in each family."""
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[group_of(row)].append(row)
    biggest = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    matrix = []
    for name, members in biggest:
        cells = []
        for family in FAMILIES:
            hit = sum(1 for r in members if json.loads(r["family_risks"] or "{}").get(family, 0))
            cells.append({"count": hit, "share": hit / len(members)})
        matrix.append({"name": name, "documents": len(members), "cells": cells,
                       "mean_risk": round(sum(r["risk"] for r in members) / len(members))})
    return matrix


def _reason_kind(error: str | None) -> str:
    text = (error or "").lower()
    for needle, label in (("timed out", "timed out"), ("out of memory", "out of memory"), ("crashed", "reader crashed"),
                          ("encrypted", "encrypted"), ("zip bomb", "zip bomb"), ("zip-slip", "unsafe ZIP name"),
                          ("zip", "damaged or oversized ZIP member"),
                          ("corrupt", "corrupt"), ("no text", "no text (scanned?)"), ("empty", "empty"),
                          ("unsupported", "unsupported type")):
        if needle in text:
            return label
    return "other"


def _table_row(row, root: str) -> dict:
    risks = json.loads(row["family_risks"]) if row["family_risks"] else {}
    return {
        "path": row["path"][len(root):], "full_path": row["path"], "sha256": row["sha256"], "status": row["status"], "error": row["error"] or "",
        "risk": row["risk"], "grade": row["grade"] or "", "pages": row["pages"],
        "risks": [risks.get(family, 0) if row["status"] == "ok" else None for family in FAMILIES],
        "missing": len(json.loads(row["missing"])) if row["missing"] else None,
        "vendor": row["vendor"] or "", "duplicate_of": (row["duplicate_of"] or "")[len(root):],
        "near_group": (row["near_group"] or "")[len(root):],
        "report": f"{REPORTS_DIR}/{row['sha256']}.html" if row["status"] == "ok" else None,
    }


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("contract_audit", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    env.filters["basename"] = lambda path: PurePosixPath(path.replace(SEPARATOR, "/")).name
    return env


class _StoredReport:
    """What report.html needs, from a stored JSON report (the template reads fields by name)."""

    def __init__(self, data: dict):
        self.document = data["document"]
        self.clauses = range(data["document"]["clause_count"])
        # Attributes rather than dict keys: the template reads finding.severity, and Jinja tries attributes first.
        self.findings = [_attributes(finding) for finding in data["findings"]]
        self.families = data["families"]
        self.risk_score = data["score"]["risk"]
        self.grade = data["score"]["grade"]
        self.warnings = data.get("warnings", [])  # reports stored before warnings existed have none
        self.parties = _attributes(data.get("parties") or {})


class ReportPages:
    """Each audited content's own HTML report, under reports/ and named by its hash."""

    def __init__(self, out_dir: Path):
        from .. import __version__

        self.version = __version__
        self.directory = out_dir / REPORTS_DIR
        self.directory.mkdir(exist_ok=True)
        self.template = _environment().get_template("report.html")

    def exists(self, sha256: str) -> bool:
        """Content-addressed: an existing page is already this content's report."""
        return (self.directory / f"{sha256}.html").exists()

    def write(self, sha256: str, report_json: str) -> None:
        if not self.exists(sha256):
            # No fsync per report (thousands of them): a report lost to a power cut is re-made by the next export.
            atomic_write(self.directory / f"{sha256}.html",
                         self.template.render(reports=[_StoredReport(json.loads(report_json))], version=self.version),
                         durable=False)

    def remove_others(self, kept: set[str]) -> None:
        """Remove the pages of contents no file of the batch holds any more (edited, renamed away, deleted)."""
        remove_report_pages(self.directory.parent, [page.stem for page in self.directory.glob("*.html")
                                                    if page.stem not in kept])


def remove_report_pages(out_dir: Path, hashes) -> None:
    """Remove these contents' report pages, if written: the next export writes them afresh."""
    for sha256 in hashes:
        (out_dir / REPORTS_DIR / f"{sha256}.html").unlink(missing_ok=True)


def _attributes(finding: dict) -> SimpleNamespace:
    fields = dict(finding)
    for name in ("clause", "match"):
        if isinstance(fields.get(name), dict):
            fields[name] = SimpleNamespace(**fields[name])
    return SimpleNamespace(**fields)


def write_dashboard(store: Store, out_dir: Path) -> Path:
    from .. import __version__

    pages = ReportPages(out_dir)
    current = store.report_hashes()
    for sha256 in current:
        if not pages.exists(sha256):  # most were written while the batch ran
            pages.write(sha256, store.report(sha256))
    pages.remove_others(set(current))
    path = out_dir / DASHBOARD_NAME
    dashboard = pages.template.environment.get_template("dashboard.html")
    atomic_write(path, dashboard.render(data=dashboard_data(store), version=__version__))
    return path


def write_exports(store: Store, out_dir: Path, formats) -> list[Path]:
    written = []
    if "csv" in formats:
        atomic_write(out_dir / CSV_NAME, render_csv(store))
        written.append(out_dir / CSV_NAME)
    if "jsonl" in formats:
        write_jsonl(store, out_dir / JSONL_NAME)
        written.append(out_dir / JSONL_NAME)
    if "html" in formats:
        written.append(write_dashboard(store, out_dir))
    return written
