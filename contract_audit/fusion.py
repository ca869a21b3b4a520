"""Combine rule evidence and classifier probabilities into one decision per clause and family.

- rule and classifier agree: source "both", confidence 1 - (1 - rule) * (1 - classifier);
- rule alone: source "pattern", the rule's confidence;
- classifier alone (probability at or above the family threshold, above the clause's probability of
  protecting the same family, no rule reads the clause as protecting that family, and the clause mentions
  the family's subject: one of its topic words or of its rules' anchor phrases): source "classifier", its
  probability, explained by the terms that contributed most.
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


def keep_on_topic(decisions: dict[str, Decision], text: str, vocabulary: dict[str, frozenset[str]]) -> dict[str, Decision]:
    """Drop classifier-only decisions for families whose subject `text` never mentions."""
    if all(decision.source != "classifier" for decision in decisions.values()):
        return decisions
    mentioned = topics(text, vocabulary)
    return {f: d for f, d in decisions.items() if d.source != "classifier" or f in mentioned}


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
    Apply `keep_on_topic` to the result to drop classifier-only decisions on families the clause never
    mentions."""
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
