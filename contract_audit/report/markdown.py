"""Markdown report: readable in a terminal, a merge request or a wiki."""
from __future__ import annotations

import re

from ..model import FAMILIES, Finding, Report

# C0 and C1 control characters and DEL: a terminal or spreadsheet acts on them (ESC starts a terminal command,
# BEL rings). Text read from a contract shows them as \x1b and the like instead.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with every control character not in `keep` written out as \\xNN."""
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else f"\\x{ord(m.group()):02x}", text)


# Characters that make Markdown out of plain text: emphasis, code, links and images, raw HTML and entities.
# Escaped with a backslash, which CommonMark renders as the character itself.
_MARKUP = re.compile(r"([\\`*_\[\]<>&])")
# The start of a bare link that GitHub-flavoured Markdown would turn into one: 'http://', 'www.'.
_BARE_LINK = re.compile(r"(?i)\b(?:([a-z][a-z0-9+.\-]*):(?=//)|(www)\.)")


def plain(text: str) -> str:
    """Contract text (a file name, a heading, a clause) as Markdown that shows it literally: no HTML, no
    links or images, no formatting, no control characters."""
    text = _MARKUP.sub(r"\\\1", escape_controls(text, keep="\n\t"))
    return _BARE_LINK.sub(lambda m: f"{m.group(1)}\\:" if m.group(1) else f"{m.group(2)}\\.", text)


def _clause_ref(finding: Finding) -> str:
    clause = finding.clause
    if clause is None:
        return "whole contract"
    number = f"clause {clause.number}" if clause.number else "unnumbered clause"
    heading = f" ({plain(clause.heading)})" if clause.heading else ""
    return f"{number}{heading}, page {clause.page}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def party_lines(parties) -> list[str]:
    """'Buyer: City of Brightwater, from the opening of the contract: ...', one line per side (names and bases
    quote the contract, so they are shown literally)."""
    def line(side: str, name: str, basis: str) -> str:
        return f"{side}: {plain(name)} ({plain(basis)})." if name else f"{side}: {plain(basis)}."

    return [line("Buyer", parties.buyer, parties.buyer_basis) + "  ", line("Vendor", parties.vendor, parties.vendor_basis), ""]


def render_markdown_one(report: Report) -> str:
    doc = report.document
    risks = [f for f in report.findings if f.kind == "risk"]
    missing = [f for f in report.findings if f.kind == "missing"]
    lines = [
        f"# Sovereignty audit: {plain(str(doc.path))}",
        "",
        f"**Risk score {report.risk_score}/100, grade {report.grade}.** {len(risks)} risky clause(s), "
        f"{len(missing)} missing protection(s). {doc.pages} page(s), {len(report.clauses)} clause(s), {doc.format.upper()}.",
        "",
        *[line for warning in report.warnings for line in (f"> **Warning:** {plain(warning)}", "")],
        *party_lines(report.parties),
        "| Family | Risky clauses | Protected |",
        "|---|---:|:---:|",
    ]
    where = {}
    for protection in report.protections:
        where.setdefault(protection.family, []).append(plain(protection.clause.number or protection.clause.heading or "-"))
    for family in FAMILIES:
        summary = report.families[family]
        protected = f"yes ({', '.join(where[family][:4])})" if summary.protected and where.get(family) else (
            "yes" if summary.protected else "**no**")
        lines.append(f"| {family} | {summary.risks} | {protected} |")
    lines.append("")
    if risks:
        lines += ["## Risky clauses", ""]
        for index, finding in enumerate(risks, 1):
            lines += [
                f"### {index}. {finding.title} ({finding.family}, {finding.severity})",
                "",
                f"*{_clause_ref(finding)}; rule `{finding.rule_id}`; confidence {finding.confidence:.2f}; source {finding.source}.*",
                "",
                _quote(_highlight(finding)),
                "",
                f"**Why it matters.** {finding.message}",
                "",
                "**Write instead:**",
                "",
                _quote(finding.recommendation),
                "",
            ]
    if missing:
        lines += ["## Missing protections", ""]
        for finding in missing:
            lines += [
                f"### {finding.title} ({finding.family}, {finding.severity})",
                "",
                finding.message,
                "",
                "**Add:**",
                "",
                _quote(finding.recommendation),
                "",
            ]
    return "\n".join(lines)


def _highlight(finding: Finding) -> str:
    text = finding.clause.text if finding.clause else ""
    if finding.match is None:
        return plain(text)
    start, end = finding.match.start, finding.match.end
    return f"{plain(text[:start])}**{plain(text[start:end])}**{plain(text[end:])}"


def render_markdown(reports: list[Report]) -> str:
    return "\n\n---\n\n".join(render_markdown_one(r) for r in reports) + "\n"
