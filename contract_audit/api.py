"""The library API that the CLI and the web page both call."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import score
from .clauses import Parties, find_parties, split_clauses
from .ingest import read_bytes, read_document
from .match import CompiledRules
from .model import Clause, Document, Finding, Report
from .ruletest import example_clause
from .rules import Policy, RuleSet, load_policy, load_rules


@dataclass
class ClauseResult:
    """Clause mode: the verdict on one free-standing clause."""

    id: str
    text: str
    families: list[str]
    protects: list[str]
    findings: list[Finding] = field(default_factory=list)


class Auditor:
    """Holds the compiled rules (and model) so that many documents are audited with one start-up cost."""

    def __init__(self, rules_dirs=(), policy: Policy | str | Path | None = None, include_shipped_rules: bool = True):
        if policy is not None and not isinstance(policy, Policy):
            policy = load_policy(policy)
        self.policy = policy
        self.ruleset: RuleSet = load_rules(rules_dirs, include_shipped=include_shipped_rules, policy=policy)
        self.compiled = CompiledRules(self.ruleset)

    def audit(self, path: str | Path) -> Report:
        return self.audit_document(read_document(path))

    def audit_bytes(self, data: bytes, name: str) -> Report:
        return self.audit_document(read_bytes(data, name))

    def audit_document(self, document: Document) -> Report:
        clauses = split_clauses(document)
        parties = find_parties(document)
        return self._report(document, clauses, parties)

    def _report(self, document: Document, clauses: list[Clause], parties: Parties) -> Report:
        evidence = self.compiled.match(clauses, parties)
        protected = score.protected_families(evidence, self.policy)
        findings = score.risk_findings(evidence, clauses, self.ruleset, self.policy)
        findings += score.missing_findings(protected, self.ruleset, self.policy)
        risk, grade = score.document_score(findings, self.policy.weights if self.policy else None)
        return Report(
            document=document, clauses=clauses, findings=findings,
            families=score.family_summary(findings, protected), risk_score=risk, grade=grade,
        )

    def classify(self, texts: list[str], ids: list[str] | None = None) -> list[ClauseResult]:
        """Judge free-standing clauses; no 'missing' findings, since there is no whole contract."""
        ids = ids or [str(i) for i in range(len(texts))]
        clauses = [example_clause(text) for text in texts]
        clauses = [Clause(id=f"c{i}", number="", heading="", text=c.text, page=1) for i, c in enumerate(clauses)]
        evidence = self.compiled.match(clauses)
        results = []
        for index, (clause_id, text) in enumerate(zip(ids, texts)):
            own = [e for e in evidence if e.clause_id == f"c{index}"]
            findings = score.risk_findings(own, [clauses[index]], self.ruleset, self.policy)
            protects = sorted(score.protected_families(own, self.policy))
            families = sorted({f.family for f in findings})
            results.append(ClauseResult(id=clause_id, text=text, families=families, protects=protects, findings=findings))
        return results


def audit(path: str | Path, rules_dirs=(), policy=None) -> Report:
    """Audit one contract file with the shipped rules (plus any extra rule folders and a policy)."""
    return Auditor(rules_dirs=rules_dirs, policy=policy).audit(path)


def classify(texts: list[str], rules_dirs=(), policy=None) -> list[ClauseResult]:
    return Auditor(rules_dirs=rules_dirs, policy=policy).classify(texts)
