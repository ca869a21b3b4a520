"""The library API that the CLI and the web page both call."""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

from . import score
from .clauses import Parties, clause_parties, find_parties, party_roles, split_clauses
from .features import with_role_words
from .fusion import family_vocabulary, protection_words
from .ingest import XML_INVALID, read_bytes, read_document
from .match import CompiledRules, lead_ins
from .model import Clause, Document, Finding, Protection, Report
from .rules import Policy, RuleSet, load_policy, load_rules


def freeze_loaded_objects() -> None:
    """Leave everything alive now (the loaded rules, matchers and model) out of later garbage collections.

    Otherwise the collector walks those hundreds of thousands of long-lived objects again during every audit,
    which costs about a fifth of its time. This affects the whole process, so programs call it once their
    Auditor is built (the command line, batch workers); library code does not.
    """
    gc.freeze()


@dataclass
class ClauseResult:
    """Clause mode: the verdict on one free-standing clause."""

    id: str
    text: str
    families: list[str]
    protects: list[str]
    findings: list[Finding] = field(default_factory=list)


class Auditor:
    """Holds the compiled rules and the classifier so that many documents are audited with one start-up cost.

    `model` is a model folder, None for the shipped model (when one is installed), or False for rules only.
    `buyer` and `vendor` name the parties for every contract this Auditor reads, where the text would not say.
    """

    def __init__(self, rules_dirs=(), policy: Policy | str | Path | None = None, include_shipped_rules: bool = True,
                 model: str | Path | None | bool = None, buyer: str | None = None, vendor: str | None = None):
        self.buyer, self.vendor = buyer, vendor
        if policy is not None and not isinstance(policy, Policy):
            policy = load_policy(policy)
        self.policy = policy
        self.ruleset: RuleSet = load_rules(rules_dirs, include_shipped=include_shipped_rules, policy=policy,
                                           trust_shipped=True)
        self.compiled = CompiledRules(self.ruleset)
        self.model = _load_model(model)
        self.vocabulary = family_vocabulary(self.ruleset)  # for the classifier's topic check, built once
        self.protection_words = protection_words(self.ruleset)

    def audit(self, path: str | Path, buyer: str | None = None, vendor: str | None = None) -> Report:
        return self.audit_document(read_document(path), buyer, vendor)

    def audit_bytes(self, data: bytes, name: str, buyer: str | None = None, vendor: str | None = None) -> Report:
        return self.audit_document(read_bytes(data, name), buyer, vendor)

    def audit_document(self, document: Document, buyer: str | None = None, vendor: str | None = None) -> Report:
        """Audit one contract. `buyer` / `vendor` override the parties the text defines (and this Auditor's)."""
        clauses = split_clauses(document)
        parties = find_parties(document, buyer or self.buyer, vendor or self.vendor)
        findings, protected_by_clause, withheld_by_clause = self._assess(clauses, parties)
        protected = set().union(*protected_by_clause.values()) if protected_by_clause else set()
        withheld = {}
        for clause in clauses:
            for family, why in withheld_by_clause.get(clause.id, {}).items():
                withheld.setdefault(family, (clause, why))
        findings += score.missing_findings(protected, self.ruleset, self.policy, withheld)
        risk, grade = score.document_score(findings, self.policy.weights if self.policy else None)
        return Report(
            document=document, clauses=clauses, findings=findings,
            families=score.family_summary(findings, protected), risk_score=risk, grade=grade,
            warnings=score.language_warnings(document.text), parties=party_roles(parties, document.text),
            protections=tuple(Protection(family, clause) for clause in clauses
                              for family in sorted(protected_by_clause.get(clause.id, ()))),
        )

    def _assess(self, clauses: list[Clause], parties: Parties = Parties(), evidence: list | None = None,
                clause_mode: bool = False):
        if evidence is None:
            evidence = self.compiled.match(clauses, parties)
        probabilities = None
        texts = [lead_in + clause.text for lead_in, clause in zip(lead_ins(clauses), clauses)]
        if self.model is not None:
            # Only operative clauses are shown to the classifier (see score.classifiable).
            judged = [i for i, clause in enumerate(clauses) if score.classifiable(clause.text, texts[i])]
            # The model reads the parties by their roles: the contract's own names for them (or, for a clause
            # read on its own, the names it uses opposite a role word) become role words.
            named = [with_role_words(texts[i], None if clause_mode else parties) for i in judged]
            probabilities = dict(zip(judged, self.model.predict_proba(named)))
        return score.assess(clauses, evidence, probabilities, self.model, self.ruleset, self.policy, self.vocabulary,
                            texts, parties.buyer, self.protection_words)

    def classify(self, texts: list[str], ids: list[str] | None = None) -> list[ClauseResult]:
        """Judge free-standing clauses; no 'missing' findings, since there is no whole contract."""
        ids = ids or [str(i) for i in range(len(texts))]
        # As at ingest, characters no text holds (lone surrogates from a string cut in half, C0 controls) are spaces.
        clauses = [Clause(id=f"c{i}", number="", heading="", text=" ".join(XML_INVALID.sub(" ", t).split()), page=1)
                   for i, t in enumerate(texts)]
        # A free-standing clause may name its parties itself ("Party B (the Supplier) shall ...").
        by_parties: dict[Parties, list[Clause]] = {}
        for clause in clauses:
            by_parties.setdefault(clause_parties(clause.text), []).append(clause)
        evidence = [item for parties, group in by_parties.items() for item in self.compiled.match(group, parties)]
        findings, protected, _ = self._assess(clauses, evidence=evidence, clause_mode=True)
        by_clause: dict[str, list[Finding]] = {clause.id: [] for clause in clauses}
        for finding in findings:
            by_clause[finding.clause.id].append(finding)
        return [
            ClauseResult(id=clause_id, text=text, families=sorted({f.family for f in by_clause[clause.id]}),
                         protects=sorted(protected[clause.id]), findings=by_clause[clause.id])
            for clause_id, text, clause in zip(ids, texts, clauses)
        ]


def _load_model(model):
    if model is False:
        return None
    from .classifier import load_model, shipped_model_dir
    from .classifier import MODEL_NAME

    if model is None:
        directory = shipped_model_dir()
        if not (directory / f"{MODEL_NAME}.npz").is_file():
            return None  # no model shipped yet: rules only
        return load_model(directory)
    return load_model(Path(model))


def audit(path: str | Path, rules_dirs=(), policy=None) -> Report:
    """Audit one contract file with the shipped rules and model (plus any extra rule folders and a policy)."""
    return Auditor(rules_dirs=rules_dirs, policy=policy).audit(path)


def classify(texts: list[str], rules_dirs=(), policy=None) -> list[ClauseResult]:
    return Auditor(rules_dirs=rules_dirs, policy=policy).classify(texts)
