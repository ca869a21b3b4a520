"""Turn evidence into findings and a document score.

Weights (change them here or in a policy file under `weights:`):
- each risk finding adds  weight[severity] x confidence;
- each missing protection adds  weight[severity] x MISSING_FACTOR;
- the document risk is 100 x (1 - exp(-total / SCALE)), so it rises quickly for the first serious findings
  and saturates below 100; the grade comes from GRADE_BANDS.
"""
from __future__ import annotations

import math

from .model import FAMILIES, SEVERITIES, Clause, Evidence, FamilySummary, Finding, Span
from .rules import Policy, RuleSet

DEFAULT_WEIGHTS = {"critical": 10.0, "high": 6.0, "medium": 3.0, "low": 1.0}
MISSING_FACTOR = 0.5
MISSING_CONFIDENCE = 0.8  # a missing protection may be worded in a way no rule recognises
SCALE = 30.0
DEFAULT_THRESHOLD = 0.5
GRADE_BANDS = ((10, "A"), (25, "B"), (45, "C"), (65, "D"), (101, "F"))
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def threshold_for(family: str, policy: Policy | None) -> float:
    return (policy.thresholds.get(family) if policy else None) or DEFAULT_THRESHOLD


def risk_findings(evidence: list[Evidence], clauses: list[Clause], ruleset: RuleSet, policy: Policy | None = None) -> list[Finding]:
    """One finding per (family, clause): the strongest risk evidence, the others listed in its explanation."""
    by_clause = {clause.id: clause for clause in clauses}
    best: dict[tuple[str, str], list[Evidence]] = {}
    for item in evidence:
        if item.kind == "risk" and item.score >= threshold_for(item.family, policy):
            best.setdefault((item.family, item.clause_id), []).append(item)
    findings = []
    for (family, clause_id), items in best.items():
        items.sort(key=lambda e: (-e.score, SEVERITY_RANK[ruleset.get(e.rule_id).severity], e.rule_id))
        top = items[0]
        rule = ruleset.get(top.rule_id)
        findings.append(Finding(
            rule_id=rule.id, family=family, kind="risk", severity=rule.severity, confidence=top.score,
            source="pattern", clause=by_clause[clause_id], match=Span(top.start, top.end, top.text),
            message=rule.rationale, recommendation=rule.recommendation, title=rule.title, fallback=rule.fallback,
            explanation={"pattern": top.pattern, "context": list(top.context),
                         "also_matched": sorted({e.rule_id for e in items[1:]} - {rule.id})},
        ))
    return sort_findings(findings)


def protected_families(evidence: list[Evidence], policy: Policy | None = None) -> set[str]:
    return {e.family for e in evidence if e.kind == "protection" and e.score >= threshold_for(e.family, policy)}


def missing_findings(protected: set[str], ruleset: RuleSet, policy: Policy | None = None) -> list[Finding]:
    disabled = policy.disabled_families if policy else frozenset()
    findings = []
    for family in FAMILIES:
        if family in protected or family in disabled or family not in ruleset.families:
            continue
        info = ruleset.families[family]
        findings.append(Finding(
            rule_id=f"{family}-missing-protection", family=family, kind="missing", severity=info.severity,
            confidence=MISSING_CONFIDENCE, source="pattern", clause=None, match=None, message=info.message,
            recommendation=info.recommendation, title=info.title, fallback=info.fallback,
        ))
    return findings


def sort_findings(findings: list[Finding]) -> list[Finding]:
    def key(f: Finding):
        position = f.clause.start if f.clause else 10**12
        return (SEVERITY_RANK[f.severity], -f.confidence, position, f.family)

    return sorted(findings, key=key)


def family_summary(findings: list[Finding], protected: set[str]) -> dict[str, FamilySummary]:
    summary = {family: FamilySummary(risks=0, protected=family in protected) for family in FAMILIES}
    for finding in findings:
        if finding.kind == "risk":
            summary[finding.family].risks += 1
    return summary


def document_score(findings: list[Finding], weights: dict | None = None) -> tuple[int, str]:
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    total = 0.0
    for finding in findings:
        factor = MISSING_FACTOR if finding.kind == "missing" else finding.confidence
        total += weights[finding.severity] * factor
    risk = round(100 * (1 - math.exp(-total / SCALE)))
    return risk, grade_for(risk)


def grade_for(risk: int) -> str:
    for bound, grade in GRADE_BANDS:
        if risk < bound:
            return grade
    return GRADE_BANDS[-1][1]
