"""Negotiation checklist: one row per finding and per missing protection, most severe first.

Each row is what a negotiator needs at the table: where the clause is, what it says, the risk in plain
words, the wording to ask for, the position to fall back to, and columns for status and owner.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import FAMILIES, Finding, Report
from .redline.plan import clause_language, sentence_spans
from .score import SEVERITY_RANK

FORMATS = ("md", "html", "docx")
RISK_CHARACTERS = 200  # the checklist keeps to about ten rows a page; the redline comment has the rest


@dataclass(frozen=True)
class ChecklistRow:
    number: int
    severity: str
    family: str
    kind: str  # "risk" | "missing"
    title: str
    clause: str  # "6.2", "6.4(a) Monitoring", or "whole contract"
    page: int | None
    quote: str  # the risky wording, "" for a missing protection
    risk: str
    replacement: str
    fallback: str
    rule_id: str
    clause_id: str | None  # the audit's clause id, None for a missing protection
    status: str = "open"
    owner: str = ""


def checklist_rows(report: Report) -> list[ChecklistRow]:
    findings = sorted(report.findings, key=_order)
    return [_row(number, finding) for number, finding in enumerate(findings, 1)]


def _order(finding: Finding) -> tuple:
    position = finding.clause.start if finding.clause is not None else float("inf")
    family = FAMILIES.index(finding.family) if finding.family in FAMILIES else len(FAMILIES)
    return SEVERITY_RANK.get(finding.severity, len(SEVERITY_RANK)), finding.kind != "risk", position, family


def _row(number: int, finding: Finding) -> ChecklistRow:
    clause = finding.clause
    if clause is None:
        where = "whole contract"
    else:
        where = clause.number or "unnumbered clause"
        if clause.heading:
            where += f" {clause.heading}"
    return ChecklistRow(
        number=number, severity=finding.severity, family=finding.family, kind=finding.kind, title=finding.title,
        clause=where, page=clause.page if clause is not None else None, quote=quote(finding),
        risk=plain_risk(finding.message), replacement="\n\n".join(clause_language(finding.recommendation)),
        fallback=" ".join(finding.fallback.split()), rule_id=finding.rule_id,
        clause_id=clause.id if clause is not None else None,
    )


def plain_risk(message: str) -> str:
    """The risk in a line or two: whole sentences of the message up to about 200 characters."""
    message = " ".join(message.split())
    out = ""
    for start, end in sentence_spans(message):
        if out and len(out) + end - start > RISK_CHARACTERS:
            break
        out = message[:end]
    return out or message


def quote(finding: Finding) -> str:
    """The risky wording, with an ellipsis where the clause goes on before or after it."""
    clause, match = finding.clause, finding.match
    if clause is None:
        return ""
    if match is None:
        return clause.text
    text = " ".join(match.text.split())
    before = "…" if clause.text[:match.start].strip() else ""
    after = "…" if clause.text[match.end:].strip(" .;") else ""
    return f"{before}{text}{after}"


def render_checklist(report: Report, fmt: str) -> str | bytes:
    """Markdown or HTML text, or DOCX bytes."""
    from .report import checklist as writers

    rows = checklist_rows(report)
    if fmt == "md":
        return writers.render_markdown(report, rows)
    if fmt == "html":
        return writers.render_html(report, rows)
    if fmt == "docx":
        return writers.render_docx(report, rows)
    raise ValueError(f"unknown checklist format '{fmt}' (choose from {', '.join(FORMATS)})")
