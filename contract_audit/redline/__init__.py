"""Redlined DOCX: the vendor's document with a comment on every finding and tracked changes that fix it.

`redline(report, source)` takes an audit Report and the bytes it was made from. A DOCX is edited in
place (nothing else in it changes: styles, numbering, tables, headers and footers stay); a PDF or text
contract first becomes a clean DOCX of its extracted clauses. Then:

- each risky clause gets a Word comment (family, severity, why it matters, what to ask for, fallback)
  and a tracked replacement of its risky wording by the rule's recommended language;
- each missing protection is inserted as a tracked new numbered clause at the end of the section that
  deals with it, or in an annex at the end, with a comment.

Output is reproducible: fixed author, revision date and ZIP timestamps.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import AuditError
from ..model import Finding, Report
from .ooxml import (
    Revisions, anchor_comment, body_child, delete_runs, fix_zip_dates, inserted_paragraph, inserted_run,
    resolve_revisions, runs_in_order, split_before, w,
)
from .plan import NewClause, Replacement, clause_language, comment_text, plan_new_clauses, plan_replacements
from .textmap import BodyText, Located, body_text, compact_offset, locate_clauses, real_sources

AUTHOR = "contract-audit"
INITIALS = "CA"
REVISION_DATE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
ANNEX_TITLE = "DIGITAL SOVEREIGNTY SAFEGUARDS"

__all__ = ["RedlineResult", "redline", "redline_file", "accept_all", "reject_all", "AUTHOR", "REVISION_DATE"]


@dataclass(frozen=True)
class RedlineResult:
    docx: bytes
    comments: int
    replacements: int
    insertions: int
    unplaced: tuple[Finding, ...]  # findings whose clause could not be found again in the document


def redline_file(path: str | Path, auditor=None) -> tuple[Report, RedlineResult]:
    """Audit a contract file and redline it."""
    from ..api import Auditor

    report = (auditor or Auditor()).audit(path)
    data = Path(path).read_bytes() if report.document.format == "docx" else None
    return report, redline(report, data)


def redline(report: Report, source: bytes | None = None, author: str = AUTHOR,
            date: dt.datetime = REVISION_DATE) -> RedlineResult:
    """Redline the document the report was made from (`source`: its bytes; needed for a DOCX)."""
    import docx

    if report.document.format == "docx":
        if source is None:
            raise AuditError(f"{report.document.path}: the original DOCX is needed to redline it")
        if hashlib.sha256(source).hexdigest() != report.document.sha256:
            raise AuditError(f"{report.document.path}: the report was made from a different file")
        data = source
    else:
        from .fromtext import build_docx

        data = build_docx(report)
    document = docx.Document(io.BytesIO(data))
    editor = _Editor(document, body_text(document), author, date)
    located = locate_clauses(editor.body, report.document, report.clauses)
    unplaced: list[Finding] = []
    replacements = 0
    # Last first: splitting runs only disturbs characters after the split point, which are done by then.
    for replacement in reversed(plan_replacements(report)):
        if editor.replace(replacement, located.get(replacement.clause.id)):
            replacements += 1
        else:
            unplaced.extend(replacement.findings)
    insertions = 0
    annex: list[NewClause] = []
    for new in plan_new_clauses(report):
        if new.after is not None and editor.insert_clause(new, located.get(new.after.id), located.get(new.sibling.id)):
            insertions += 1
        else:
            annex.append(new)
    if annex:
        editor.insert_annex(annex, _annex_letter(report))
        insertions += len(annex)
    editor.write_comments()
    out = io.BytesIO()
    document.save(out)
    return RedlineResult(fix_zip_dates(out.getvalue()), editor.comments, replacements, insertions, tuple(unplaced))


def accept_all(docx_bytes: bytes) -> bytes:
    """The document as it reads once every tracked change is accepted."""
    return fix_zip_dates(resolve_revisions(docx_bytes, accept=True))


def reject_all(docx_bytes: bytes) -> bytes:
    """The document as it reads once every tracked change is rejected (the original text)."""
    return fix_zip_dates(resolve_revisions(docx_bytes, accept=False))


class _Editor:
    """Applies planned changes to one python-docx document and numbers its revisions and comments."""

    def __init__(self, document, body: BodyText, author: str, date: dt.datetime):
        self.document = document
        self.body = body
        self.author = author
        self.date = date
        self.revisions = Revisions.for_body(document.element, author, date.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.comments = 0
        self._after: dict[int, object] = {}  # body element -> last paragraph inserted after it
        self._pending: list[tuple[Finding, object, object]] = []  # comments to write: finding, first, last

    def comment(self, finding: Finding, first, last) -> None:
        self._pending.append((finding, first, last))

    def write_comments(self) -> None:
        """Create the comments in reading order, so that their ids follow the document."""
        order = {node: index for index, node in enumerate(self.document.element.body.iter())}
        for finding, first, last in sorted(self._pending, key=lambda item: order.get(item[1], 0)):
            comment = self.document.comments.add_comment(text="", author=self.author, initials=INITIALS)
            comment._comment_elm.date = self.date
            for index, (text, bold) in enumerate(comment_text(finding)):
                paragraph = comment.paragraphs[0] if index == 0 else comment.add_paragraph()
                paragraph.add_run(text).bold = bold or None
            anchor_comment(first, last, comment.comment_id)
            self.comments += 1
        self._pending = []

    def replace(self, replacement: Replacement, located: Located | None) -> bool:
        if located is None:
            return False
        clause = replacement.clause
        start = located.text_start + compact_offset(clause.text, replacement.start)
        end = located.text_start + compact_offset(clause.text, replacement.end)
        # Only the paragraphs the risky wording is in: a clause's other paragraphs stay as they are.
        wording = set()
        for finding in replacement.findings:
            match = finding.match
            if match is not None:
                a = located.text_start + compact_offset(clause.text, match.start)
                b = located.text_start + compact_offset(clause.text, match.end)
                wording.update(s.paragraph for s in real_sources(self.body, a, b))
        sources = [s for s in real_sources(self.body, start, end) if not wording or s.paragraph in wording]
        if not sources:
            return False
        groups: dict[int, list] = {}
        for source in sources:
            groups.setdefault(source.paragraph, []).append(source)
        for paragraph_index, group in groups.items():
            editable = runs_in_order(self.body.paragraphs[paragraph_index])
            if any(source.t.getparent() not in editable for source in group):
                return False  # wording inside a text box or another run: left to the reader, with its finding listed
        deletions = []
        for paragraph_index in sorted(groups, reverse=True):
            group = groups[paragraph_index]
            deletions.insert(0, self._delete(self.body.paragraphs[paragraph_index], group[0], group[-1]))
        runs, wrappers = deletions[0]
        insertion = inserted_run(replacement.text, self.revisions, runs[0].find(w("rPr")))
        # The proposed wording comes first, so the clause reads as the City wants it; the struck text follows.
        wrappers[0].addprevious(insertion)
        for finding in replacement.findings:
            self.comment(finding, insertion, deletions[-1][1][-1])
        return True

    def _delete(self, paragraph, first, last) -> tuple[list, list]:
        """Delete the text from source `first` to source `last` (inclusive) of one paragraph."""
        split_before(last.t, last.index + 1)
        start_run = split_before(first.t, first.index)
        end_run = start_run if (first.t is last.t and first.index > 0) else last.t.getparent()
        runs = runs_in_order(paragraph)
        chosen = runs[runs.index(start_run):runs.index(end_run) + 1]
        return chosen, delete_runs(chosen, self.revisions)

    def insert_clause(self, new: NewClause, after: Located | None, sibling: Located | None) -> bool:
        if after is None or sibling is None:
            return False
        last = real_sources(self.body, after.start, after.end)
        if not last:
            return False
        body = self.document.element.body
        anchor = body_child(self.body.paragraphs[last[-1].paragraph], body)
        template = self.body.paragraphs[self.body.sources[sibling.start].paragraph]
        if template.getparent() is not body:
            return False
        text = " ".join(clause_language(new.finding.recommendation))
        if self.body.labels.get(template):
            pieces = [(text, False)]  # Word numbers it: same list and level as its sibling
        else:
            typed_tab = any(run.find(w("tab")) is not None for run in runs_in_order(template))
            separator = "\t" if typed_tab else " "
            pieces = [(new.number + separator + text, False)]
        first_run = next(iter(runs_in_order(template)), None)
        properties = first_run.find(w("rPr")) if first_run is not None else None
        paragraph = inserted_paragraph(template.find(w("pPr")), self.revisions, pieces, properties)
        self._after.get(id(anchor), anchor).addnext(paragraph)
        self._after[id(anchor)] = paragraph
        self._comment_paragraph(new.finding, paragraph)
        return True

    def insert_annex(self, new_clauses: list[NewClause], letter: str) -> None:
        body = self.document.element.body
        sect_pr = body.find(w("sectPr"))
        heading = inserted_paragraph(None, self.revisions, [(f"ANNEX {letter} - {ANNEX_TITLE}", True)])
        heading.find(w("pPr")).insert(0, _page_break_before())
        note = inserted_paragraph(None, self.revisions, [(
            "Protective clauses proposed by the City for subjects on which the draft is silent.", False)])
        paragraphs = [heading, note]
        for number, new in enumerate(new_clauses, 1):
            text = " ".join(clause_language(new.finding.recommendation))
            paragraphs.append(inserted_paragraph(_hanging_indent(), self.revisions, [(f"{number}.\t{text}", False)]))
        for paragraph in paragraphs:
            if sect_pr is not None:
                sect_pr.addprevious(paragraph)
            else:
                body.append(paragraph)
        for new, paragraph in zip(new_clauses, paragraphs[2:]):
            self._comment_paragraph(new.finding, paragraph)

    def _comment_paragraph(self, finding: Finding, paragraph) -> None:
        insertions = [child for child in paragraph if child.tag == w("ins")]
        self.comment(finding, insertions[0], insertions[-1])


def _hanging_indent():
    from lxml import etree

    ppr = etree.Element(w("pPr"))
    indent = etree.SubElement(ppr, w("ind"))
    indent.set(w("left"), "720")
    indent.set(w("hanging"), "720")
    return ppr


def _page_break_before():
    from lxml import etree

    return etree.Element(w("pageBreakBefore"))


def _annex_letter(report: Report) -> str:
    used = {clause.number.split()[1] for clause in report.clauses
            if clause.number.lower().startswith("annex ") and len(clause.number.split()) > 1}
    return next(letter for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if letter not in used)
