"""Combine rule evidence and classifier probabilities into one decision per clause and family.

- rule and classifier agree: source "both", confidence 1 - (1 - rule) * (1 - classifier);
- rule alone: source "pattern", the rule's confidence;
- classifier alone (probability at or above the family threshold, above the clause's probability of
  protecting the same family, no rule reads the clause as protecting that family, and the clause mentions
  the family's subject: one of its topic words or of its rules' anchor phrases): source "classifier", its
  probability, explained by the terms that contributed most.
Protections: a clause protects a family when a rule reads it so, or when the classifier finds the protection
likely (at or above the family's protection threshold and PROTECT_FLOOR, at least PROTECT_MARGIN above its
risk probability for the same family, on topic, with the family's protection words: ProtectionWords); either
way only where the polarity check (polarity.py) finds the protection actually granted to the buyer, not
negated, sold separately or left to the vendor's discretion.

Family thresholds come from the model card (chosen on cross-validation) and can be overridden per family
with `thresholds:` in a policy file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .classifier import LABELS, ClauseModel
from .model import FAMILIES
from .rules import Policy, RuleSet

# Without a rule behind it, the classifier must find the risk more likely than not (chosen on
# cross-validation: it gave the best fused F1 on the training corpus).
CLASSIFIER_FLOOR = 0.5
# A protection read by the classifier alone withdraws a "missing protection" finding, so it must be likelier,
# and clearly likelier than the risk on the same family (protective and risky clauses share their words).
PROTECT_FLOOR = 0.7
PROTECT_MARGIN = 0.3
RISK_COLUMNS = {family: LABELS.index(f"risk:{family}") for family in FAMILIES}
PROTECT_COLUMNS = {family: LABELS.index(f"protects:{family}") for family in FAMILIES}


@dataclass(frozen=True)
class Decision:
    family: str
    confidence: float
    source: str  # "pattern", "classifier" or "both"
    probability: float | None


def risk_thresholds(model: ClauseModel, policy: Policy | None = None) -> dict[str, float]:
    """Per-family classifier thresholds: the model card's, unless the policy overrides them."""
    overrides = policy.thresholds if policy else {}
    return {f: float(overrides.get(f, model.thresholds[f"risk:{f}"])) for f in FAMILIES}


def protect_thresholds(model: ClauseModel) -> dict[str, float]:
    """Per-family thresholds for the classifier's protection side (the model card's; a policy's `thresholds:`
    apply to the risk side only)."""
    return {f: float(model.thresholds[f"protects:{f}"]) for f in FAMILIES}


@dataclass(frozen=True)
class ClauseDecision:
    risks: dict[str, Decision]
    protects: set[str]
    withheld: dict[str, str]  # family -> why a protection read in the clause does not count (polarity.py)


def classifier_protections(probabilities: np.ndarray | None, thresholds: dict[str, float] | None) -> set[str]:
    """Families the classifier alone reads the clause as protecting."""
    if probabilities is None or thresholds is None:
        return set()
    return {
        family for family in FAMILIES
        if float(probabilities[PROTECT_COLUMNS[family]]) >= max(thresholds[family], PROTECT_FLOOR)
        and float(probabilities[PROTECT_COLUMNS[family]]) >= float(probabilities[RISK_COLUMNS[family]]) + PROTECT_MARGIN
    }


def classifier_may_propose(probabilities: np.ndarray, risk_limits: dict[str, float],
                           protect_limits: dict[str, float]) -> bool:
    """Whether the classifier reaches any family's risk or protection floor on this clause (if not, no topic
    check or definition lookup is needed for it)."""
    return any(
        float(probabilities[RISK_COLUMNS[f]]) >= max(risk_limits[f], CLASSIFIER_FLOOR)
        or float(probabilities[PROTECT_COLUMNS[f]]) >= max(protect_limits[f], PROTECT_FLOOR)
        for f in FAMILIES
    )


@dataclass(frozen=True)
class ProtectionWords:
    """Per family, what a clause must mention for the classifier alone to read it as protecting the family:
    one of the family's topic words, one of its protection words where families.yaml lists any, and none of
    its protection excludes."""

    topics: dict[str, frozenset[str]]
    cues: dict[str, frozenset[str]]
    excludes: dict[str, frozenset[str]]

    def admit(self, families: set[str], text: str) -> set[str]:
        if not families:
            return families
        padded = _normalise(text)
        return {f for f in families
                if any(w in padded for w in self.topics.get(f, ())) and
                (not self.cues.get(f) or any(w in padded for w in self.cues[f])) and
                not any(w in padded for w in self.excludes.get(f, ()))}


