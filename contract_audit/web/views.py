"""Shapes the report data for the templates: grouping, filtering, highlighting."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from ..model import FAMILIES, Finding, Report
from ..score import SEVERITY_RANK


@dataclass
class FindingView:
    finding: Finding
    anchor: str
    visible: bool

    @property
    def highlighted(self) -> Markup:
        return highlight(self.finding)


def highlight(finding: Finding) -> Markup:
    """The clause text with the matched span in <mark>; everything escaped."""
    if finding.clause is None:
        return Markup("")
    text = finding.clause.text
    if finding.match is None:
        return escape(text)
    start, end = finding.match.start, finding.match.end
    return escape(text[:start]) + Markup("<mark>") + escape(text[start:end]) + Markup("</mark>") + escape(text[end:])


def finding_groups(report: Report, severities, families):
    """[(family, [FindingView])] in family order, risks before missing protections, worst first."""
    groups, shown = [], 0
    for family in FAMILIES:
        findings = [f for f in report.findings if f.family == family]
        if not findings:
            continue
        findings.sort(key=lambda f: (f.kind != "risk", SEVERITY_RANK[f.severity], f.clause.start if f.clause else 0))
        views = []
        for index, finding in enumerate(findings, 1):
            visible = finding.severity in severities and family in families
            shown += visible
            views.append(FindingView(finding, f"{family}-{index}", visible))
        groups.append((family, views))
    return groups, shown, len(report.findings)


def family_rows(report: Report) -> list[dict]:
    rows = []
    for family in FAMILIES:
        summary = report.families.get(family)
        if summary is None:
            continue
        findings = [f for f in report.findings if f.family == family]
        worst = min((f.severity for f in findings), key=lambda s: SEVERITY_RANK[s], default=None)
        rows.append({"family": family, "risks": summary.risks, "protected": summary.protected,
                     "findings": len(findings), "worst": worst})
    return rows


def clause_verdicts(result) -> dict:
    return {
        "families": result.families,
        "protects": result.protects,
        "findings": [FindingView(f, f"finding-{i}", True) for i, f in enumerate(result.findings, 1)],
    }


def rules_by_family(rules) -> list[tuple[str, list]]:
    grouped = []
    for family in FAMILIES:
        members = sorted((r for r in rules if r.family == family), key=lambda r: (r.kind != "risk", SEVERITY_RANK[r.severity], r.id))
        grouped.append((family, members))
    return grouped
