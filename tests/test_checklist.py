"""Negotiation checklist: one row per finding, most severe first, in Markdown, HTML and DOCX."""
import io
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_audit.checklist import checklist_rows, quote, render_checklist
from contract_audit.cli import main
from contract_audit.model import Clause, Document, FamilySummary, Finding, Report, Span
from contract_audit.redline.plan import clause_language
from contract_audit.score import SEVERITY_RANK

from .office_helpers import convert, part, pdf_pages, pdf_text, soffice, squash, w

SAMPLES = Path(__file__).resolve().parent.parent / "sample_contracts"


@pytest.fixture(scope="module")
def report(auditor):
    return auditor.audit(SAMPLES / "turnkey_ai_stack.docx")


def test_one_row_per_finding_most_severe_first(report):
    rows = checklist_rows(report)
    assert len(rows) == len(report.findings)
    assert [row.number for row in rows] == list(range(1, len(rows) + 1))
    ranks = [SEVERITY_RANK[row.severity] for row in rows]
    assert ranks == sorted(ranks)
    assert sorted((row.rule_id, row.kind, row.clause_id or "") for row in rows) == \
        sorted((f.rule_id, f.kind, f.clause.id if f.clause else "") for f in report.findings)


def test_rows_carry_reference_quote_risk_replacement_fallback_status_owner(report):
    rows = {(row.rule_id, row.clause_id): row for row in checklist_rows(report)}
    for finding in report.findings:
        row = rows[(finding.rule_id, finding.clause.id if finding.clause else None)]
        assert row.replacement == "\n\n".join(clause_language(finding.recommendation))
        assert row.fallback == " ".join(finding.fallback.split())
        assert row.risk and squash(finding.message).startswith(row.risk)
        assert (row.status, row.owner) == ("open", "")
        if finding.kind == "risk":
            assert row.clause.startswith(finding.clause.number) and row.page == finding.clause.page
            assert squash(finding.match.text) in row.quote
        else:
            assert (row.clause, row.page, row.quote) == ("whole contract", None, "")
    monitoring = {row.clause.split()[0]: row for row in rows.values() if row.kind == "risk" and row.family == "monitoring"}
    assert {"6.2", "6.4(a)", "6.5"} <= set(monitoring)  # the stable monitoring findings
    assert monitoring["6.4(a)"].page == 3 and monitoring["6.5"].page == 4


def test_markdown_is_one_table_row_per_finding(report):
    text = render_checklist(report, "md")
    lines = text.splitlines()
    assert lines[0] == "# Negotiation checklist: turnkey_ai_stack.docx"
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| # | Severity | Clause (page) | Risky text | Risk | Ask for | Fallback | Status | Owner")
    assert len(table) == len(report.findings) + 1
    assert all(line.count("☐") == 1 for line in table[1:])


def _hand_made_report() -> Report:
    text = "1.1 The City shall not install <b>any</b> monitoring tool | unless approved."
    clause = Clause(id="c0", number="1.1", heading="", text=text[4:], page=2, level=2, start=0, end=len(text))
    finding = Finding(
        rule_id="x-rule", family="monitoring", kind="risk", severity="high", confidence=0.9, source="pattern",
        clause=clause, match=Span(0, 40, text[4:44]), message="Why <script>alert(1)</script> matters.",
        recommendation="Write <this> instead.", title="A & B", fallback="Fall | back.",
    )
    document = Document(path="<draft>.txt", format="text", sha256="0" * 64, text=text)
    return Report(document, [clause], [finding], {"monitoring": FamilySummary(1, False)}, 20, "B")


def test_html_is_self_contained_escaped_and_printable_landscape():
    html = render_checklist(_hand_made_report(), "html")
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "&lt;draft&gt;.txt" in html
    assert "A &amp; B" in html and "Write &lt;this&gt; instead." in html
    assert "@page { size: A4 landscape" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert "thead" in html and "break-inside: avoid" in html


def test_markdown_escapes_table_pipes():
    text = render_checklist(_hand_made_report(), "md")
    row = [line for line in text.splitlines() if line.startswith("| 1 |")][0]
    assert "Fall \\| back." in row


def test_quote_marks_where_the_clause_goes_on():
    finding = _hand_made_report().findings[0]
    assert quote(finding).endswith("…") and not quote(finding).startswith("…")


def test_docx_is_a_landscape_table_with_a_repeating_header(report):
    import docx

    data = render_checklist(report, "docx")
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    assert section.page_width > section.page_height
    assert len(document.tables) == 1
    table = document.tables[0]
    assert len(table.rows) == len(report.findings) + 1
    assert [c.text for c in table.rows[0].cells][:3] == ["#", "Severity", "Clause (page)"]
    assert table.rows[0]._tr.find(f"{w('trPr')}/{w('tblHeader')}") is not None
    rows = checklist_rows(report)
    for row, table_row in zip(rows, table.rows[1:]):
        cells = [c.text for c in table_row.cells]
        assert cells[0] == str(row.number) and cells[7] == "☐ open"
        assert row.clause in cells[2]
    assert render_checklist(report, "docx") == data  # reproducible
    assert part(data).find(w("body")) is not None


def test_printed_checklist_fits_about_ten_rows_a_page(tmp_path, report):
    soffice()
    source = tmp_path / "checklist.docx"
    source.write_bytes(render_checklist(report, "docx"))
    pdf = convert(source, "pdf", tmp_path)
    rows = checklist_rows(report)
    assert pdf_pages(pdf) <= max(1, math.ceil(len(rows) / 5))
    text = "".join(pdf_text(pdf).split())  # line breaks fall anywhere in a narrow column
    assert text.count("☐") == len(rows)
    for row in rows:
        assert "".join(row.title.split())[:30] in text


def test_cli_checklist_formats(tmp_path):
    source = tmp_path / "DRAFT.txt"
    source.write_bytes((SAMPLES / "turnkey_ai_stack.txt").read_bytes())
    runner = CliRunner()
    result = runner.invoke(main, ["checklist", str(source)], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout.startswith("# Negotiation checklist: DRAFT.txt")
    result = runner.invoke(main, ["checklist", str(source), "--format", "html", "-o", str(tmp_path / "c.html")])
    assert result.exit_code == 0 and (tmp_path / "c.html").read_text().startswith("<!doctype html>")
    result = runner.invoke(main, ["checklist", str(source), "--format", "docx"])
    assert result.exit_code == 0 and (tmp_path / "DRAFT.checklist.docx").is_file()
    result = runner.invoke(main, ["checklist", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 2 and result.stderr.startswith("error:")