def protection_words(ruleset: RuleSet) -> ProtectionWords:
    families = ruleset.families.items()
    return ProtectionWords(
        topics={f: frozenset(_normalise(w) for w in info.topic_words) for f, info in families},
        cues={f: frozenset(_normalise(w) for w in info.protection_words) for f, info in families},
        excludes={f: frozenset(_normalise(w) for w in info.protection_excludes) for f, info in families},
    )


def fuse_clause(rule_scores: dict[str, float], rule_protects: set[str], probabilities: np.ndarray | None,
                risk_limits: dict[str, float] | None, protect_limits: dict[str, float] | None, text: str,
                vocabulary: dict[str, frozenset[str]], context: str | None = None,
                buyer_names: tuple[str, ...] = (), words: ProtectionWords | None = None) -> ClauseDecision:
    """Every decision about one clause: its risks and the protections it gives the buyer.

    `text` is the clause (with its list lead-in); `context` adds the definitions it uses, for the topic check."""
    from .polarity import withheld_protection

    read = classifier_protections(probabilities, protect_limits)
    risks = fuse_risks(rule_scores, probabilities, risk_limits)
    if read or any(d.source == "classifier" for d in risks.values()):
        # The topic check reads the whole clause and its definitions: only when the classifier proposes something.
        mentioned = topics(text if context is None else context, vocabulary)
        read &= mentioned
        risks = {f: d for f, d in risks.items() if d.source != "classifier" or f in mentioned}
    candidates = set(rule_protects) | (words.admit(read, text) if words is not None else read)
    withheld = withheld_protection(text, candidates, vocabulary, buyer_names) if candidates else {}
    candidates -= set(withheld)
    return ClauseDecision(risks=drop_where_protected(risks, candidates), protects=candidates, withheld=withheld)


def family_vocabulary(ruleset: RuleSet) -> dict[str, frozenset[str]]:
    """Per family, its topic words (families.yaml) and the anchor phrases of its rules, normalised as by
    `topics`."""
    vocabulary: dict[str, set[str]] = {f: {_normalise(w) for w in info.topic_words} for f, info in ruleset.families.items()}
    for rule in ruleset.rules:
        vocabulary.setdefault(rule.family, set()).update(_normalise(anchor) for anchor in rule.anchors)
    return {family: frozenset(words) for family, words in vocabulary.items()}


def topics(text: str, vocabulary: dict[str, frozenset[str]]) -> set[str]:
    """The families whose subject a text mentions (any of their topic words or anchor phrases, as whole words)."""
    padded = _normalise(text)
    return {family for family, phrases in vocabulary.items() if any(phrase in padded for phrase in phrases)}


def drop_where_protected(decisions: dict[str, Decision], protected: set[str]) -> dict[str, Decision]:
    """Drop classifier-only decisions for families that a rule reads the same clause as protecting: the
    classifier confuses protective wording with the risk it protects against more than the rules do."""
    return {f: d for f, d in decisions.items() if d.source != "classifier" or f not in protected}


def _normalise(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def fuse_risks(rule_scores: dict[str, float], probabilities: np.ndarray | None,
               thresholds: dict[str, float] | None) -> dict[str, Decision]:
    """Risk decisions for one clause: `rule_scores` maps family -> best rule confidence (already thresholded),
    `probabilities` is the clause's classifier row (or None), `thresholds` the per-family risk thresholds.
    `fuse_clause` then drops classifier-only decisions on families the clause never mentions."""
    decisions: dict[str, Decision] = {}
    for family in FAMILIES:
        rule = rule_scores.get(family)
        probability = None if probabilities is None else float(probabilities[RISK_COLUMNS[family]])
        # A clause the classifier reads as more protective than risky on this family is not flagged by it:
        # protective clauses share the risky ones' vocabulary, and this is where the two get confused.
        classifier_says = (
            probability is not None and probability >= max(thresholds[family], CLASSIFIER_FLOOR)
            and probability > float(probabilities[PROTECT_COLUMNS[family]])
        )
        if rule is not None and classifier_says:
            decisions[family] = Decision(family, round(1 - (1 - rule) * (1 - probability), 3), "both", probability)
        elif rule is not None:
            decisions[family] = Decision(family, rule, "pattern", probability)
        elif classifier_says:
            decisions[family] = Decision(family, round(probability, 3), "classifier", probability)
    return decisions
