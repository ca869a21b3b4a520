"""Render the sample contracts in sample_contracts/src/ to PDF, DOCX and plain text.

Usage:
    python sample_contracts/make_samples.py            # render, write expected/, verify
    python sample_contracts/make_samples.py --no-verify

For each src/<name>.txt the script writes <name>.pdf, <name>.docx, <name>.txt and
expected/<name>.yaml next to this file. Output is byte-for-byte reproducible.

Source markup (one block per line, blank lines ignored, ASCII only):

    # TITLE                   document title (first line); also the running page header
    ## HEADING                unnumbered sub-heading (PARTIES, RECITALS, SIGNATURES ...)
    N. HEADING                top-level clause heading                      (list level 0)
    N.M text                  clause                                        (list level 1)
    N.M.K text                sub-clause                                    (list level 2)
    (a) text                  lettered sub-paragraph                        (list level 3)
        (i) text              roman sub-paragraph, indented by exactly 4 spaces (level 4)
    SCHEDULE N - HEADING      schedule heading: starts a new page and restarts numbering;
                              inside a schedule "N. text" is a numbered paragraph, not a heading
    | cell | cell |           table row; consecutive rows form one table, first row is the header
    any other line            unnumbered paragraph (parties, recitals, signature lines)

A numbered block may end with tags, which are stripped from every rendering:

    {risk: family[, family]}     the block plants a red flag of these families
    {protect: family[, family]}  the block is a protective clause for these families

Typed numbers must be consecutive: the parser checks them against the counters that
Word's automatic numbering produces, so the auto-numbered DOCX shows the same numbers.

A clause is cited as a reader sees it: "7.2", "7.2(a)", "7.2(a)(ii)", "3" for a heading,
and "Schedule 1 para 3" / "Schedule 1 para 3(a)" inside a schedule.

Page numbers come from the PDF layout: every block is kept whole on one PDF page, the
page it lands on is recorded, and the DOCX and TXT get explicit page breaks at exactly
those places.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, Twips
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

HERE = Path(__file__).resolve().parent
SRC_DIR = HERE / "src"
EXPECTED_DIR = HERE / "expected"

# Contracts whose DOCX uses Word's automatic list numbering; the others get typed numbers.
AUTO_NUMBERED = {"turnkey_ai_stack", "mixed_edge_inference"}
FAMILIES = (
    "monitoring",
    "energy",
    "surveillance",
    "exit",
    "remote-access",
    "key-custody",
    "data-residency",
    "updates",
)

AUTHOR = "contract-audit sample generator"
DRAFT_MARK = "CONFIDENTIAL DRAFT"
FIXED_TIME = datetime(2025, 1, 1, 9, 0, 0)
ZIP_TIME = (2025, 1, 1, 9, 0, 0)

MARGIN_CM = 2.5
TEXT_WIDTH_PT = A4[0] - 2 * MARGIN_CM * cm
# (number position, text position) in points from the left margin, per list level.
# Shared by PDF and DOCX so both look alike.
INDENTS = {0: (0, 36), 1: (0, 36), 2: (36, 81), 3: (36, 72), 4: (72, 108)}
LEVEL_FORMATS = [
    ("decimal", "%1."),
    ("decimal", "%1.%2"),
    ("decimal", "%1.%2.%3"),
    ("lowerLetter", "(%4)"),
    ("lowerRoman", "(%5)"),
]
# The PDF is set looser (10.5/13.5 pt) than the DOCX (10 pt, single spacing) on purpose: Word
# then always has room left on a page when it reaches the explicit break copied from the
# PDF, so its pagination cannot drift ahead of the PDF's.
PDF_FONT_SIZE, PDF_LEADING = 10.5, 13.5
DOCX_FONT_SIZE = 10
HEADER_FONT, HEADER_SIZE = "Times-Roman", 8
TABLE_FONT_SIZE = 9.5


# --------------------------------------------------------------------------- model


@dataclass
class Block:
    kind: str  # title | subheading | heading | clause | para | schedule | table
    text: str = ""
    label: str = ""  # number as typed, without a trailing dot: "7", "7.2", "(a)"
    level: int = -1  # list level 0-4 for numbered blocks
    ref: str = ""  # citation as a reader sees it: "7.2(a)", "Schedule 1 para 3"
    schedule: int = 0  # schedule number, 0 in the main body
    rows: list[list[str]] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    protects: list[str] = field(default_factory=list)
    page: int = 0

    @property
    def numbered(self) -> bool:
        return self.level >= 0

    @property
    def display_label(self) -> str:
        return f"{self.label}." if self.level == 0 else self.label


@dataclass
class Contract:
    name: str
    title: str
    blocks: list[Block]
    pages: int = 0

    @property
    def auto_numbered(self) -> bool:
        return self.name in AUTO_NUMBERED


# --------------------------------------------------------------------------- parsing

TAG_RE = re.compile(r"\s*\{(risk|protect):\s*([a-z, -]+)\}\s*$")
LINE_PATTERNS = [
    ("title", re.compile(r"^# (?P<text>.+)$")),
    ("subheading", re.compile(r"^## (?P<text>.+)$")),
    ("schedule", re.compile(r"^SCHEDULE (?P<num>\d+) - (?P<text>.+)$")),
    ("table", re.compile(r"^\|(?P<text>.+)\|$")),
    ("level4", re.compile(r"^    (?P<label>\([ivx]+\)) (?P<text>.+)$")),
    ("level3", re.compile(r"^(?P<label>\([a-z]\)) (?P<text>.+)$")),
    ("level2", re.compile(r"^(?P<label>\d+\.\d+\.\d+) (?P<text>.+)$")),
    ("level1", re.compile(r"^(?P<label>\d+\.\d+) (?P<text>.+)$")),
    ("level0", re.compile(r"^(?P<label>\d+)\. (?P<text>.+)$")),
]


@dataclass
class ParseState:
    schedule: int = 0
    clause_ref: str = ""  # ref of the innermost clause at levels 0-2
    letter_ref: str = ""  # ref of the current lettered sub-paragraph
    counters: list[int] = field(default_factory=lambda: [0] * 5)

    @property
    def prefix(self) -> str:
        return f"Schedule {self.schedule} para " if self.schedule else ""


def to_roman(number: int) -> str:
    numerals = [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for value, letters in numerals:
        while number >= value:
            out += letters
            number -= value
    return out


def word_label(counters: list[int], level: int) -> str:
    """The label Word's multilevel list shows for the current counters."""
    if level <= 2:
        return ".".join(str(n) for n in counters[: level + 1])
    if level == 3:
        return f"({chr(ord('a') + counters[3] - 1)})"
    return f"({to_roman(counters[4])})"


