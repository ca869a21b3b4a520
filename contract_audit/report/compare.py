"""Writers for a draft comparison: JSON, Markdown and self-contained HTML."""
from __future__ import annotations

import difflib
import json
from pathlib import PurePath

from ..compare import ClauseChange, Comparison, FindingChange, comparison_to_dict

FORMATS = ("json", "md", "html")


def render_comparison(comparison: Comparison, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(comparison_to_dict(comparison), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return render_markdown(comparison)
    if fmt == "html":
        return render_html(comparison)
    raise ValueError(f"unknown comparison format '{fmt}' (choose from {', '.join(FORMATS)})")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(kind, text) segments, kind one of equal, delete, insert, from a word-level diff."""
    a, b = old.split(), new.split()
    segments: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(("equal", " ".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            segments.append(("delete", " ".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            segments.append(("insert", " ".join(b[j1:j2])))
    return segments


def clause_label(clause) -> str:
    if clause is None:
        return "-"
    if clause.number:
        return clause.number
    return clause.heading or "(unnumbered)"


def where(change: FindingChange) -> str:
    old, new = change.old_clause, change.new_clause
    if old is None and new is None:
        return "whole contract"
    if old is not None and new is not None and clause_label(old) != clause_label(new):
        return f"clause {clause_label(old)} (now {clause_label(new)})"
    clause = new or old
    return f"clause {clause_label(clause)}, page {clause.page}"


def _summary(comparison: Comparison) -> list[str]:
    data = comparison_to_dict(comparison)["summary"]
    findings, clauses = data["findings"], data["clauses"]
    old, new = comparison.old, comparison.new
    return [
        f"Risk score {old.risk_score} ({old.grade}) → {new.risk_score} ({new.grade}).",
        f"Findings: {findings['resolved']} resolved, {findings['new']} new, {findings['remaining']} remaining.",
        "Clauses: " + ", ".join(f"{count} {status}" for status, count in clauses.items()) + ".",
    ]


def render_markdown(comparison: Comparison) -> str:
    old_name = PurePath(comparison.old.document.path).name
    new_name = PurePath(comparison.new.document.path).name
    lines = [f"# Draft comparison: {old_name} → {new_name}", ""] + _summary(comparison) + [""]
    for status, title in (("resolved", "Resolved findings"), ("new", "New findings"), ("remaining", "Remaining findings")):
        changes = comparison.finding_changes(status)
        lines += [f"## {title} ({len(changes)})", ""]
        for change in changes:
            finding = change.finding
            kind = " (missing protection)" if finding.kind == "missing" else ""
            lines.append(f"- **{finding.family}**, {finding.severity}{kind}: {finding.title}; {where(change)}")
        lines.append("")
    changed = [c for c in comparison.clauses if c.status != "unchanged"]
    lines += [f"## Changed clauses ({len(changed)})", ""]
    if changed:
        lines += ["| Old | New | Change | Similarity |", "|---|---|---|---:|"]
        for change in changed:
            similarity = "-" if change.status in ("added", "removed") else f"{change.similarity:.0f}"
            lines.append(f"| {clause_label(change.old)} | {clause_label(change.new)} | {_describe(change)} | {similarity} |")
        lines.append("")
    for change in changed:
        if change.status == "reworded":
            lines += [f"### {clause_label(change.old)} → {clause_label(change.new)}", "", _markdown_diff(change), ""]
        elif change.status in ("added", "removed"):
            clause = change.new or change.old
            lines += [f"### {change.status.title()}: {clause_label(clause)}", "", f"> {clause.text}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _describe(change: ClauseChange) -> str:
    flags = [name for name, on in (("reworded", change.reworded), ("moved", change.moved),
                                    ("renumbered", change.renumbered)) if on]
    if change.references_updated:
        flags.append("references updated")
    return ", ".join(flags) or change.status


def _markdown_diff(change: ClauseChange) -> str:
    out = []
    for kind, text in word_diff(change.old.text, change.new.text):
        out.append(f"~~{text}~~" if kind == "delete" else f"**{text}**" if kind == "insert" else text)
    return " ".join(out)


def render_html(comparison: Comparison) -> str:
    from .. import __version__
    from .html import _environment

    changed = [c for c in comparison.clauses if c.status != "unchanged"]
    return _environment().get_template("compare.html").render(
        comparison=comparison, summary=_summary(comparison), changed=changed, describe=_describe,
        label=clause_label, where=where, word_diff=word_diff, version=__version__,
    )
