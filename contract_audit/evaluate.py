"""Measure clause-level detection against labelled JSON lines ({"text", "risk", "protects"}), on both sides:
risks found, and protections recognised. Cross-validation can be grouped by source document, so that no
document's clauses sit on both sides of a split."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import AuditError
from .model import FAMILIES


@dataclass(frozen=True)
class LabelledClause:
    id: str
    text: str
    risk: frozenset[str]
    protects: frozenset[str]
    group: str = ""  # the source document; clauses of one group stay on one side of a grouped split
    source: str = ""  # where the clause was taken from (a file or address), when the file says


@dataclass(frozen=True)
class Predicted:
    risk: frozenset[str]
    protects: frozenset[str]


@dataclass(frozen=True)
class FamilyScore:
    family: str
    precision: float
    recall: float
    f1: float
    support: int
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class Evaluation:
    families: list[FamilyScore]  # risk side
    micro: FamilyScore
    protection_families: list[FamilyScore]
    protection_micro: FamilyScore
    protective_flagged: float  # share of protective clauses (no risk label) flagged with any risk
    ordinary_flagged: float  # share of clauses with neither risk nor protection labels flagged
    clean_flagged: float  # share of all clauses without a risk label flagged with any risk
    counts: dict


def load_labelled(path: str | Path) -> list[LabelledClause]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            risk = frozenset(record.get("risk") or [])
            protects = frozenset(record.get("protects") or [])
            text = record["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise AuditError(f"{path}:{number}: not a labelled clause ({exc})") from None
        unknown = (risk | protects) - set(FAMILIES)
        if unknown:
            raise AuditError(f"{path}:{number}: unknown family '{sorted(unknown)[0]}'")
        group = str(record.get("doc") or record.get("source") or "")
        items.append(LabelledClause(str(record.get("id", number)), text, risk, protects, group,
                                    str(record.get("source") or "")))
    return items


def normalised(text: str) -> str:
    """The form in which two copies of one clause compare equal (case, spacing and punctuation aside)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _score(family: str, tp: int, fp: int, fn: int) -> FamilyScore:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return FamilyScore(family, precision, recall, f1, tp + fn, tp, fp, fn)


def _side(gold_sets: list[frozenset[str]], predicted_sets: list[frozenset[str]]) -> tuple[list[FamilyScore], FamilyScore]:
    per_family = []
    total_tp = total_fp = total_fn = 0
    for family in FAMILIES:
        tp = sum(1 for g, p in zip(gold_sets, predicted_sets) if family in g and family in p)
        fp = sum(1 for g, p in zip(gold_sets, predicted_sets) if family not in g and family in p)
        fn = sum(1 for g, p in zip(gold_sets, predicted_sets) if family in g and family not in p)
        per_family.append(_score(family, tp, fp, fn))
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn
    return per_family, _score("micro", total_tp, total_fp, total_fn)


def score_predictions(gold: list[LabelledClause], predicted: list[Predicted]) -> Evaluation:
    families, micro = _side([g.risk for g in gold], [p.risk for p in predicted])
    protection_families, protection_micro = _side([g.protects for g in gold], [p.protects for p in predicted])
    protective = [p.risk for g, p in zip(gold, predicted) if not g.risk and g.protects]
    ordinary = [p.risk for g, p in zip(gold, predicted) if not g.risk and not g.protects]
    clean = protective + ordinary
    share = lambda group: sum(1 for p in group if p) / len(group) if group else 0.0  # noqa: E731
    return Evaluation(
        families=families, micro=micro, protection_families=protection_families, protection_micro=protection_micro,
        protective_flagged=share(protective), ordinary_flagged=share(ordinary), clean_flagged=share(clean),
        counts={"clauses": len(gold), "risky": len(gold) - len(clean), "protective": len(protective),
                "ordinary": len(ordinary)},
    )


