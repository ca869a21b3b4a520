"""Comparing drafts: clause alignment (renumbered, moved, reworded) and findings resolved, new, remaining."""
import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from contract_audit.cli import main
from contract_audit.compare import align_clauses, compare_reports
from contract_audit.report.compare import render_comparison, word_diff

SAMPLES = Path(__file__).resolve().parent.parent / "sample_contracts"
REVISIONS = SAMPLES / "revisions"
SPEC = yaml.safe_load((REVISIONS / "turnkey_ai_stack_revised.yaml").read_text())


@pytest.fixture(scope="module", params=SPEC["formats"])
def revision(request, auditor):
    fmt = request.param
    old = auditor.audit(SAMPLES / f"{SPEC['old_draft']}.{fmt}")
    new = auditor.audit(REVISIONS / f"{SPEC['new_draft']}.{fmt}")
    return old, new, compare_reports(old, new)


def _number(clause):
    return clause.number if clause is not None else None


def _risk_changes(comparison, status):
    return [c for c in comparison.finding_changes(status) if c.finding.kind == "risk"]


def test_exactly_one_risk_resolved_and_one_new(revision):
    _, _, comparison = revision
    resolved = {(c.finding.family, _number(c.old_clause), _number(c.new_clause)) for c in _risk_changes(comparison, "resolved")}
    assert resolved == {(e["family"], e["old_clause"], e["new_clause"]) for e in SPEC["resolved_risks"]}
    new = {(c.finding.family, _number(c.new_clause)) for c in _risk_changes(comparison, "new")}
    assert new == {(e["family"], e["new_clause"]) for e in SPEC["new_risks"]}


def test_every_other_risk_remains_at_its_renumbered_clause(revision):
    old, _, comparison = revision
    renumbered = SPEC["renumbered"]
    fixed = {(e["family"], e["old_clause"]) for e in SPEC["resolved_risks"]}
    expected = {(f.rule_id, f.clause.number, renumbered.get(f.clause.number, f.clause.number))
                for f in old.findings if f.kind == "risk" and (f.family, f.clause.number) not in fixed}
    remaining = {(c.old.rule_id, c.old.clause.number, c.new.clause.number) for c in _risk_changes(comparison, "remaining")}
    assert remaining == expected
    assert {("monitoring", "6.2", "6.2"), ("monitoring", "6.4(a)", "6.5(a)")} <= {(r[0].split("-")[0], r[1], r[2]) for r in remaining}


def test_missing_protections_follow_the_two_audits(revision):
    old, new, comparison = revision
    old_missing = {f.family for f in old.findings if f.kind == "missing"}
    new_missing = {f.family for f in new.findings if f.kind == "missing"}
    missing = {status: {c.finding.family for c in comparison.finding_changes(status) if c.finding.kind == "missing"}
               for status in ("resolved", "new", "remaining")}
    assert missing == {"resolved": old_missing - new_missing, "new": new_missing - old_missing,
                       "remaining": old_missing & new_missing}


def test_clause_changes_are_exactly_the_revision(revision):
    _, _, comparison = revision
    changed = [c for c in comparison.clauses if c.status != "unchanged"]
    assert [_number(c.new) for c in changed if c.status == "added"] == SPEC["added"]
    assert [c for c in changed if c.status in ("removed", "moved")] == []
    assert {_number(c.old): _number(c.new) for c in comparison.clauses if c.reworded} == SPEC["reworded"]
    assert {_number(c.old): _number(c.new) for c in comparison.clauses if c.renumbered} == SPEC["renumbered"]
    assert all(c.similarity == 100 for c in comparison.clauses if c.status == "renumbered")


def test_json_contract(revision):
    _, _, comparison = revision
    data = json.loads(render_comparison(comparison, "json"))
    assert data["schema_version"] == 1
    assert set(data) == {"schema_version", "old", "new", "summary", "findings", "clauses"}
    assert data["summary"]["findings"]["resolved"] == len(comparison.finding_changes("resolved"))
    assert data["summary"]["clauses"]["added"] == 1 and data["summary"]["clauses"]["removed"] == 0
    statuses = {f["status"] for f in data["findings"]}
    assert statuses == {"resolved", "new", "remaining"}
    fixed = next(f for f in data["findings"] if f["status"] == "resolved" and f["kind"] == "risk")
    assert (fixed["old_clause"]["number"], fixed["new_clause"]["number"]) == ("6.5", "6.6")
    reworded = next(c for c in data["clauses"] if c["status"] == "reworded")
    assert "property of the Supplier" in reworded["old_text"] and "property of the City" in reworded["new_text"]
    assert all(c["status"] != "unchanged" for c in data["clauses"])


def test_markdown_and_html(revision):
    _, _, comparison = revision
    md = render_comparison(comparison, "md")
    assert md.startswith("# Draft comparison: turnkey_ai_stack.")
    # Resolved: the withheld-logs risk, and the missing monitoring protection (the City now gets raw logs on request).
    assert "## Resolved findings (2)" in md and "## New findings (1)" in md
    assert "clause 6.5 (now 6.6)" in md and "| 6.4(a) | 6.5(a) | renumbered | 100 |" in md
    assert "~~Supplier.~~ **City.**" in md
    html = render_comparison(comparison, "html")
    assert html.startswith("<!doctype html>") and "<del>Supplier.</del>" in html and "<ins>City.</ins>" in html
    assert "http://" not in html and "https://" not in html


