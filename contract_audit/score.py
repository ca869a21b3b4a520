"""Turn evidence into findings and a document score.

Weights (change them here or in a policy file under `weights:`):
- each risk finding adds  weight[severity] x confidence;
- each missing protection adds  weight[severity] x MISSING_FACTOR;
- the document risk is 100 x (1 - exp(-total / SCALE)), so it rises quickly for the first serious findings
  and saturates below 100; the grade comes from GRADE_BANDS.
"""
from __future__ import annotations

import math
import re

from .clauses import DEFINITION, defined_terms, numbered, pointed_at
from .model import FAMILIES, SEVERITIES, Clause, Evidence, FamilySummary, Finding, Span
from .rules import Policy, RuleSet

DEFAULT_WEIGHTS = {"critical": 10.0, "high": 6.0, "medium": 3.0, "low": 1.0}
MISSING_FACTOR = 0.5
MISSING_CONFIDENCE = 0.8  # a missing protection may be worded in a way no rule recognises
SCALE = 30.0
RULE_THRESHOLD = 0.5  # rule evidence below this confidence is ignored
MIN_WORDS_FOR_CLASSIFIER = 8  # headings and fragments are too short to classify
_OPERATIVE = re.compile(
    r"\b(?:shall|will|may|must|cannot|agrees?|undertakes?|acknowledges?|reserves?|entitled|permitted|"
    r"obliged|required|responsible|liable|(?:has|have|retains?)\s+the\s+right)\b", re.IGNORECASE)
# A complete declarative sentence ("... are outside the Service Levels.") states terms too.
_STATEMENT = re.compile(r"\b(?:is|are|apply|applies|remain|remains|cover|covers|include|includes|vest|vests)\b", re.IGNORECASE)
GRADE_BANDS = ((10, "A"), (25, "B"), (45, "C"), (65, "D"), (101, "F"))
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def assess(clauses: list[Clause], evidence: list[Evidence], probabilities: dict | None, model, ruleset: RuleSet,
           policy: Policy | None = None, vocabulary: dict | None = None, texts: list[str] | None = None,
           buyer_names: tuple[str, ...] = (), words=None) -> tuple[list[Finding], dict[str, set[str]], dict[str, dict[str, str]]]:
    """Risk findings (one per clause and family, rules and classifier fused); per clause id, the families whose
    protection that clause gives the buyer; and per clause id, the protections it words but does not grant
    (family -> why; see polarity.py). `probabilities` maps a clause's index to its classifier row, for the
    clauses the classifier may judge (`classifiable`); `texts` are the clauses with their list lead-ins."""
    from .fusion import (classifier_may_propose, family_vocabulary, fuse_clause, protect_thresholds, protection_words,
                         risk_thresholds)

    risk_limits = risk_thresholds(model, policy) if model is not None else None
    protect_limits = protect_thresholds(model) if model is not None else None
    disabled_families = policy.disabled_families if policy else frozenset()  # their rules are off already
    if vocabulary is None:  # the families' topic vocabulary (fusion.family_vocabulary); callers may pass it in
        vocabulary = family_vocabulary(ruleset)
    if words is None:
        words = protection_words(ruleset)
    definitions = defined_terms(clauses) if probabilities else {}
    by_number = numbered(clauses) if probabilities else {}
    by_clause: dict[str, dict[str, list[Evidence]]] = {}
    rule_protected: dict[str, set[str]] = {clause.id: set() for clause in clauses}
    for item in evidence:
        if item.score < RULE_THRESHOLD:
            continue
        if item.kind == "protection":
            rule_protected[item.clause_id].add(item.family)
        else:
            by_clause.setdefault(item.clause_id, {}).setdefault(item.family, []).append(item)
    findings = []
    protected: dict[str, set[str]] = {}
    withheld: dict[str, dict[str, str]] = {}
    for index, clause in enumerate(clauses):
        rule_evidence = by_clause.get(clause.id, {})
        for items in rule_evidence.values():
            items.sort(key=lambda e: (-e.score, SEVERITY_RANK[ruleset.get(e.rule_id).severity], e.rule_id))
        row = probabilities.get(index) if probabilities is not None else None
        text = texts[index] if texts is not None else clause.text
        context = None
        if row is not None and classifier_may_propose(row, risk_limits, protect_limits):
            context = " ".join([text, *(t.text for t in pointed_at(clause.text, definitions, by_number, clause.id))])
        decision = fuse_clause({f: items[0].score for f, items in rule_evidence.items()}, rule_protected[clause.id],
                               row, risk_limits, protect_limits, text, vocabulary, context, buyer_names, words)
        protected[clause.id] = {f for f in decision.protects if f not in disabled_families}
        withheld[clause.id] = {f: why for f, why in decision.withheld.items() if f not in disabled_families}
        for family, risk in decision.risks.items():
            if family in disabled_families:
                continue
            if risk.source == "classifier":
                findings.append(_classifier_finding(clause, risk, model, ruleset))
            else:
                findings.append(_rule_finding(clause, rule_evidence[family], risk, ruleset))
    return sort_findings(findings), protected, withheld


