"""The JSON contract of `scan --format json` (schema_version 1). Names here are stable; add, never rename."""
from __future__ import annotations

import json

from ..model import Finding, Report

SCHEMA_VERSION = 1


def finding_to_dict(finding: Finding) -> dict:
    clause = finding.clause
    return {
        "rule_id": finding.rule_id,
        "family": finding.family,
        "kind": finding.kind,
        "severity": finding.severity,
        "confidence": round(finding.confidence, 3),
        "source": finding.source,
        "title": finding.title,
        "clause": None if clause is None else {
            "id": clause.id, "number": clause.number, "heading": clause.heading, "page": clause.page,
            "text": clause.text,
        },
        "match": None if finding.match is None else {
            "start": finding.match.start, "end": finding.match.end, "text": finding.match.text,
        },
        "message": finding.message,
        "recommendation": finding.recommendation,
        "fallback": finding.fallback,
        "explanation": finding.explanation,
    }


def report_to_dict(report: Report) -> dict:
    document = report.document
    return {
        "schema_version": SCHEMA_VERSION,
        "document": {
            "path": document.path, "sha256": document.sha256, "format": document.format,
            "pages": document.pages, "clause_count": len(report.clauses),
        },
        "score": {"risk": report.risk_score, "grade": report.grade},
        "families": {
            family: {"risks": summary.risks, "protected": summary.protected}
            for family, summary in report.families.items()
        },
        "findings": [finding_to_dict(f) for f in report.findings],
        "warnings": list(report.warnings),
        "protections": [
            {"family": p.family, "clause": {"id": p.clause.id, "number": p.clause.number, "page": p.clause.page}}
            for p in report.protections
        ],
        "parties": {
            "buyer": report.parties.buyer, "buyer_basis": report.parties.buyer_basis,
            "vendor": report.parties.vendor, "vendor_basis": report.parties.vendor_basis,
        },
    }


def render_json(reports: list[Report], as_list: bool | None = None) -> str:
    """One object for one file, a list for several. `as_list` decides for the caller that was given several
    files of which only one could be read: the output's shape follows the command, not what succeeded."""
    data = [report_to_dict(r) for r in reports]
    as_list = len(data) != 1 if as_list is None else as_list
    return json.dumps(data if as_list else data[0], indent=2, ensure_ascii=False) + "\n"