def split_tags(line: str) -> tuple[str, list[str], list[str]]:
    """Strip trailing {risk: ...} / {protect: ...} tags; return text, risks, protections."""
    tags: list[tuple[str, list[str]]] = []
    while match := TAG_RE.search(line):
        families = [f.strip() for f in match.group(2).split(",")]
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown family {sorted(unknown)} in: {line}")
        tags.insert(0, (match.group(1), families))  # tags are peeled off from the end
        line = line[: match.start()]
    risks = [f for kind, families in tags if kind == "risk" for f in families]
    protects = [f for kind, families in tags if kind == "protect" for f in families]
    return line, risks, protects


def classify(line: str, in_schedule: bool) -> Block:
    for kind, pattern in LINE_PATTERNS:
        match = pattern.match(line)
        if not match:
            continue
        groups = match.groupdict()
        if kind == "schedule":
            return Block("schedule", line, schedule=int(groups["num"]))
        if kind == "table":
            return Block("table", rows=[[c.strip() for c in groups["text"].split("|")]])
        if kind.startswith("level"):
            level = int(kind[-1])
            block_kind = "heading" if level == 0 and not in_schedule else "clause"
            return Block(block_kind, groups["text"], label=groups["label"], level=level)
        return Block(kind, groups["text"])
    return Block("para", line.strip())


def number_block(block: Block, state: ParseState) -> None:
    """Check the typed number against Word's counters and work out the citation."""
    level = block.level
    state.counters[level] += 1
    state.counters[level + 1 :] = [0] * (4 - level)
    expected = word_label(state.counters, level)
    if block.label != expected:
        raise ValueError(f"numbering out of sequence: expected {expected}, found {block.label}")
    if level <= 2:
        state.clause_ref = state.prefix + block.label
        state.letter_ref = ""
        block.ref = state.clause_ref
    elif level == 3:
        state.letter_ref = state.clause_ref + block.label
        block.ref = state.letter_ref
    else:
        block.ref = state.letter_ref + block.label


