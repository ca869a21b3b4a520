import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from contract_audit.cli import main

RISKY = (
    "MASTER PLATFORM AGREEMENT\n"
    'This Agreement is between the City of Riverton (the "City") and Apex Cloud Ltd (the "Supplier").\n'
    "1. MONITORING\n"
    "1.1 The City shall not install any third-party monitoring or scanning software on the Platform without the "
    "Supplier's prior written consent.\n"
    "2. FEES\n2.1 The City shall pay the fees within 30 days.\n"
)


@pytest.fixture()
def risky_file(tmp_path):
    path = tmp_path / "risky.txt"
    path.write_text(RISKY)
    return path


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def test_scan_json_contract(risky_file):
    result = run("scan", risky_file, "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert set(report["document"]) >= {"path", "sha256", "format", "pages", "clause_count"}
    assert 0 <= report["score"]["risk"] <= 100 and report["score"]["grade"] in "ABCDF"
    risk = [f for f in report["findings"] if f["kind"] == "risk"]
    assert [(f["family"], f["clause"]["number"], f["clause"]["page"]) for f in risk] == [("monitoring", "1.1", 1)]
    finding = risk[0]
    assert finding["source"] in ("pattern", "both")
    assert finding["severity"] in ("critical", "high", "medium", "low")
    assert finding["clause"]["text"][finding["match"]["start"]:finding["match"]["end"]] == finding["match"]["text"]
    missing = {f["family"] for f in report["findings"] if f["kind"] == "missing"}
    assert "key-custody" in missing and all(f["clause"] is None for f in report["findings"] if f["kind"] == "missing")
    assert report["families"]["monitoring"] == {"risks": 1, "protected": False}


def test_scan_several_files_gives_a_list(risky_file, tmp_path):
    other = tmp_path / "other.md"
    other.write_text("# Agreement\n\n1. The City may install any third-party monitoring tool.\n")
    result = run("scan", risky_file, other, "--format", "json")
    reports = json.loads(result.stdout)
    assert [r["document"]["format"] for r in reports] == ["text", "markdown"]
    assert reports[1]["families"]["monitoring"]["protected"] is True


@pytest.mark.parametrize("fmt, marker", [("md", "# Sovereignty audit"), ("html", "<!doctype html>")])
def test_scan_markdown_and_html(risky_file, tmp_path, fmt, marker):
    out = tmp_path / f"report.{fmt}"
    result = run("scan", risky_file, "--format", fmt, "-o", out)
    assert result.exit_code == 0
    text = out.read_text()
    assert text.startswith(marker)
    assert "without the Supplier" in text


def test_html_escapes_contract_text(tmp_path):
    path = tmp_path / "evil.txt"
    path.write_text("1. The City shall not install any monitoring tool <script>alert(1)</script> without the Supplier's consent.\n")
    result = run("scan", path, "--format", "html")
    assert "<script>alert(1)</script>" not in result.stdout
    assert "&lt;script&gt;" in result.stdout


def test_fail_on(risky_file):
    assert run("scan", risky_file, "--fail-on", "high").exit_code == 1
    # Missing key custody is critical, so even "critical" is met by this draft.
    assert run("scan", risky_file, "--fail-on", "critical").exit_code == 1


def test_bad_input_is_one_line_and_exit_2(tmp_path, risky_file):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    result = CliRunner().invoke(main, ["scan", str(bad), str(risky_file), "--format", "json"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line]
    assert len(errors) == 1 and errors[0].startswith("error: ") and "bad.pdf" in errors[0]
    # Several files were given, so the output is a list whatever number of them could be read.
    reports = json.loads(result.stdout)
    assert isinstance(reports, list) and len(reports) == 1
    assert reports[0]["document"]["path"].endswith("risky.txt")


def test_no_traceback_from_the_real_command(tmp_path):
    bad = tmp_path / "empty.docx"
    bad.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "contract_audit.cli", "scan", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_classify_clause_mode(tmp_path):
    lines = [
        {"id": "a", "text": "The City shall not install any monitoring tool not approved by the Supplier."},
        {"id": "b", "text": "The City may install any third-party monitoring tool."},
        {"id": "c", "text": "The Supplier shall keep fire exits clear."},
    ]
    path = tmp_path / "clauses.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = run("classify", path)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert out[0]["families"] == ["monitoring"] and out[0]["findings"][0]["kind"] == "risk"
    assert out[1]["families"] == [] and out[1]["protects"] == ["monitoring"]
    assert out[2] == {"id": "c", "families": [], "protects": [], "findings": []}
    assert all(f["kind"] != "missing" for o in out for f in o["findings"])


def test_classify_bad_line(tmp_path):
    path = tmp_path / "clauses.jsonl"
    path.write_text('{"id": 1, "text": "ok"}\nnot json\n')
    result = CliRunner().invoke(main, ["classify", str(path)])
    assert result.exit_code == 2
    assert "clauses.jsonl:2: not valid JSON" in result.stderr


def test_rules_commands(tmp_path):
    listing = run("rules", "list")
    assert listing.exit_code == 0 and "monitoring-third-party-tools-restricted" in listing.stdout
    shown = run("rules", "show", "monitoring-third-party-tools-restricted")
    assert "Write instead" in shown.stdout
    assert CliRunner().invoke(main, ["rules", "show", "nope"]).exit_code == 2
    assert run("rules", "validate").exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: Bad Id\n")
    result = CliRunner().invoke(main, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2 and "bad.yaml:2" in result.stderr


@pytest.mark.parametrize("args", [["scan"], ["scan", "x.pdf", "--format", "xml"], ["nosuch"], ["rules", "show"]])
def test_usage_errors_are_one_line_and_exit_2(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and "--help" in result.stderr


def test_redline_never_overwrites_the_contract_and_needs_a_printable_author(tmp_path, risky_file):
    original = risky_file.read_bytes()
    result = CliRunner().invoke(main, ["redline", str(risky_file), "-o", str(risky_file)])
    assert result.exit_code == 2 and "is the contract itself" in result.stderr and risky_file.read_bytes() == original
    result = CliRunner().invoke(main, ["redline", str(risky_file), "-o", str(tmp_path / "r.docx"), "--author", "A\x01B"])
    assert result.exit_code == 2 and "--author" in result.stderr


def test_control_characters_in_a_text_contract_do_not_break_docx_outputs(tmp_path):
    contract = tmp_path / "ctrl.txt"
    contract.write_text("1. The Supplier shall hold the encryption keys.\x01\x07 Also\x1b this.\n2. Other terms \ufffe here.\n")
    for args in (["redline", str(contract), "-o", str(tmp_path / "r.docx")],
                 ["checklist", str(contract), "--format", "docx", "-o", str(tmp_path / "c.docx")]):
        assert CliRunner().invoke(main, args).exit_code == 0


def test_classify_input_that_is_not_text_is_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "x", "text": "\xff"}\n')
    result = CliRunner().invoke(main, ["classify", str(bad)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    surrogate = tmp_path / "surrogate.jsonl"  # half of a character, as a string cut in the wrong place leaves it
    surrogate.write_text('{"id": "x", "text": "\\ud800 The Supplier shall hold the encryption keys."}\n')
    result = CliRunner().invoke(main, ["classify", str(surrogate)])
    assert result.exit_code == 0 and json.loads(result.stdout)["families"] == ["key-custody"]
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes('\ufeff{"id": "x", "text": "The Supplier shall hold the encryption keys."}\n'.encode())
    result = CliRunner().invoke(main, ["classify", str(bom)])
    assert result.exit_code == 0 and json.loads(result.stdout)["families"] == ["key-custody"]


def test_a_full_standard_output_is_one_line_not_a_traceback():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "contract_audit.cli", "rules", "list"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip().startswith("error: ") and "Traceback" not in result.stderr


def test_a_contract_not_in_english_is_reported_with_a_warning(tmp_path, risky_file):
    spanish = tmp_path / "contrato.txt"
    spanish.write_text("1. El Proveedor almacenará todos los datos de la Ciudad fuera del país y conservará las "
                       "claves de cifrado.\n" * 20, encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(spanish)])
    assert "**Warning:** The text does not read as English" in result.stdout
    reports = json.loads(CliRunner().invoke(main, ["scan", str(spanish), str(risky_file), "--format", "json"]).stdout)
    assert [bool(report["warnings"]) for report in reports] == [True, False]
