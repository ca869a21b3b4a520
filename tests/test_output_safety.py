"""What the tool writes is safe to open: CSV cells never run as spreadsheet formulas, Markdown reports show
contract text literally (no HTML, no links), and no output carries control characters from a file name or a
contract to a terminal or spreadsheet."""
import csv
import io
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from contract_audit.batch import BatchOptions, run_batch
from contract_audit.batch.export import CSV_COLUMNS, csv_cell, csv_row
from contract_audit.cli import main
from contract_audit.report.markdown import escape_controls, plain

CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in "\n\t"] + [chr(c) for c in range(0x7f, 0xa0)]
EVIL_NAME = "evil\x1b]0;pwned\x07.txt"
INJECTED = ("The Supplier shall hold the encryption keys <script>alert(1)</script> see [here](javascript:alert(1)) "
            "and <img src=x onerror=alert(1)> or <a href=\"javascript:alert(2)\">this</a> at http://evil.example "
            "and www.evil.example, ![pixel](http://evil.example/p.png) *loud* `code`.")


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                   "\tleading tab", "\r=1+1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value):
    cell = csv_cell(value)
    assert cell.startswith("'") or cell.startswith("\\x0d")
    assert not cell.lstrip("'").startswith(("\r",))


def test_csv_cells_write_control_characters_out():
    assert csv_cell("a\x1b[31mb\x07c\x9bd\ne\tf") == "a\\x1b[31mb\\x07c\\x9bd\ne\tf"
    assert csv_cell("plain text, 5%") == "plain text, 5%"


def test_csv_row_neutralises_every_text_column():
    row = {column: None for column in CSV_COLUMNS}
    row.update(path="=evil.pdf", sha256="", status="failed", error="@cmd\x1b[2J", format="", family_risks=None,
               missing=None, vendor="+Vendor", duplicate_of="-x", near_group=None, grade=None, pages=None, risk=None)
    cells = csv_row(row)
    assert cells[0] == "'=evil.pdf" and cells[3] == "'@cmd\\x1b[2J"
    assert "'+Vendor" in cells and "'-x" in cells


def test_batch_csv_and_terminal_carry_no_control_characters(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / EVIL_NAME).write_text("1. Keys\n\n" + INJECTED + "\n")
    (inputs / "=cmd.txt").write_text("1. Keys\n\nThe Supplier shall hold the encryption keys.\n")
    run_batch([str(inputs)], BatchOptions(out=tmp_path / "out", jobs=1, formats=("csv",), progress=False))
    text = (tmp_path / "out" / "results.csv").read_text(encoding="utf-8")
    assert not any(c in text for c in CONTROLS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["path"].rsplit("/", 1)[-1] for row in rows} == {"evil\\x1b]0;pwned\\x07.txt", "=cmd.txt"}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for row in rows for cell in row.values())


def test_markdown_report_shows_contract_text_literally(tmp_path):
    contract = tmp_path / EVIL_NAME
    contract.write_text("1. Keys <b>[x](javascript:alert(1))</b>\n\n" + INJECTED + "\n")
    result = CliRunner().invoke(main, ["scan", "--format", "md", str(contract)])
    assert result.exit_code == 0, result.output
    report = result.stdout
    assert not any(c in report for c in CONTROLS)
    assert "evil\\\\x1b" in report  # the file name, written out
    for raw in ("<script", "<img", "<a ", "<b>", "](javascript:", "](http", "http://", "www.evil"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), report), raw  # only as escaped text
    assert "\\<script\\>alert(1)\\</script\\>" in report

    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).render(report)
    for raw in ("<script", "<img", "<a ", "<b>", 'href="', 'src="'):  # tags and attributes, not escaped text
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, not run


def test_plain_text_round_trips_through_commonmark():
    markdown_it = pytest.importorskip("markdown_it")
    text = "Keys [x](javascript:y) <i>z</i> a_b *c* `d` & e\\f http://g.example"
    html = markdown_it.MarkdownIt("commonmark").render(plain(text))
    assert html == "<p>" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</p>\n"


def test_terminal_lines_write_control_characters_out(tmp_path):
    bad = tmp_path / "bad\x1b]0;pwned\x07\x9b2J.pdf"  # not there: the error line names it
    proc = subprocess.run([sys.executable, "-m", "contract_audit.cli", "scan", str(bad)], capture_output=True)
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1
    assert not any(c.encode("utf-8") in proc.stderr for c in CONTROLS)
    assert b"bad\\x1b]0;pwned\\x07\\x9b2J.pdf" in proc.stderr


def test_escape_controls_keeps_what_is_asked():
    assert escape_controls("a\nb\tc\x00d", keep="\n") == "a\nb\\x09c\\x00d"
    assert json.dumps(escape_controls("\x85")) == '"\\\\x85"'
