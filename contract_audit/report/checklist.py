"""Writers for the negotiation checklist: Markdown, printable HTML (landscape A4) and a Word table."""
from __future__ import annotations

import io
from pathlib import PurePath

from ..model import Report

COLUMNS = ("#", "Severity", "Clause (page)", "Risky text", "Risk", "Ask for", "Fallback", "Status", "Owner")
# Column widths in centimetres on landscape A4 with 1.2 cm margins (27.3 cm of text width).
_DOCX_WIDTHS = (0.6, 2.0, 1.5, 3.0, 4.6, 8.8, 4.0, 1.3, 1.5)
BOX = "☐"


def _where(row) -> str:
    return f"{row.clause}, p. {row.page}" if row.page else row.clause


def _summary(report: Report, rows) -> str:
    risks = sum(1 for row in rows if row.kind == "risk")
    return (f"Risk score {report.risk_score}/100, grade {report.grade}: {risks} risky clause(s), "
            f"{len(rows) - risks} missing protection(s).")


def render_markdown(report: Report, rows) -> str:
    name = PurePath(report.document.path).name
    lines = [f"# Negotiation checklist: {name}", "", _summary(report, rows), "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [
            str(row.number), f"**{row.severity}** {row.family}", _where(row),
            f"“{row.quote}”" if row.quote else "*(nothing: protection missing)*",
            f"**{row.title}.** {row.risk}", row.replacement, row.fallback or "-", f"{BOX} {row.status}", row.owner,
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split()) if text else " "


def render_html(report: Report, rows) -> str:
    from .. import __version__
    from .html import _environment

    return _environment().get_template("checklist.html").render(
        report=report, rows=rows, summary=_summary(report, rows), columns=COLUMNS, box=BOX, version=__version__,
    )


def render_docx(report: Report, rows) -> bytes:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    from ..redline.ooxml import fix_zip_dates, new_a4_document

    # Arial: LibreOffice shows the metric-compatible Liberation Sans
    document = new_a4_document(f"Negotiation checklist: {PurePath(report.document.path).name}", landscape=True,
                               side_margin_cm=1.2, top_margin_cm=1.2, font="Arial", size_pt=7, space_after_pt=0)
    heading = document.add_paragraph()
    run = heading.add_run(document.core_properties.title)
    run.bold, run.font.size = True, Pt(13)
    document.add_paragraph(_summary(report, rows)).paragraph_format.space_after = Pt(6)

    table = document.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    header = table.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)
    for cell, title in zip(header.cells, COLUMNS):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
        _shade(cell, "D9DDE5")
    colours = {"critical": "8F1D21", "high": "B3401A", "medium": "8A6500", "low": "2D5F8A"}
    for row in rows:
        cells = table.add_row().cells
        _no_split(table.rows[-1])
        cells[0].text = str(row.number)
        severity = cells[1].paragraphs[0].add_run(row.severity.upper())
        severity.bold = True
        severity.font.color.rgb = RGBColor.from_string(colours.get(row.severity, "000000"))
        cells[1].add_paragraph(row.family)
        cells[2].text = _where(row)
        if row.quote:
            cells[3].text = f"“{row.quote}”"
        else:
            cells[3].paragraphs[0].add_run("nothing: protection missing").italic = True
        cells[4].paragraphs[0].add_run(row.title + ". ").bold = True
        cells[4].paragraphs[0].add_run(row.risk)
        paragraphs = row.replacement.split("\n\n")
        cells[5].text = paragraphs[0]
        for paragraph in paragraphs[1:]:
            cells[5].add_paragraph(paragraph)
        cells[6].text = row.fallback or "-"
        cells[7].text = f"{BOX} {row.status}"
        cells[8].text = row.owner
    # LibreOffice lays out by the table grid, Word by the cell widths: set both.
    for column, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), _DOCX_WIDTHS):
        column.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, _DOCX_WIDTHS):
            cell.width = Cm(width)
    out = io.BytesIO()
    document.save(out)
    return fix_zip_dates(out.getvalue())


def _shade(cell, colour: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _no_split(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