def parse_contract(name: str, source: str) -> Contract:
    if not source.isascii():
        raise ValueError(f"{name}: source must be ASCII (standard PDF fonts)")
    blocks: list[Block] = []
    state = ParseState()
    for line_no, raw in enumerate(source.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line, risks, protects = split_tags(raw.rstrip())
            block = classify(line, in_schedule=state.schedule > 0)
            if block.kind == "schedule":
                state = ParseState(schedule=block.schedule)
            if block.numbered:
                block.schedule = state.schedule
                number_block(block, state)
            elif risks or protects:
                raise ValueError("tags are only allowed on numbered blocks")
        except ValueError as err:
            raise ValueError(f"{name}.txt line {line_no}: {err}") from None
        block.risks, block.protects = risks, protects
        if block.kind == "table" and blocks and blocks[-1].kind == "table":
            blocks[-1].rows.extend(block.rows)
        else:
            blocks.append(block)
    if not blocks or blocks[0].kind != "title":
        raise ValueError(f"{name}.txt must start with a '# ' title line")
    return Contract(name, blocks[0].text, blocks)


# --------------------------------------------------------------------------- shared layout


def column_widths(rows: list[list[str]], total: float) -> list[float]:
    """Give each column room for its longest word, then share the rest by natural width."""
    pad = 14  # cell padding plus a little slack, in points

    def width(text: str) -> float:
        return stringWidth(text, "Times-Bold", TABLE_FONT_SIZE) + pad

    minimum = [max(width(w) for cell in col for w in cell.split()) for col in zip(*rows)]
    natural = [min(max(width(cell) for cell in col), 0.4 * total) for col in zip(*rows)]
    spare = total - sum(minimum)
    if spare < 0:
        raise ValueError(f"table too wide for the page: {rows[0]}")
    growth = [max(n - m, 0) for n, m in zip(natural, minimum)]
    share = sum(growth) or 1
    return [m + spare * g / share for m, g in zip(minimum, growth)]


# --------------------------------------------------------------------------- PDF


def pdf_styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "para",
        fontName="Times-Roman",
        fontSize=PDF_FONT_SIZE,
        leading=PDF_LEADING,
        alignment=TA_JUSTIFY,
        spaceAfter=5,
    )
    styles = {
        "para": body,
        "title": ParagraphStyle(
            "title", body, fontName="Times-Bold", fontSize=15, leading=19,
            alignment=TA_CENTER, spaceAfter=12,
        ),
        "subheading": ParagraphStyle(
            "subheading", body, fontName="Times-Bold", alignment=TA_LEFT, spaceBefore=6,
        ),
        "schedule": ParagraphStyle(
            "schedule", body, fontName="Times-Bold", fontSize=12.5, leading=16,
            alignment=TA_CENTER, spaceAfter=10,
        ),
        "cell": ParagraphStyle("cell", body, fontSize=TABLE_FONT_SIZE, leading=11.5, alignment=TA_LEFT, spaceAfter=0),
        "cellhead": ParagraphStyle(
            "cellhead", body, fontName="Times-Bold", fontSize=TABLE_FONT_SIZE, leading=11.5,
            alignment=TA_LEFT, spaceAfter=0,
        ),
    }
    for level, (number_x, text_x) in INDENTS.items():
        styles[f"level{level}"] = ParagraphStyle(
            f"level{level}", body, leftIndent=text_x, bulletIndent=number_x,
            bulletFontName="Times-Roman", bulletFontSize=PDF_FONT_SIZE,
        )
    styles["heading"] = ParagraphStyle(
        "heading", styles["level0"], fontName="Times-Bold", bulletFontName="Times-Bold",
        alignment=TA_LEFT, spaceBefore=8,
    )
    return styles


