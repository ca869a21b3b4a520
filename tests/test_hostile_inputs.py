"""Hostile contracts, built at test time: each ends as a report or a one-line error, within its budgets.

Readers run through `run_limited` with a generous budget, so that a regression shows as a failed test
(budget exceeded) rather than a test run that hangs or exhausts the machine. The bounds are the point of
these tests; each is far above what the fixed code needs and far below what the old code took.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from contract_audit.cli import main
from contract_audit.errors import AuditError, IngestError
from contract_audit.ingest import read_bytes
from contract_audit.limits import Budgets, LimitExceeded, audit_limited, run_limited

from . import hostile_files as hostile

READ_BUDGETS = Budgets(seconds=60, memory_mb=1024)
CLI_LIMIT_SECONDS = 60
CLI_LIMIT_BYTES = 2 * 1024 ** 3


def read_limited(data: bytes, name: str):
    """The Document the readers make of `data`, read in a child held to READ_BUDGETS."""
    return run_limited(read_bytes, data, name, budgets=READ_BUDGETS, name=name)


def lines_of(document) -> list[str]:
    return [line.strip() for line in document.text.splitlines() if line.strip()]


# --- DOCX numbering ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["lowerLetter", "upperLetter", "lowerRoman", "upperRoman"])
def test_a_huge_list_start_is_clamped_and_shown_in_digits(fmt):
    document = read_limited(hostile.huge_start_docx(fmt), "huge-start.docx")
    numbered = [line for line in lines_of(document) if line.endswith(")") and "Supplier" in line]
    assert numbered[0].startswith("32767. ")  # Word's largest start; letters that long become digits
    assert numbered[-1].startswith(f"{32767 + len(numbered) - 1}. ")
    assert max(len(line) for line in numbered) < 200


@pytest.mark.parametrize("case", [
    dict(paragraph_ilvl="x"), dict(ilvl="x"), dict(ilvl="-3", paragraph_ilvl="-3"), dict(paragraph_ilvl="99"),
    dict(start="abc"), dict(start="-5"), dict(start="99999999999999999999"), dict(override="zz"),
    dict(override="-7"), dict(num_id="x"),
])
def test_malformed_numbering_values_are_taken_as_defaults(case):
    document = read_bytes(hostile.malformed_numbering_docx(**case), "malformed.docx")
    assert sum(hostile.CLAUSE in line for line in lines_of(document)) == 5


def test_letters_and_numerals_keep_their_form_in_the_normal_range():
    from contract_audit.ingest.docx import _format_number

    assert [_format_number(v, "lowerLetter") for v in (1, 26, 27)] == ["a", "z", "aa"]
    assert _format_number(1994, "upperRoman") == "MCMXCIV"
    assert _format_number(4000, "upperRoman") == "4000"
    assert _format_number(0, "lowerRoman") == "0"


# --- DOCX styles and nesting ------------------------------------------------------------------------------

def test_twenty_thousand_chained_styles_read_quickly():
    data = hostile.many_styles_docx()
    assert len(data) > 100_000
    document = read_limited(data, "styles.docx")  # took 260 s before the styles were indexed
    assert sum(hostile.CLAUSE in line for line in lines_of(document)) == 2_000


def test_numbering_is_inherited_through_a_style_chain_and_a_cycle_is_harmless():
    styles = ('<w:style w:type="paragraph" w:styleId="base"><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr>'
              '</w:style>' + "".join(f'<w:style w:type="paragraph" w:styleId="s{i}"><w:basedOn w:val="'
                                     f'{"base" if i == 0 else f"s{i - 1}"}"/></w:style>' for i in range(10)))
    body = hostile.paragraph(hostile.CLAUSE, style="s9") + hostile.paragraph(hostile.CLAUSE, style="s9")
    document = read_bytes(hostile.docx(body, hostile.numbering_part("1", "upperRoman"), styles), "styled.docx")
    assert [line[:3] for line in lines_of(document)] == ["I. ", "II."]
    cycle = read_bytes(hostile.style_cycle_docx(), "cycle.docx")
    assert all(line.startswith("The Supplier") for line in lines_of(cycle))


def test_deeply_nested_tables_are_read_once_each():
    document = read_limited(hostile.nested_tables_docx(depth=80), "tables.docx")
    # every paragraph's text once: the three innermost, one beside each of the 80 nested tables, one after
    assert document.text.count(hostile.CLAUSE) == 3 + 80 + 1


def test_runs_under_hundreds_of_nested_wrappers_read_in_linear_time():
    data = hostile.nested_runs_docx(depth=240, runs=50_000)
    started = time.perf_counter()
    document = read_limited(data, "runs.docx")  # about 33 s before: every run walked its 240 ancestors
    assert time.perf_counter() - started < 15
    assert "word0 word1" in document.text and "word49999" in document.text


# --- PDF ---------------------------------------------------------------------------------------------------

def test_words_placed_apart_without_spaces_are_separated():
    import io

    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    for line in range(3):
        x = 40
        for word in hostile.CLAUSE.split():
            pdf.setFont("Helvetica", 10)
            pdf.drawString(x, 800 - 14 * line, word)
            x += stringWidth(word, "Helvetica", 10) + 2  # a gap PDFium's own text does not always see
    pdf.showPage()
    pdf.save()
    import pypdfium2 as pdfium

    from contract_audit.ingest.pdf import spaced_text

    textpage = pdfium.PdfDocument(buffer.getvalue())[0].get_textpage()
    assert "keepall" in textpage.get_text_bounded()
    assert spaced_text(textpage).splitlines() == [hostile.CLAUSE] * 3


def test_a_long_glued_pdf_reads_in_linear_time():
    data = hostile.glued_pdf(pages=120, lines=3)
    started = time.perf_counter()
    document = read_limited(data, "glued.pdf")  # about 35 s before, through pdfplumber
    assert time.perf_counter() - started < 30
    assert document.pages == 120


def test_a_page_tree_cycle_is_a_one_line_error():
    with pytest.raises(IngestError, match="damaged page tree"):
        read_limited(hostile.page_tree_cycle_pdf(), "cycle.pdf")


@pytest.mark.parametrize("build, name, message", [
    (hostile.flate_bomb_pdf, "bomb.pdf", "compression bomb"),
    (hostile.lying_zip_docx, "lying.docx", "not a readable DOCX"),  # its sizes say a few kilobytes
])
def test_a_one_megabyte_bomb_is_refused_within_the_memory_budget(build, name, message):
    data = build(1024)  # inflates to 1 GiB; 2.2 GB peak before
    assert len(data) < 1_200_000
    with pytest.raises(IngestError, match=message):
        read_limited(data, name)


def test_streams_within_the_budget_are_read():
    import zlib

    content = b"BT /F1 12 Tf 72 700 Td (" + hostile.CLAUSE.encode() + b") Tj ET" + b" " * (4 * 1024 * 1024)
    document = read_bytes(hostile.text_page_pdf(zlib.compress(content), b"/Filter /FlateDecode"), "ok.pdf")
    assert hostile.CLAUSE in document.text


# --- DOCX containers ---------------------------------------------------------------------------------------

def test_a_body_of_millions_of_empty_paragraphs_is_refused():
    data = hostile.docx(hostile.paragraph(hostile.CLAUSE) + "<w:p/>" * 300_000)
    with pytest.raises(IngestError, match="more than 250,000 paragraphs and tables"):
        read_limited(data, "empty-paragraphs.docx")


def test_a_part_that_truly_unpacks_past_the_budget_is_refused():
    padding = "<!--" + " " * (40 * 1024 * 1024) + "-->"
    data = hostile.docx(hostile.paragraph(hostile.CLAUSE) + padding)
    with pytest.raises(IngestError, match="more than its limit"):
        read_limited(data, "padded.docx")


def test_an_xml_parse_error_is_one_line():
    data = hostile.docx(hostile.paragraph(hostile.CLAUSE + "\x00"))
    with pytest.raises(IngestError, match="damaged DOCX") as raised:
        read_bytes(data, "nul.docx")
    assert "\n" not in str(raised.value)


# --- the limits module -------------------------------------------------------------------------------------

def _sleep_for_ever():
    while True:
        time.sleep(60)


def _hoard_memory():
    hoard = []
    while True:
        hoard.append(bytearray(32 * 1024 * 1024))


def _fail_unexpectedly():
    raise KeyError("odd")


def test_run_limited_returns_the_result_and_passes_audit_errors_on():
    assert run_limited(sum, [1, 2, 3]) == 6
    with pytest.raises(IngestError, match="^x: the file is empty$"):
        run_limited(read_bytes, b"", "x", name="x")


def test_run_limited_stops_at_the_time_limit():
    started = time.perf_counter()
    with pytest.raises(LimitExceeded, match=r"^slow: took longer than 1 s \(time limit\); stopped$"):
        run_limited(_sleep_for_ever, budgets=Budgets(seconds=1), name="slow")
    assert time.perf_counter() - started < 30


def test_run_limited_stops_at_the_memory_limit():
    with pytest.raises(LimitExceeded, match="256 MiB"):
        run_limited(_hoard_memory, budgets=Budgets(seconds=60, memory_mb=256), name="hog")


def test_run_limited_turns_a_reader_bug_into_one_line():
    with pytest.raises(AuditError, match=r"^odd.pdf: unexpected error while reading \(KeyError: 'odd'\)$"):
        run_limited(_fail_unexpectedly, name="odd.pdf")


def _sum_limited():
    return run_limited(sum, [1, 2, 3])


def test_run_limited_works_from_a_pool_worker_and_a_thread():
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    with multiprocessing.get_context("fork").Pool(1) as pool:  # daemonic workers, as the web server may use
        assert pool.apply(_sum_limited) == 6
    with ThreadPoolExecutor(1) as threads:
        assert threads.submit(_sum_limited).result() == 6


def test_audit_limited_takes_bytes_or_a_path(auditor, tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(f"1. {hostile.CLAUSE}\n")
    from_path = audit_limited(auditor, path)
    from_bytes = audit_limited(auditor, path.read_bytes(), name="c.txt")
    assert from_path.risk_score == from_bytes.risk_score
    assert from_bytes.document.path == "c.txt"
    with pytest.raises(AuditError, match="larger than the 1 MiB limit"):
        audit_limited(auditor, b"x" * (2 * 1024 * 1024), Budgets(file_mb=1), name="big.txt")


# --- the command line --------------------------------------------------------------------------------------

def run_cli(*args, cwd=None) -> tuple[subprocess.CompletedProcess, int]:
    """Run `contract-audit` as a real process; returns it and its peak resident memory in bytes."""
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
               "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr);"
               "sys.stderr.write('\\n@peak ' + str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
               "sys.exit(done.returncode)")
    command = [sys.executable, "-c", measure, sys.executable, "-m", "contract_audit.cli", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CLI_LIMIT_SECONDS * 3, cwd=cwd)
    stderr, _, peak = done.stderr.rpartition("\n@peak ")
    done.stderr = stderr
    return done, int(peak) * 1024


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    files = {
        "cycle.pdf": hostile.page_tree_cycle_pdf(),
        "bomb.pdf": hostile.flate_bomb_pdf(1024),
        "lying.docx": hostile.lying_zip_docx(1024),
        "letters.docx": hostile.huge_start_docx("lowerLetter"),
        "roman.docx": hostile.huge_start_docx("upperRoman"),
        "bad-ilvl.docx": hostile.malformed_numbering_docx(paragraph_ilvl="x"),
        "styles.docx": hostile.many_styles_docx(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("name, status, message", [
    ("cycle.pdf", 2, "damaged page tree"),
    ("bomb.pdf", 2, "compression bomb"),
    ("lying.docx", 2, "not a readable DOCX"),
    ("letters.docx", 0, None),
    ("roman.docx", 0, None),
    ("bad-ilvl.docx", 0, None),
    ("styles.docx", 0, None),
])
def test_the_cli_answers_hostile_files_within_its_limits(hostile_dir, name, status, message):
    started = time.perf_counter()
    done, peak = run_cli("scan", "--format", "json", hostile_dir / name)
    assert time.perf_counter() - started < CLI_LIMIT_SECONDS
    assert peak < CLI_LIMIT_BYTES
    assert "Traceback" not in done.stderr
    assert done.returncode == status, done.stderr
    if message:
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {hostile_dir / name}: ")
        assert message in done.stderr
    else:
        assert json.loads(done.stdout)["document"]["format"] == "docx"


def test_the_cli_answers_byte_flipped_files_with_reports_or_one_line_errors(tmp_path):
    cases = hostile.fuzz_cases(seed=7, count=24)
    for name, data in cases:
        (tmp_path / name).write_bytes(data)
    done, _ = run_cli("scan", "--format", "json", "-o", tmp_path / "out.json", *[tmp_path / n for n, _ in cases])
    assert "Traceback" not in done.stderr
    errors = done.stderr.splitlines()
    assert all(line.startswith("error: ") and "unexpected error" not in line for line in errors)
    assert done.returncode == (2 if errors else 0)
    reports = json.loads((tmp_path / "out.json").read_text()) if len(errors) < len(cases) else []
    assert len(reports) + len(errors) == len(cases)


def _slow_audit(self, path):
    _sleep_for_ever()


def test_scan_stops_a_contract_at_its_timeout(tmp_path, monkeypatch):
    from contract_audit.api import Auditor

    path = tmp_path / "c.txt"
    path.write_text(f"1. {hostile.CLAUSE}\n")
    monkeypatch.setattr(Auditor, "audit", _slow_audit)
    result = CliRunner().invoke(main, ["scan", "--timeout", "1", "--max-memory", "512", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: took longer than 1 s (time limit); stopped\n"


@pytest.mark.parametrize("policy, message", [
    ("severity:\n  data-residency-abroad:\n    level: high\n", "'severity' must map names to single values"),
    ("thresholds:\n  exit: {low: 0.2}\n", "'thresholds' must map names to single values"),
    ("weights:\n  high: [1, 2]\n", "'weights' must map names to single values"),
    ("1: a\nfoo: b\n", "unknown policy key '1'"),
    ("~: a\nfoo: b\n", "unknown policy key 'None'"),
    ("weights:\n  high: .inf\n", "'weights' maps severities to non-negative numbers"),
])
def test_a_malformed_policy_file_is_one_line_and_exit_2(tmp_path, policy, message):
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    contract = tmp_path / "c.txt"
    contract.write_text(f"1. {hostile.CLAUSE}\n")
    result = CliRunner().invoke(main, ["scan", "--policy", str(path), str(contract)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


# --- the batch ---------------------------------------------------------------------------------------------

class _FullDisk:
    """A connection whose commits fail after `allowed` of them, as SQLite's do when the disk fills up."""

    def __init__(self, db, allowed: int):
        self.db, self.allowed = db, allowed

    def execute(self, sql, *args):
        if sql == "COMMIT":
            if self.allowed <= 0:
                raise sqlite3.OperationalError("database or disk is full")
            self.allowed -= 1
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_a_full_disk_at_a_store_commit_is_one_line(tmp_path):
    from contract_audit.batch.records import Outcome
    from contract_audit.batch.store import Store

    store = Store(tmp_path / "results.sqlite")
    store.db = _FullDisk(store.db, allowed=0)
    with pytest.raises(AuditError, match=r"cannot write the results store \(database or disk is full\)"):
        store.save(Outcome(sha256="0" * 64, path="a.pdf", status="failed", error="x"))
    store.db = store.db.db
    assert store.finished() == set()  # nothing half written
    store.close()


