"""Measure clause-level risk detection against a labelled JSON-lines file ({"text", "risk", "protects"})."""
from __future__ import annotations

import json
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
    families: list[FamilyScore]
    micro: FamilyScore
    protective_flagged: float  # share of protective clauses (no risk label) flagged with any risk
    ordinary_flagged: float  # share of clauses with neither risk nor protection labels flagged
    clean_flagged: float  # share of all clauses without a risk label flagged with any risk
    counts: dict


def load_labelled(path: str | Path) -> list[LabelledClause]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AuditError(f"{path}: cannot be read ({exc.strerror})") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            risk = frozenset(record.get("risk") or [])
            protects = frozenset(record.get("protects") or [])
            text = record["text"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise AuditError(f"{path}:{number}: not a labelled clause ({exc})") from None
        unknown = (risk | protects) - set(FAMILIES)
        if unknown:
            raise AuditError(f"{path}:{number}: unknown family '{sorted(unknown)[0]}'")
        items.append(LabelledClause(str(record.get("id", number)), text, risk, protects))
    return items


def _score(family: str, tp: int, fp: int, fn: int) -> FamilyScore:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return FamilyScore(family, precision, recall, f1, tp + fn, tp, fp, fn)


def score_predictions(gold: list[LabelledClause], predicted: list[set[str]]) -> Evaluation:
    per_family = []
    total_tp = total_fp = total_fn = 0
    for family in FAMILIES:
        tp = sum(1 for g, p in zip(gold, predicted) if family in g.risk and family in p)
        fp = sum(1 for g, p in zip(gold, predicted) if family not in g.risk and family in p)
        fn = sum(1 for g, p in zip(gold, predicted) if family in g.risk and family not in p)
        per_family.append(_score(family, tp, fp, fn))
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn
    protective = [p for g, p in zip(gold, predicted) if not g.risk and g.protects]
    ordinary = [p for g, p in zip(gold, predicted) if not g.risk and not g.protects]
    clean = protective + ordinary
    share = lambda group: sum(1 for p in group if p) / len(group) if group else 0.0  # noqa: E731
    return Evaluation(
        families=per_family, micro=_score("micro", total_tp, total_fp, total_fn),
        protective_flagged=share(protective), ordinary_flagged=share(ordinary), clean_flagged=share(clean),
        counts={"clauses": len(gold), "risky": len(gold) - len(clean), "protective": len(protective), "ordinary": len(ordinary)},
    )


def format_table(evaluation: Evaluation, title: str) -> str:
    lines = [f"### {title}", "", "| family | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for s in evaluation.families + [evaluation.micro]:
        name = "**micro**" if s.family == "micro" else s.family
        lines.append(f"| {name} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | {s.support} |")
    c = evaluation.counts
    lines += [
        "",
        f"Clauses: {c['clauses']} ({c['risky']} risky, {c['protective']} protective, {c['ordinary']} ordinary). "
        f"Flagged with any risk: {evaluation.protective_flagged:.1%} of protective, {evaluation.ordinary_flagged:.1%} "
        f"of ordinary, {evaluation.clean_flagged:.1%} of all non-risky clauses.",
        "",
    ]
    return "\n".join(lines)


def compare_systems(gold: list[LabelledClause], rule_auditor, probabilities=None, thresholds=None) -> dict[str, Evaluation]:
    """Rules alone, classifier alone and the fused system on the same clauses.

    `rule_auditor` is an Auditor without a model; `probabilities` (n, labels) and `thresholds` (a dict of
    family thresholds, or one such dict per clause for cross-validation) come from the classifier.
    """
    from .fusion import drop_where_protected, fuse_risks, keep_on_topic
    from .score import classifiable

    texts = [g.text for g in gold]
    rule_results = rule_auditor.classify(texts)
    rule_sets = [set(r.families) for r in rule_results]
    systems = {"rules alone": score_predictions(gold, rule_sets)}
    if probabilities is None:
        return systems
    per_clause = thresholds if isinstance(thresholds, list) else [thresholds] * len(gold)
    # The classifier judges only the clauses it would judge in a scan (see score.classifiable).
    rows = [row if classifiable(" ".join(t.split()), t) else None for row, t in zip(probabilities, texts)]
    classifier_sets = [set(fuse_risks({}, row, limits)) for row, limits in zip(rows, per_clause)]
    vocabulary = rule_auditor.vocabulary
    fused_sets = []
    for result, row, limits, text in zip(rule_results, rows, per_clause, texts):
        rule_scores = {f.family: f.confidence for f in result.findings}
        decisions = drop_where_protected(fuse_risks(rule_scores, row, limits), set(result.protects))
        fused_sets.append(set(keep_on_topic(decisions, text, vocabulary)))
    systems["classifier alone"] = score_predictions(gold, classifier_sets)
    systems["fused"] = score_predictions(gold, fused_sets)
    return systems


def format_side_by_side(systems: dict[str, Evaluation], title: str) -> str:
    names = list(systems)
    header = "| family | " + " | ".join(f"{n} P / R / F1" for n in names) + " | support |"
    lines = [f"### {title}", "", header, "|---|" + "---:|" * (len(names) + 1)]
    first = systems[names[0]]
    for index, family_score in enumerate(first.families + [first.micro]):
        cells = []
        for name in names:
            s = (systems[name].families + [systems[name].micro])[index]
            cells.append(f"{s.precision:.2f} / {s.recall:.2f} / {s.f1:.2f}")
        label = "**micro**" if family_score.family == "micro" else family_score.family
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {family_score.support} |")
    c = first.counts
    lines += ["", f"{c['clauses']} clauses ({c['risky']} risky, {c['protective']} protective, {c['ordinary']} ordinary). "
              "Share of non-risky clauses flagged with any risk (protective / ordinary / all):"]
    for name in names:
        e = systems[name]
        lines.append(f"- {name}: {e.protective_flagged:.1%} / {e.ordinary_flagged:.1%} / {e.clean_flagged:.1%}")
    return "\n".join(lines) + "\n"
