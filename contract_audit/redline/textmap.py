"""Find a clause of the audited text again in the DOCX body it was read from.

The DOCX reader flattens the body (list labels prepended, table cells joined with " | ", page furniture
removed, whitespace changed). This module rebuilds the same reading order from the XML, keeping for
every non-space character the w:t element and index it came from, and locates each clause by its
text with the whitespace ignored. Characters the reader made up (list labels, cell separators) have no
source and are never edited.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ingest.docx import visible_nodes
from ..model import Clause, Document
from .ooxml import w

# Window (in characters) searched around the expected position when a clause's text is not found exactly.
_FUZZY_WINDOW = 4000
_FUZZY_CUTOFF = 85


@dataclass(frozen=True)
class Source:
    """Where one visible character comes from: paragraph index, w:t element (None if synthetic) and index."""

    paragraph: int
    t: object | None
    index: int


@dataclass
class BodyText:
    compact: str  # the body's non-whitespace characters in the reader's order
    sources: list[Source]
    paragraphs: list  # w:p elements, top-level and in table cells, in reading order
    labels: dict  # w:p element -> visible list label ("" when none)


@dataclass(frozen=True)
class Located:
    """A clause found in the body: compact offsets of its whole region and of its text (after number and heading)."""

    clause: Clause
    start: int
    end: int
    text_start: int
    exact: bool


@dataclass
class _Builder:
    chars: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    paragraphs: list = field(default_factory=list)

    def synthetic(self, text: str, paragraph: int) -> None:
        for char in text:
            if not char.isspace():
                self.chars.append(char)
                self.sources.append(Source(paragraph, None, 0))

    def paragraph(self, p) -> int:
        index = len(self.paragraphs)
        self.paragraphs.append(p)
        return index

    def text_of(self, p, index: int) -> None:
        for t in visible_nodes(p, w("t")):
            for position, char in enumerate(t.text or ""):
                if not char.isspace():
                    self.chars.append(char)
                    self.sources.append(Source(index, t, position))


def body_text(document) -> BodyText:
    """Rebuild the reader's view of a python-docx document's body, character by character."""
    from ..ingest.docx import body_blocks, paragraph_labels

    labels = paragraph_labels(document)
    builder = _Builder()
    for block in body_blocks(document.element.body):
        if block.tag == w("p"):
            index = builder.paragraph(block)
            builder.synthetic(labels.get(block, ""), index)
            builder.text_of(block, index)
        elif block.tag == w("tbl"):
            for row in block.iter(w("tr")):
                first_cell = True
                for cell in row.iter(w("tc")):
                    cell_paragraphs = list(cell.iter(w("p")))
                    if not any((t.text or "").strip() for p in cell_paragraphs for t in visible_nodes(p, w("t"))):
                        continue
                    for p in cell_paragraphs:
                        index = builder.paragraph(p)
                        if not first_cell and p is cell_paragraphs[0]:
                            builder.synthetic("|", index)
                        builder.text_of(p, index)
                    first_cell = False
    return BodyText("".join(builder.chars), builder.sources, builder.paragraphs, labels)


def compact(text: str) -> str:
    return "".join(text.split())


def compact_offset(text: str, offset: int) -> int:
    """How many non-whitespace characters of `text` come before `offset`."""
    return sum(1 for char in text[:offset] if not char.isspace())


def locate_clauses(body: BodyText, document: Document, clauses: list[Clause]) -> dict[str, Located]:
    """Find every clause in the body, in reading order; clauses that cannot be found are left out."""
    located: dict[str, Located] = {}
    cursor = 0
    for clause in clauses:
        region = compact(document.text[clause.start:clause.end])
        if not region:
            continue
        start, exact = _find(body.compact, region, cursor)
        if start < 0:
            continue
        end = start + len(region)
        inner = region.find(compact(clause.text)) if clause.text else len(region)
        located[clause.id] = Located(clause, start, end, start + max(inner, 0), exact)
        cursor = end
    return located


def _find(haystack: str, needle: str, cursor: int) -> tuple[int, bool]:
    position = haystack.find(needle, cursor)
    if position < 0:
        position = haystack.find(needle)
    if position >= 0:
        return position, True
    # Page furniture removed or a hyphenated word rejoined: look for the closest passage near the cursor.
    from rapidfuzz import fuzz

    window_end = min(len(haystack), cursor + len(needle) + _FUZZY_WINDOW)
    alignment = fuzz.partial_ratio_alignment(needle, haystack[cursor:window_end], score_cutoff=_FUZZY_CUTOFF)
    if alignment is None or alignment.dest_end - alignment.dest_start < len(needle) * 0.8:
        return -1, False
    return cursor + alignment.dest_start, False


def real_sources(body: BodyText, start: int, end: int) -> list[Source]:
    """The editable characters (those with a w:t) between two compact offsets."""
    return [source for source in body.sources[start:end] if source.t is not None]
