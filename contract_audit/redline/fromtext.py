"""A clean DOCX of an extracted contract (PDF, text, Markdown input), one paragraph per clause.

Numbers are typed ("6.2<TAB>text") with hanging indents by level and headings are bold, so the clause
references in the redline are those of the audit. The text flows freely: its pages are not the original's.
"""
from __future__ import annotations

import io
import re
from pathlib import PurePath

from ..model import Clause, Document, Report

_INDENT_CM = 0.9
_SENTENCE_BREAK = re.compile(r"[.:;]\s*$")


def build_docx(report: Report) -> bytes:
    from docx.shared import Cm

    from .ooxml import new_a4_document

    # Times New Roman: LibreOffice shows the metric-compatible Liberation Serif
    document = new_a4_document(PurePath(report.document.path).name, landscape=False, side_margin_cm=2.5,
                               top_margin_cm=2.2, font="Times New Roman", size_pt=10.5, space_after_pt=5)
    section = document.sections[0]
    section.header.paragraphs[0].text = f"{PurePath(report.document.path).name} (text extracted by contract-audit)"
    covered = 0
    for clause in report.clauses:
        # Lines the clause splitter left outside every clause (a title wrapped over two lines) stay in.
        gap = [(text, False, 0, "") for text in _blocks(report.document.text[covered:clause.start])]
        covered = max(covered, clause.end)
        for text, bold, level, typed in gap + clause_paragraphs(report.document, clause):
            paragraph = document.add_paragraph()
            if level:
                paragraph.paragraph_format.left_indent = Cm(_INDENT_CM * level)
                paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(_INDENT_CM * level))
            if typed:
                paragraph.paragraph_format.first_line_indent = Cm(-_INDENT_CM)
                paragraph.add_run(typed + "\t").bold = bold
            paragraph.add_run(text).bold = bold
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def clause_paragraphs(document: Document, clause: Clause) -> list[tuple[str, bool, int, str]]:
    """(text, bold, indent level, typed number) for each paragraph one clause is written as."""
    raw = document.text[clause.start:clause.end]
    if not clause.number and not clause.heading:
        return [(text, False, 0, "") for text in _blocks(raw)]
    flat = " ".join(raw.split())
    out: list[tuple[str, bool, int, str]] = []
    heading = clause.heading
    if heading and flat.startswith(heading) and clause.number:
        # A heading line above the numbered line ("RECITALS" over "(A) The City ..."): its own paragraph.
        out.append((heading, True, 0, ""))
        flat, heading = flat[len(heading):].strip(), ""
    lead = (heading or clause.text)[:20]
    position = flat.find(lead) if lead else -1
    label = flat[:position].strip() if position > 0 else ""
    level = max(1, clause.level) if label else 0
    if heading:
        out.append((heading, True, level, label))
    if clause.text:
        out.append((clause.text, False, level, "" if heading else label))
    return out


def _blocks(raw: str) -> list[str]:
    """Unnumbered text as paragraphs: blank lines separate them, and so does a line ending a sentence."""
    blocks, current = [], []
    for line in raw.split("\n"):
        if not line.strip():
            if current:
                blocks.append(" ".join(current))
                current = []
            continue
        current.append(line.strip())
        if _SENTENCE_BREAK.search(line) or line.strip().isupper():
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks
