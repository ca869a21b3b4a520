"""Compare two drafts of a contract: align their clauses, then say which findings were resolved, are new or remain.

Clauses are aligned in three passes:
1. identical wording (cross-references such as "Clause 6.2" ignored), in reading order, wherever the
   clause now sits: this catches renumbered and moved clauses;
2. similar wording (rapidfuzz ratio of at least REWORDED_SIMILARITY): reworded clauses;
3. between two aligned neighbours, what is left on both sides with some likeness
   (at least GAP_SIMILARITY): a clause rewritten in place.
A finding remains when the new draft has a finding of the same family (and kind) on the aligned clause.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from .model import Clause, Finding, Report

SCHEMA_VERSION = 1
REWORDED_SIMILARITY = 70.0
GAP_SIMILARITY = 40.0
_REFERENCE = re.compile(
    r"\b(?P<kw>clauses?|sections?|articles?|sub-clauses?|paragraphs?)\s+(?P<num>\d+(?:\.\d+)*(?:\([a-z0-9]+\))*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ClauseChange:
    status: str  # unchanged | renumbered | moved | reworded | added | removed
    old: Clause | None
    new: Clause | None
    similarity: float  # 0-100, of the wording
    renumbered: bool = False
    moved: bool = False
    reworded: bool = False
    references_updated: bool = False  # only cross-references changed, consistently with the renumbering


@dataclass(frozen=True)
class FindingChange:
    status: str  # resolved | new | remaining
    old: Finding | None
    new: Finding | None
    old_clause: Clause | None = None  # where the finding is (or was) in each draft, by clause alignment
    new_clause: Clause | None = None

    @property
    def finding(self) -> Finding:
        return self.new or self.old


@dataclass
class Comparison:
    old: Report
    new: Report
    clauses: list[ClauseChange] = field(default_factory=list)
    findings: list[FindingChange] = field(default_factory=list)

    def clause_changes(self, *statuses: str) -> list[ClauseChange]:
        return [c for c in self.clauses if c.status in statuses]

    def finding_changes(self, status: str) -> list[FindingChange]:
        return [f for f in self.findings if f.status == status]


def compare_reports(old: Report, new: Report) -> Comparison:
    pairs = align_clauses(old.clauses, new.clauses)
    changes = describe_changes(old.clauses, new.clauses, pairs)
    return Comparison(old, new, changes, compare_findings(old, new, pairs))


def compare_files(old_path, new_path, auditor=None) -> Comparison:
    from .api import Auditor

    auditor = auditor or Auditor()
    return compare_reports(auditor.audit(old_path), auditor.audit(new_path))


# ---------------------------------------------------------------------------------------------------
# Clause alignment

def wording(clause: Clause) -> str:
    """What a clause says, for comparison: heading and text, case and spacing folded, references masked."""
    text = f"{clause.heading} {clause.text}".lower()
    return " ".join(_REFERENCE.sub(lambda m: f"{m.group('kw')} #", text).split())


def align_clauses(old: list[Clause], new: list[Clause]) -> dict[int, int]:
    """Old clause index -> new clause index for every clause found again in the new draft."""
    from rapidfuzz import fuzz, process

    old_words = [wording(c) for c in old]
    new_words = [wording(c) for c in new]
    pairs: dict[int, int] = {}
    by_words: dict[str, list[int]] = {}
    for index, words in enumerate(new_words):
        by_words.setdefault(words, []).append(index)
    for index, words in enumerate(old_words):
        candidates = by_words.get(words)
        if candidates:
            pairs[index] = candidates.pop(0)
    free_old = [i for i in range(len(old)) if i not in pairs]
    taken = set(pairs.values())
    free_new = [j for j in range(len(new)) if j not in taken]
    if free_old and free_new:
        scores = process.cdist([old_words[i] for i in free_old], [new_words[j] for j in free_new],
                               scorer=fuzz.ratio, score_cutoff=REWORDED_SIMILARITY)
        candidates = sorted(((scores[a][b], -abs(free_old[a] - free_new[b]), free_old[a], free_new[b])
                             for a in range(len(free_old)) for b in range(len(free_new)) if scores[a][b]),
                            reverse=True)
        for _, _, i, j in candidates:
            if i not in pairs and j not in taken:
                pairs[i] = j
                taken.add(j)
    _pair_gaps(old_words, new_words, pairs)
    return pairs


def _pair_gaps(old_words: list[str], new_words: list[str], pairs: dict[int, int]) -> None:
    """Pair what is left between two aligned neighbours, in order, when the wording is at all alike."""
    from rapidfuzz import fuzz

    taken = set(pairs.values())
    anchors = sorted((i, j) for i, j in pairs.items())
    bounds = [(-1, -1)] + anchors + [(len(old_words), len(new_words))]
    for (i0, j0), (i1, j1) in zip(bounds, bounds[1:]):
        if j1 <= j0:
            continue  # a moved clause: no gap to speak of
        left_new = [j for j in range(j0 + 1, j1) if j not in taken]
        for i in range(i0 + 1, i1):
            if i in pairs or not left_new:
                continue
            best = max(left_new, key=lambda j: fuzz.ratio(old_words[i], new_words[j]))
            if fuzz.ratio(old_words[i], new_words[best]) >= GAP_SIMILARITY:
                pairs[i] = best
                taken.add(best)
                left_new = [j for j in left_new if j > best]


def describe_changes(old: list[Clause], new: list[Clause], pairs: dict[int, int]) -> list[ClauseChange]:
    """One change per clause of either draft, in the new draft's order (removed clauses where they were)."""
    from rapidfuzz import fuzz

    in_order = _longest_increasing(sorted(pairs.items()))
    numbers = {old[i].number: new[j].number for i, j in pairs.items() if old[i].number and new[j].number}
    by_new: dict[int, ClauseChange] = {}
    for i, j in pairs.items():
        a, b = old[i], new[j]
        same = wording(a) == wording(b)
        raw_same = f"{a.heading} {a.text}" == f"{b.heading} {b.text}"
        references_updated = same and not raw_same and _renumber_references(a, numbers) == f"{b.heading} {b.text}"
        reworded = not raw_same and not references_updated
        renumbered = a.number != b.number
        moved = (i, j) not in in_order
        status = "reworded" if reworded else "moved" if moved else "renumbered" if renumbered else "unchanged"
        similarity = 100.0 if not reworded else round(fuzz.ratio(wording(a), wording(b)), 1)
        by_new[j] = ClauseChange(status, a, b, similarity, renumbered, moved, reworded, references_updated)
    changes: list[ClauseChange] = []
    removed = {i for i in range(len(old)) if i not in pairs}
    # Removed clauses go after the new position of their nearest aligned predecessor.
    after: dict[int, list[int]] = {}
    for i in sorted(removed):
        previous = max((k for k in pairs if k < i), default=None)
        after.setdefault(pairs[previous] if previous is not None else -1, []).append(i)
    for i in after.get(-1, []):
        changes.append(ClauseChange("removed", old[i], None, 0.0))
    for j, clause in enumerate(new):
        changes.append(by_new.get(j) or ClauseChange("added", None, clause, 0.0))
        for i in after.get(j, []):
            changes.append(ClauseChange("removed", old[i], None, 0.0))
    return changes


