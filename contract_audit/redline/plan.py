"""Decide what the redline changes, from the audit alone (no XML here).

- A risky clause is replaced by the rule's recommended language. A short clause (up to three
  sentences) is replaced whole, because the recommendation is written as a whole clause; in a longer
  clause only the sentences holding the risky wording are.
- Each missing protection becomes a new numbered clause at the end of the section that deals with the
  family (the section of the family's risky clauses, else one whose heading names the subject), or a
  paragraph of an annex at the end of the contract when no section fits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Clause, Finding, Report

MAX_SENTENCES_REPLACED_WHOLE = 3
_SENTENCE_END = re.compile(r"[.!?][\"'”)]?\s+(?=[\"“(A-Z])")
_TOP_LEVEL = re.compile(r"^\d+$")
_SECOND_LEVEL = re.compile(r"^(\d+)\.(\d+)$")

# Words in a section heading that say the section deals with a family (word starts, lower case).
FAMILY_HEADING_WORDS: dict[str, tuple[str, ...]] = {
    "monitoring": ("monitoring", "audit", "security"),
    "energy": ("energy", "power", "cooling", "utilit", "sustainab", "service level"),
    "surveillance": ("surveillance", "analytics", "video", "privacy", "data protection", "city services"),
    "exit": ("termination", "exit", "transition", "expiry"),
    "remote-access": ("remote access", "remote", "telemetry", "access"),
    "key-custody": ("encryption", "keys", "key management", "cryptograph"),
    "data-residency": ("data location", "residency", "hosting", "data"),
    "updates": ("update", "upgrade", "change control", "models", "maintenance"),
}


@dataclass(frozen=True)
class Replacement:
    """Replace clause.text[start:end] with `text`; `findings` are the risks it answers."""

    clause: Clause
    start: int
    end: int
    text: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class NewClause:
    """Insert the protective clause of a missing family after `after` (None: in the annex at the end)."""

    finding: Finding
    after: Clause | None
    sibling: Clause | None  # the numbered clause whose paragraph format and numbering the new clause copies
    number: str


def clause_language(text: str) -> list[str]:
    """A rule's recommendation as paragraphs: blank lines separate them, line wraps are spaces."""
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def replacement_span(clause: Clause, finding: Finding) -> tuple[int, int]:
    """The part of the clause text that the recommendation replaces."""
    text = clause.text
    sentences = sentence_spans(text)
    if finding.match is None or len(sentences) <= MAX_SENTENCES_REPLACED_WHOLE:
        return 0, len(text)
    touched = [(s, e) for s, e in sentences if s < finding.match.end and e > finding.match.start]
    if not touched:
        return 0, len(text)
    return touched[0][0], touched[-1][1]


def plan_replacements(report: Report) -> list[Replacement]:
    """One replacement per clause region; findings on overlapping regions of a clause share one."""
    by_clause: dict[str, list[tuple[int, int, Finding]]] = {}
    for finding in report.findings:
        if finding.kind != "risk" or finding.clause is None or not finding.clause.text:
            continue
        start, end = replacement_span(finding.clause, finding)
        by_clause.setdefault(finding.clause.id, []).append((start, end, finding))
    clauses = {clause.id: clause for clause in report.clauses}
    replacements = []
    for clause_id, spans in by_clause.items():
        clause = clauses.get(clause_id) or spans[0][2].clause
        merged: list[list] = []
        for start, end, finding in sorted(spans, key=lambda item: (item[0], item[1])):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
                merged[-1][2].append(finding)
            else:
                merged.append([start, end, [finding]])
        for start, end, findings in merged:
            paragraphs: list[str] = []
            for finding in findings:
                for paragraph in clause_language(finding.recommendation):
                    if paragraph not in paragraphs:
                        paragraphs.append(paragraph)
            replacements.append(Replacement(clause, start, end, " ".join(paragraphs), tuple(findings)))
    return sorted(replacements, key=lambda r: (r.clause.start, r.start))


def plan_new_clauses(report: Report) -> list[NewClause]:
    """Where each missing protection goes, numbered after the section's last clause."""
    sections = _sections(report.clauses)
    taken: dict[str, int] = {}
    planned = []
    for finding in report.findings:
        if finding.kind != "missing":
            continue
        section = _section_for(finding.family, report, sections)
        if section is None:
            planned.append(NewClause(finding, None, None, ""))
            continue
        top, members = section, sections[section.number]
        children = [c for c in members if _SECOND_LEVEL.match(c.number)]
        sibling = children[-1]
        offset = taken.get(top.number, 0) + 1
        taken[top.number] = offset
        last = int(_SECOND_LEVEL.match(sibling.number).group(2))
        planned.append(NewClause(finding, members[-1], sibling, f"{top.number}.{last + offset}"))
    return planned


def _sections(clauses: list[Clause]) -> dict[str, list[Clause]]:
    """Top-level numbered clauses of the main body ("6") with the clauses inside them, in order."""
    sections: dict[str, list[Clause]] = {}
    current: str | None = None
    for clause in clauses:
        if _TOP_LEVEL.match(clause.number):
            current = clause.number
            sections[current] = [clause]
        elif current and clause.number.startswith((f"{current}.", f"{current}(")):
            sections[current].append(clause)
        elif clause.number:
            current = None  # a schedule or another container: the section has ended
    return {number: members for number, members in sections.items()
            if any(_SECOND_LEVEL.match(c.number) for c in members)}


def _section_for(family: str, report: Report, sections: dict[str, list[Clause]]) -> Clause | None:
    heads = {number: members[0] for number, members in sections.items()}
    risky = [f.clause for f in report.findings if f.family == family and f.kind == "risk" and f.clause]
    for clause in reversed(risky):
        top = clause.number.split(".")[0].split("(")[0]
        if top in heads:
            return heads[top]
    for word in FAMILY_HEADING_WORDS.get(family, ()):
        pattern = re.compile(rf"\b{re.escape(word)}", re.IGNORECASE)
        for head in heads.values():
            if pattern.search(head.heading or head.text[:80]):
                return head
    return None


def comment_text(finding: Finding) -> list[tuple[str, bool]]:
    """The comment on a finding, as (paragraph, bold) pairs: what, why, what to ask for, fallback."""
    kind = "Missing protection" if finding.kind == "missing" else "Risk"
    lines = [(f"{finding.severity.upper()} · {finding.family} · {kind}: {finding.title}", True),
             (f"Why it matters: {' '.join(finding.message.split())}", False)]
    if finding.kind == "missing":
        lines.append(("Ask for: the protective clause inserted here as a tracked change.", False))
    else:
        lines.append(("Ask for: the replacement wording shown as a tracked change: "
                      + " ".join(clause_language(finding.recommendation)), False))
    if finding.fallback:
        lines.append((f"Fallback: {' '.join(finding.fallback.split())}", False))
    lines.append((f"Rule {finding.rule_id}, confidence {finding.confidence:.2f}.", False))
    return lines