def pdf_table(block: Block, styles: dict[str, ParagraphStyle]) -> Table:
    data = [
        [Paragraph(escape(cell), styles["cellhead" if r == 0 else "cell"]) for cell in row]
        for r, row in enumerate(block.rows)
    ]
    table = Table(data, colWidths=column_widths(block.rows, TEXT_WIDTH_PT), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                ("BACKGROUND", (0, 0), (-1, 0), "#e6e6e6"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    table.spaceAfter = 8
    return table


def pdf_flowable(block: Block, styles: dict[str, ParagraphStyle]):
    if block.kind == "table":
        return pdf_table(block, styles)
    style = styles[f"level{block.level}" if block.kind == "clause" else block.kind]
    return Paragraph(escape(block.text), style, bulletText=block.display_label or None)


def stacked_height(flowables) -> float:
    return sum(
        f.wrap(TEXT_WIDTH_PT, 10**6)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in flowables
    )


def pdf_story(blocks: list[Block]) -> list:
    styles = pdf_styles()
    flowables = [pdf_flowable(b, styles) for b in blocks]
    story = []
    for index, (block, flowable) in enumerate(zip(blocks, flowables)):
        flowable.block_index = index
        if block.kind == "schedule":
            story.append(PageBreak())
        elif block.kind in ("heading", "subheading"):
            # keep a heading on the same page as the block that follows it
            story.append(CondPageBreak(stacked_height(flowables[index : index + 2]) + 2))
        story.append(flowable)
    return story


class ContractPdf(BaseDocTemplate):
    """A4 document that records the page each block lands on."""

    def __init__(self, buffer, title: str, total_pages: int | None):
        margin = MARGIN_CM * cm
        super().__init__(
            buffer, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
            bottomMargin=margin, title=title, author=AUTHOR, creator=AUTHOR,
            subject="Sample contract for contract-audit", invariant=1,
            allowSplitting=0,  # never split a block: each clause starts and ends on one page
        )
        header_width = stringWidth(f"{title}    {DRAFT_MARK}", HEADER_FONT, HEADER_SIZE)
        if header_width > self.width:
            raise ValueError(f"title too long for the page header: {title}")
        self.contract_title = title
        self.total_pages = total_pages
        self.block_pages: dict[int, int] = {}
        frame = Frame(margin, margin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self.decorate)])

    def afterFlowable(self, flowable) -> None:
        index = getattr(flowable, "block_index", None)
        if index is not None:
            self.block_pages[index] = self.page

    def decorate(self, canvas, doc) -> None:
        left, right = self.leftMargin, self.pagesize[0] - self.rightMargin
        top = self.pagesize[1] - self.topMargin + 0.9 * cm
        canvas.saveState()
        canvas.setFont(HEADER_FONT, HEADER_SIZE)
        canvas.drawString(left, top, self.contract_title)
        canvas.drawRightString(right, top, DRAFT_MARK)
        canvas.setLineWidth(0.4)
        canvas.line(left, top - 4, right, top - 4)
        total = self.total_pages or "?"
        canvas.drawCentredString((left + right) / 2, self.bottomMargin - 1.2 * cm,
                                 f"Page {doc.page} of {total}")
        canvas.restoreState()


def build_pdf(contract: Contract) -> bytes:
    """Lay the contract out twice: once to count pages, once with "Page N of M"."""
    total = None
    for _ in range(2):
        buffer = io.BytesIO()
        doc = ContractPdf(buffer, contract.title, total)
        doc.build(pdf_story(contract.blocks))
        total = doc.page
    for index, page in doc.block_pages.items():
        contract.blocks[index].page = page
    contract.pages = total
    return buffer.getvalue()


# --------------------------------------------------------------------------- DOCX