# The commonest words of English contract prose: over a third of the words of an English contract, almost
# none of a French, Spanish, Portuguese, Russian, Arabic or Chinese one.
_ENGLISH_WORDS = frozenset(
    "the of and to in shall be or any by for with this that is are not as on its may will such all other which from "
    "at an a each party parties agreement under has have been".split())
_WORD_RUN = re.compile(r"[^\W\d_]+")
MIN_ENGLISH_SHARE = 0.15
# The opening of a contract tells its language: reading all of it cost about 7 ms per 40-page contract.
_LANGUAGE_SAMPLE_CHARS = 20_000
_LANGUAGE_SAMPLE_WORDS = 2_000


def language_warnings(text: str) -> tuple[str, ...]:
    """A warning when the text does not read as English: the rules and the model read English only, so its
    findings, and above all its missing protections, would mean little."""
    words = [word.lower() for word in _WORD_RUN.findall(text[:_LANGUAGE_SAMPLE_CHARS])][:_LANGUAGE_SAMPLE_WORDS]
    if len(words) < 50 or sum(word in _ENGLISH_WORDS for word in words) / len(words) >= MIN_ENGLISH_SHARE:
        return ()
    return ("The text does not read as English. The rules and the classifier read English only, so risks in "
            "this contract are likely missed and its 'missing protection' findings may be wrong: audit an English "
            "version, or read it with a lawyer.",)


def classifiable(text: str, text_with_lead_in: str) -> bool:
    """Whether the classifier may judge a clause on its own: long enough, not a definition, and operative
    (it obliges or permits someone). Headings, table rows and list fragments carry topic words without
    creating any obligation, and a bag-of-words model over-reads them."""
    return (
        len(text.split(None, MIN_WORDS_FOR_CLASSIFIER - 1)) >= MIN_WORDS_FOR_CLASSIFIER  # splits no further
        and not DEFINITION.match(text)  # a definition names a thing; it obliges nobody
        and (_OPERATIVE.search(text_with_lead_in) is not None
             or (text.rstrip().endswith(".") and _STATEMENT.search(text) is not None))
    )


def _rule_finding(clause: Clause, items: list[Evidence], decision, ruleset: RuleSet) -> Finding:
    top = items[0]
    rule = ruleset.get(top.rule_id)
    explanation = {"pattern": top.pattern, "rule_confidence": top.score, "context": list(top.context),
                   "also_matched": sorted({e.rule_id for e in items[1:]} - {rule.id})}
    if decision.probability is not None:
        explanation["classifier_probability"] = round(decision.probability, 3)
    return Finding(
        rule_id=rule.id, family=rule.family, kind="risk", severity=rule.severity, confidence=decision.confidence,
        source=decision.source, clause=clause, match=Span(top.start, top.end, top.text), message=rule.rationale,
        recommendation=rule.recommendation, title=rule.title, fallback=rule.fallback, explanation=explanation,
    )


def _classifier_finding(clause: Clause, decision, model, ruleset: RuleSet) -> Finding:
    info = ruleset.families[decision.family]
    terms = model.top_terms(clause.text, f"risk:{decision.family}")
    return Finding(
        rule_id=f"{decision.family}-classifier", family=decision.family, kind="risk", severity=info.risk_severity,
        confidence=decision.confidence, source="classifier", clause=clause, match=Span(0, len(clause.text), clause.text),
        message=f"{info.risk_message} (No rule matched; the trained classifier flagged this clause, "
                f"mainly on: {', '.join(terms) or 'its overall wording'}.)",
        recommendation=info.recommendation, title=f"{info.risk_title} (classifier)", fallback=info.fallback,
        explanation={"classifier_probability": round(decision.probability, 3), "top_terms": terms},
    )


def missing_findings(protected: set[str], ruleset: RuleSet, policy: Policy | None = None,
                     withheld: dict[str, tuple[Clause, str]] | None = None) -> list[Finding]:
    """A finding for each family no clause protects. `withheld` maps a family to a clause that words its
    protection without granting it, and why; the finding says so."""
    disabled = policy.disabled_families if policy else frozenset()
    findings = []
    for family in FAMILIES:
        if family in protected or family in disabled or family not in ruleset.families:
            continue
        info = ruleset.families[family]
        message = info.message
        if withheld and family in withheld:
            clause, why = withheld[family]
            where = f"Clause {clause.number}" if clause.number else "One clause"
            message = f"{message} {where} words this protection, but it does not count: {why}."
        findings.append(Finding(
            rule_id=f"{family}-missing-protection", family=family, kind="missing", severity=info.severity,
            confidence=MISSING_CONFIDENCE, source="pattern", clause=None, match=None,
            message=message,
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