def _renumber_references(clause: Clause, numbers: dict[str, str]) -> str:
    def swap(match: re.Match) -> str:
        return f"{match.group('kw')} {numbers.get(match.group('num'), match.group('num'))}"

    return _REFERENCE.sub(swap, f"{clause.heading} {clause.text}")


def _longest_increasing(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The largest set of aligned pairs that kept their relative order; the others moved."""
    tails: list[int] = []
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        position = bisect_left(tails, j)
        if position == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[position] = j
            tail_index[position] = index
        previous[index] = tail_index[position - 1] if position else -1
    keep, index = set(), tail_index[-1] if tail_index else -1
    while index >= 0:
        keep.add(pairs[index])
        index = previous[index]
    return keep


# ---------------------------------------------------------------------------------------------------
# Findings

def compare_findings(old: Report, new: Report, pairs: dict[int, int]) -> list[FindingChange]:
    old_index = {clause.id: index for index, clause in enumerate(old.clauses)}
    new_index = {clause.id: index for index, clause in enumerate(new.clauses)}
    back = {j: i for i, j in pairs.items()}
    new_ids = [clause.id for clause in new.clauses]
    unmatched_new = list(new.findings)
    changes: list[FindingChange] = []
    for finding in old.findings:
        partner = _partner(finding, unmatched_new, old_index, new_ids, pairs)
        clause = finding.clause
        if partner is None:
            aligned = pairs.get(old_index.get(clause.id, -1)) if clause else None
            now = new.clauses[aligned] if aligned is not None else None
            changes.append(FindingChange("resolved", finding, None, clause, now))
        else:
            unmatched_new.remove(partner)
            changes.append(FindingChange("remaining", finding, partner, clause, partner.clause))
    for finding in unmatched_new:
        clause = finding.clause
        before = back.get(new_index.get(clause.id, -1)) if clause else None
        changes.append(FindingChange("new", None, finding, old.clauses[before] if before is not None else None, clause))
    return changes


def _partner(finding: Finding, candidates: list[Finding], old_index, new_ids, pairs) -> Finding | None:
    same_kind = [f for f in candidates if f.family == finding.family and f.kind == finding.kind]
    if finding.clause is None:
        return next(iter(same_kind), None)
    aligned = pairs.get(old_index.get(finding.clause.id, -1))
    if aligned is None:
        return None
    on_clause = [f for f in same_kind if f.clause is not None and f.clause.id == new_ids[aligned]]
    same_rule = [f for f in on_clause if f.rule_id == finding.rule_id]
    return next(iter(same_rule or on_clause), None)


# ---------------------------------------------------------------------------------------------------
# JSON

def _clause_ref(clause: Clause | None) -> dict | None:
    if clause is None:
        return None
    return {"id": clause.id, "number": clause.number, "heading": clause.heading, "page": clause.page}


def _finding_dict(change: FindingChange) -> dict:
    finding = change.finding
    return {
        "status": change.status, "family": finding.family, "kind": finding.kind, "severity": finding.severity,
        "rule_id": finding.rule_id, "title": finding.title,
        "old_clause": _clause_ref(change.old_clause),
        "new_clause": _clause_ref(change.new_clause),
        "text": finding.match.text if finding.match else None,
    }


def comparison_to_dict(comparison: Comparison) -> dict:
    def document(report: Report) -> dict:
        return {"path": report.document.path, "sha256": report.document.sha256, "format": report.document.format,
                "clause_count": len(report.clauses), "risk": report.risk_score, "grade": report.grade}

    statuses = ("unchanged", "renumbered", "moved", "reworded", "added", "removed")
    return {
        "schema_version": SCHEMA_VERSION,
        "old": document(comparison.old),
        "new": document(comparison.new),
        "summary": {
            "findings": {s: len(comparison.finding_changes(s)) for s in ("resolved", "new", "remaining")},
            "clauses": {s: len(comparison.clause_changes(s)) for s in statuses},
        },
        "findings": [_finding_dict(change) for change in comparison.findings],
        "clauses": [
            {
                "status": c.status,
                "old": _clause_ref(c.old), "new": _clause_ref(c.new),
                "similarity": c.similarity, "renumbered": c.renumbered, "moved": c.moved,
                "reworded": c.reworded, "references_updated": c.references_updated,
                "old_text": c.old.text if c.old and c.status in ("reworded", "removed") else None,
                "new_text": c.new.text if c.new and c.status in ("reworded", "added") else None,
            }
            for c in comparison.clauses if c.status != "unchanged"
        ],
    }
