"""Combine rule evidence and classifier probabilities into one decision per clause and family.

- rule and classifier agree: source "both", confidence 1 - (1 - rule) * (1 - classifier);
- rule alone: source "pattern", the rule's confidence;
- classifier alone (probability at or above the family threshold, and above the clause's probability of
  protecting the same family): source "classifier", its probability, explained by the terms that
  contributed most.
Family thresholds come from the model card (chosen on cross-validation) and can be overridden per family
with `thresholds:` in a policy file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classifier import LABELS, ClauseModel
from .model import FAMILIES
from .rules import Policy

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


def fuse_risks(rule_scores: dict[str, float], probabilities: np.ndarray | None,
               thresholds: dict[str, float] | None) -> dict[str, Decision]:
    """Risk decisions for one clause: `rule_scores` maps family -> best rule confidence (already thresholded),
    `probabilities` is the clause's classifier row (or None), `thresholds` the per-family risk thresholds."""
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