def test_docx_against_text_gives_the_same_finding_changes(auditor):
    old = auditor.audit(SAMPLES / "turnkey_ai_stack.docx")
    new = auditor.audit(REVISIONS / "turnkey_ai_stack_revised.txt")
    comparison = compare_reports(old, new)
    assert [(c.finding.family, _number(c.new_clause)) for c in _risk_changes(comparison, "new")] == [("monitoring", "6.3")]
    assert len(_risk_changes(comparison, "resolved")) == 1


def test_identical_drafts_have_no_changes(auditor):
    report = auditor.audit(SAMPLES / "mixed_edge_inference.txt")
    comparison = compare_reports(report, report)
    assert {c.status for c in comparison.clauses} == {"unchanged"}
    assert {c.status for c in comparison.findings} == {"remaining"}


def _text_report(auditor, text: str, name: str):
    return auditor.audit_bytes(text.encode(), name)


MOVED_OLD = """SUPPLY AGREEMENT
1. GENERAL
1.1 The Supplier shall deliver the equipment to the Site by the Delivery Date.
1.2 The City shall pay each invoice within thirty days of receipt.
1.3 The Supplier shall keep the equipment insured until the City accepts it.
2. TERMINATION
2.1 Either party may terminate this Agreement if the other commits a material breach of Clause 1.1.
2.2 On termination the Supplier shall return all documents of the City.
"""
MOVED_NEW = """SUPPLY AGREEMENT
1. GENERAL
1.1 The City shall pay each invoice within thirty days of receipt.
1.2 The Supplier shall keep the equipment insured until the City accepts it.
1.3 The Supplier shall deliver the equipment to the Site by the Delivery Date.
2. TERMINATION
2.1 Either party may terminate this Agreement if the other commits a material breach of Clause 1.3.
2.2 On termination the Supplier shall promptly return all documents and data of the City.
"""


def test_moved_clause_updated_reference_and_rewording(auditor):
    comparison = compare_reports(_text_report(auditor, MOVED_OLD, "old.txt"), _text_report(auditor, MOVED_NEW, "new.txt"))
    changes = {(_number(c.old), _number(c.new)): c for c in comparison.clauses}
    assert changes[("1.1", "1.3")].status == "moved" and changes[("1.1", "1.3")].renumbered
    assert changes[("1.2", "1.1")].status == "renumbered" and changes[("1.3", "1.2")].status == "renumbered"
    reference = changes[("2.1", "2.1")]
    assert reference.references_updated and not reference.reworded and reference.status == "unchanged"
    reworded = changes[("2.2", "2.2")]
    assert reworded.status == "reworded" and 70 <= reworded.similarity < 100


def test_a_wrong_reference_is_a_rewording(auditor):
    wrong = MOVED_NEW.replace("breach of Clause 1.3", "breach of Clause 1.2")
    comparison = compare_reports(_text_report(auditor, MOVED_OLD, "old.txt"), _text_report(auditor, wrong, "new.txt"))
    clause = next(c for c in comparison.clauses if _number(c.old) == "2.1")
    assert clause.reworded and not clause.references_updated


def test_alignment_ignores_order_for_identical_wording(auditor):
    old = _text_report(auditor, MOVED_OLD, "old.txt").clauses
    new = _text_report(auditor, MOVED_NEW, "new.txt").clauses
    pairs = align_clauses(old, new)
    assert len(pairs) == len(old) == len(new)


def test_word_diff():
    assert word_diff("the logs of the Supplier", "the logs of the City") == [
        ("equal", "the logs of the"), ("delete", "Supplier"), ("insert", "City")]


def test_revised_sample_is_in_sync_with_its_script():
    spec = importlib.util.spec_from_file_location("make_revised", REVISIONS / "make_revised.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original = (SAMPLES / "turnkey_ai_stack.txt").read_text(encoding="utf-8")
    assert module.revise_text(original) == (REVISIONS / "turnkey_ai_stack_revised.txt").read_text(encoding="utf-8")
    assert module.revise_docx((SAMPLES / "turnkey_ai_stack.docx").read_bytes()) == \
        (REVISIONS / "turnkey_ai_stack_revised.docx").read_bytes()


def test_cli_compare(tmp_path):
    old, new = SAMPLES / "turnkey_ai_stack.txt", REVISIONS / "turnkey_ai_stack_revised.txt"
    runner = CliRunner()
    result = runner.invoke(main, ["compare", str(old), str(new), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0 and json.loads(result.stdout)["summary"]["findings"]["new"] >= 1
    result = runner.invoke(main, ["compare", str(old), str(new), "--format", "html", "-o", str(tmp_path / "c.html")])
    assert result.exit_code == 0 and (tmp_path / "c.html").read_text().startswith("<!doctype html>")
    assert runner.invoke(main, ["compare", str(old), str(new), "--fail-on-new"]).exit_code == 1
    assert runner.invoke(main, ["compare", str(old), str(old), "--fail-on-new"]).exit_code == 0
    result = runner.invoke(main, ["compare", str(old), str(tmp_path / "nope.pdf")])
    assert result.exit_code == 2 and result.stderr.startswith("error:")