def setup_docx_styles(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(DOCX_FONT_SIZE)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    def add(name: str, bold: bool, size: float | None = None, align=None):
        style = doc.styles.add_style(name, 1)  # 1 = paragraph style
        style.base_style = normal
        style.font.bold = bold
        if size:
            style.font.size = Pt(size)
        if align is not None:
            style.paragraph_format.alignment = align
        return style

    add("Contract Title", True, 13, WD_ALIGN_PARAGRAPH.CENTER).paragraph_format.space_after = Pt(8)
    add("Sub Heading", True, align=WD_ALIGN_PARAGRAPH.LEFT).paragraph_format.space_before = Pt(4)
    heading = add("Clause Heading", True, align=WD_ALIGN_PARAGRAPH.LEFT)
    heading.paragraph_format.space_before = Pt(5)
    heading.paragraph_format.keep_with_next = True
    add("Clause Text", False)
    add("Schedule Heading", True, 11, WD_ALIGN_PARAGRAPH.CENTER).paragraph_format.space_after = Pt(8)
    add("Table Text", False, 9, WD_ALIGN_PARAGRAPH.LEFT).paragraph_format.space_after = Pt(0)


def level_xml(level: int, fmt: str, text: str) -> str:
    number_x, text_x = INDENTS[level]
    left, hanging = int(text_x * 20), int((text_x - number_x) * 20)
    return (
        f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
        f'<w:pPr><w:tabs><w:tab w:val="num" w:pos="{left}"/></w:tabs>'
        f'<w:ind w:left="{left}" w:hanging="{hanging}"/></w:pPr></w:lvl>'
    )


def add_numbering(doc, schedules: list[int]) -> dict[int, int]:
    """Define the clause list in numbering.xml; return numId per schedule (0 = body)."""
    numbering = doc.part.numbering_part.element
    used = [int(a.get(qn("w:abstractNumId"))) for a in numbering.findall(qn("w:abstractNum"))]
    abstract_id = max(used, default=-1) + 1
    levels = "".join(level_xml(i, fmt, text) for i, (fmt, text) in enumerate(LEVEL_FORMATS))
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
        f'<w:multiLevelType w:val="multilevel"/>{levels}</w:abstractNum>'
    )
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:  # schema order: every abstractNum precedes every num
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num_ids = {}
    for schedule in [0, *schedules]:
        num = numbering.add_num(abstract_id)
        if schedule:  # each schedule restarts at 1 while sharing the list definition
            num.add_lvlOverride(ilvl=0).add_startOverride(1)
        num_ids[schedule] = num.numId
    return num_ids