@dataclass(frozen=True)
class ClassifierView:
    """What the classifier says about each clause: probability rows (None where it may not judge a clause)
    and the thresholds to apply, one dict per clause (cross-validation folds choose their own)."""

    rows: list
    risk_thresholds: list[dict[str, float]]
    protect_thresholds: list[dict[str, float]]


def compare_systems(gold: list[LabelledClause], rule_auditor, view: ClassifierView | None = None) -> dict[str, Evaluation]:
    """Rules alone, classifier alone and the fused system (as a scan decides) on the same clauses.

    `rule_auditor` is an Auditor without a model; `view` carries the classifier's probabilities."""
    from .fusion import fuse_clause

    texts = [g.text for g in gold]
    rule_results = rule_auditor.classify(texts)
    systems = {"rules alone": score_predictions(gold, [Predicted(frozenset(r.families), frozenset(r.protects))
                                                       for r in rule_results])}
    if view is None:
        return systems
    vocabulary = rule_auditor.vocabulary
    classifier_alone, fused = [], []
    for result, row, risk_limits, protect_limits, text in zip(
            rule_results, view.rows, view.risk_thresholds, view.protect_thresholds, texts):
        alone = fuse_clause({}, set(), row, risk_limits, protect_limits, text, vocabulary, words=rule_auditor.protection_words)
        classifier_alone.append(Predicted(frozenset(alone.risks), frozenset(alone.protects)))
        rule_scores = {f.family: f.confidence for f in result.findings if f.source != "classifier"}
        both = fuse_clause(rule_scores, set(result.protects), row, risk_limits, protect_limits, text, vocabulary,
                           words=rule_auditor.protection_words)
        fused.append(Predicted(frozenset(both.risks), frozenset(both.protects)))
    systems["classifier alone"] = score_predictions(gold, classifier_alone)
    systems["fused"] = score_predictions(gold, fused)
    return systems


def classifier_view(model, texts: list[str], policy=None) -> ClassifierView:
    """The shipped (or given) model's view of free-standing clauses, with its own thresholds."""
    from .fusion import protect_thresholds, risk_thresholds
    from .score import classifiable

    from .features import with_role_words

    probabilities = model.predict_proba([with_role_words(t) for t in texts])
    rows = [row if classifiable(" ".join(t.split()), t) else None for row, t in zip(probabilities, texts)]
    return ClassifierView(rows, [risk_thresholds(model, policy)] * len(texts), [protect_thresholds(model)] * len(texts))


def format_side_by_side(systems: dict[str, Evaluation], title: str) -> str:
    names = list(systems)
    lines = [f"### {title}", ""]
    for side, label in (("risk", "Risks found"), ("protection", "Protections recognised")):
        lines += [f"{label}:", "", "| family | " + " | ".join(f"{n} P / R / F1" for n in names) + " | support |",
                  "|---|" + "---:|" * (len(names) + 1)]
        first = systems[names[0]]
        rows = _rows(first, side)
        for index, family_score in enumerate(rows):
            cells = []
            for name in names:
                s = _rows(systems[name], side)[index]
                cells.append(f"{s.precision:.2f} / {s.recall:.2f} / {s.f1:.2f}")
            label_cell = "**micro**" if family_score.family == "micro" else family_score.family
            lines.append(f"| {label_cell} | " + " | ".join(cells) + f" | {family_score.support} |")
        lines.append("")
    c = systems[names[0]].counts
    lines += [f"{c['clauses']} clauses ({c['risky']} risky, {c['protective']} protective, {c['ordinary']} ordinary). "
              "Share of non-risky clauses flagged with any risk (protective / ordinary / all):"]
    for name in names:
        e = systems[name]
        lines.append(f"- {name}: {e.protective_flagged:.1%} / {e.ordinary_flagged:.1%} / {e.clean_flagged:.1%}")
    return "\n".join(lines) + "\n"


def _rows(evaluation: Evaluation, side: str) -> list[FamilyScore]:
    if side == "risk":
        return evaluation.families + [evaluation.micro]
    return evaluation.protection_families + [evaluation.protection_micro]