def test_the_batch_stops_with_one_line_when_the_disk_fills(tmp_path, monkeypatch):
    import contract_audit.batch.store as store_module

    for n in range(3):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / f"c{n}.txt").write_text(f"1. {hostile.CLAUSE} ({n})\n")
    connect = sqlite3.connect
    # the store's set-up takes a few commits; the disk fills at the first result
    monkeypatch.setattr(store_module.sqlite3, "connect", lambda *a, **k: _FullDisk(connect(*a, **k), allowed=2))
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "-q", "-j", "1"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1
    assert "cannot write the results store (database or disk is full)" in result.stderr


def test_a_batch_of_hostile_files_records_each_with_a_reason(hostile_dir, tmp_path):
    from contract_audit.batch import BatchOptions, run_batch

    summary = run_batch([str(hostile_dir)], BatchOptions(out=tmp_path, jobs=2, formats=("jsonl",), progress=False))
    assert (summary.files, summary.ok, summary.failed) == (7, 4, 3)
    rows = {json.loads(line)["path"].rpartition("/")[2]: json.loads(line)
            for line in (tmp_path / "results.jsonl").read_text().splitlines()}
    assert "damaged page tree" in rows["cycle.pdf"]["error"]
    assert "compression bomb" in rows["bomb.pdf"]["error"]
    assert "not a readable DOCX" in rows["lying.docx"]["error"]


# --- a seeded fuzzing pass ---------------------------------------------------------------------------------

def test_byte_flipped_pdf_and_docx_read_or_are_refused_in_one_line():
    for name, data in hostile.fuzz_cases(seed=11, count=160):
        try:
            read_limited(data, name)
        except LimitExceeded as exc:
            pytest.fail(f"{name} ran over its budget: {exc}")
        except AuditError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(f"{name}: ")
            assert "unexpected error" not in message, message