def add_field(paragraph, instruction: str, cached: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = cached
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def setup_section(doc, title: str, total_pages: int) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    section.header_distance = section.footer_distance = Cm(1.2)

    header = section.header.paragraphs[0]
    for stop in (4680, 9360):  # tab stops inherited from the template's Header style
        header.paragraph_format.tab_stops.add_tab_stop(Twips(stop), WD_TAB_ALIGNMENT.CLEAR)
    header.paragraph_format.tab_stops.add_tab_stop(Pt(TEXT_WIDTH_PT), WD_TAB_ALIGNMENT.RIGHT)
    header.add_run(f"{title}\t{DRAFT_MARK}").font.size = Pt(8)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Page ")
    add_field(footer, "PAGE", "1")
    footer.add_run(" of ")
    add_field(footer, "NUMPAGES", str(total_pages))


def set_indent(paragraph, level: int) -> None:
    number_x, text_x = INDENTS[level]
    fmt = paragraph.paragraph_format
    fmt.left_indent = Pt(text_x)
    fmt.first_line_indent = Pt(number_x - text_x)
    fmt.tab_stops.add_tab_stop(Pt(text_x))


def add_numbered(doc, block: Block, num_ids: dict[int, int] | None) -> None:
    style = "Clause Heading" if block.kind == "heading" else "Clause Text"
    if num_ids is None:
        paragraph = doc.add_paragraph(f"{block.display_label}\t{block.text}", style=style)
        set_indent(paragraph, block.level)
        return
    paragraph = doc.add_paragraph(block.text, style=style)
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = block.level
    num_pr.get_or_add_numId().val = num_ids[block.schedule]


def add_table(doc, block: Block) -> None:
    rows = block.rows
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    widths = column_widths(rows, TEXT_WIDTH_PT)
    for c, width in enumerate(widths):
        table.columns[c].width = Pt(width)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = table.cell(r, c)
            cell.width = Pt(widths[c])
            paragraph = cell.paragraphs[0]
            paragraph.style = "Table Text"
            paragraph.add_run(text).bold = r == 0


def add_block(doc, block: Block, num_ids: dict[int, int] | None) -> None:
    if block.numbered:
        add_numbered(doc, block, num_ids)
    elif block.kind == "table":
        add_table(doc, block)
    else:
        style = {"title": "Contract Title", "subheading": "Sub Heading",
                 "schedule": "Schedule Heading", "para": "Normal"}[block.kind]
        doc.add_paragraph(block.text, style=style)


def normalise_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed entry metadata; python-docx stamps the current time."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def build_docx(contract: Contract) -> bytes:
    doc = Document()
    setup_docx_styles(doc)
    setup_section(doc, contract.title, contract.pages)
    schedules = [b.schedule for b in contract.blocks if b.kind == "schedule"]
    num_ids = add_numbering(doc, schedules) if contract.auto_numbered else None
    page = 1
    for block in contract.blocks:
        if block.page != page:
            doc.add_page_break()
            page = block.page
        add_block(doc, block, num_ids)
    props = doc.core_properties
    props.title = contract.title
    props.author = props.last_modified_by = AUTHOR
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return normalise_zip(buffer.getvalue())


# --------------------------------------------------------------------------- TXT


def txt_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def txt_block(block: Block) -> str:
    if block.kind == "table":
        return txt_table(block.rows)
    if not block.numbered:
        return block.text
    indent = " " * 4 * max(block.level - 2, 0)
    return f"{indent}{block.display_label} {block.text}"


def build_txt(contract: Contract) -> str:
    pages: list[list[str]] = [[] for _ in range(contract.pages)]
    for block in contract.blocks:
        pages[block.page - 1].append(txt_block(block))
    return "\f".join("\n\n".join(page) + "\n" for page in pages)


# --------------------------------------------------------------------------- expected findings


def expected_yaml(contract: Contract) -> str:
    risky = [b for b in contract.blocks if b.risks]
    protective = [b for b in contract.blocks if b.protects]
    risk_families = {f for b in risky for f in b.risks}
    protected_families = {f for b in protective for f in b.protects}
    missing = [f for f in FAMILIES if f not in protected_families]
    no_risk = [f for f in FAMILIES if f not in risk_families]

    lines = [
        f"# Expected findings for {contract.name}; generated by make_samples.py from the",
        "# {risk: ...} / {protect: ...} tags in src/. Do not edit by hand.",
        f"contract: {contract.name}",
        f"pages: {contract.pages}",
        "findings:" if risky or missing else "findings: []",
    ]
    for block in risky:
        for family in block.risks:
            lines.append(f"  - {{family: {family}, kind: risk, clause: {json.dumps(block.ref)}, "
                         f"page: {block.page}}}")
    lines += [f"  - {{family: {family}, kind: missing}}" for family in missing]
    lines.append(f"no_risk: [{', '.join(no_risk)}]")
    lines.append("# Informational: the clauses planted as protections.")
    lines.append("protections:" if protective else "protections: []")
    for block in protective:
        for family in block.protects:
            lines.append(f"  - {{family: {family}, clause: {json.dumps(block.ref)}, page: {block.page}}}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def render(source: Path) -> Contract:
    contract = parse_contract(source.stem, source.read_text(encoding="ascii"))
    pdf = build_pdf(contract)  # first: it decides the page of every block
    outputs = {
        HERE / f"{contract.name}.pdf": pdf,
        HERE / f"{contract.name}.docx": build_docx(contract),
        HERE / f"{contract.name}.txt": build_txt(contract).encode("ascii"),
        EXPECTED_DIR / f"{contract.name}.yaml": expected_yaml(contract).encode("ascii"),
    }
    for path, data in outputs.items():
        path.write_bytes(data)
    return contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-verify", action="store_true", help="skip re-reading the outputs")
    args = parser.parse_args(argv)
    EXPECTED_DIR.mkdir(exist_ok=True)
    contracts = [render(path) for path in sorted(SRC_DIR.glob("*.txt"))]
    for contract in contracts:
        print(f"{contract.name}: {contract.pages} pages")
    if not args.no_verify:
        sys.dont_write_bytecode = True  # keep __pycache__ out of sample_contracts/
        from verify_samples import verify_contract  # local module next to this script

        problems = [p for c in contracts for p in verify_contract(c, HERE)]
        for problem in problems:
            print("PROBLEM:", problem)
        if problems:
            return 1
        print("verified: PDF, DOCX and TXT agree on text, numbering and pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
