"""Every sample contract's expected findings are found in all three formats, with clause numbers and pages."""
from pathlib import Path

import pytest
import yaml

SAMPLES = Path(__file__).resolve().parent.parent / "sample_contracts"
CONTRACTS = sorted(p.stem for p in (SAMPLES / "expected").glob("*.yaml"))
FORMATS = ("pdf", "docx", "txt")


def expected(name):
    return yaml.safe_load((SAMPLES / "expected" / f"{name}.yaml").read_text())


@pytest.fixture(scope="module")
def reports(auditor):
    return {(name, fmt): auditor.audit(SAMPLES / f"{name}.{fmt}") for name in CONTRACTS for fmt in FORMATS}


def test_there_are_three_samples_in_three_formats():
    assert len(CONTRACTS) >= 3
    for name in CONTRACTS:
        for fmt in FORMATS:
            assert (SAMPLES / f"{name}.{fmt}").is_file()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", CONTRACTS)
def test_expected_risks_found_at_their_clause_and_page(reports, name, fmt):
    report = reports[(name, fmt)]
    found = {(f.family, f.clause.number, f.clause.page) for f in report.findings if f.kind == "risk"}
    wanted = [(e["family"], str(e["clause"]), e["page"]) for e in expected(name)["findings"] if e["kind"] == "risk"]
    missed = [w for w in wanted if w not in found]
    assert missed == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", CONTRACTS)
def test_missing_protections_and_clean_families(reports, name, fmt):
    report = reports[(name, fmt)]
    spec = expected(name)
    wanted_missing = {e["family"] for e in spec["findings"] if e["kind"] == "missing"}
    got_missing = {f.family for f in report.findings if f.kind == "missing"}
    assert got_missing == wanted_missing
    risky_families = {f.family for f in report.findings if f.kind == "risk"}
    assert risky_families.isdisjoint(spec.get("no_risk") or [])


@pytest.mark.parametrize("name", CONTRACTS)
def test_formats_agree_on_clause_numbering(reports, name):
    numbers = {fmt: [c.number for c in reports[(name, fmt)].clauses if c.number] for fmt in FORMATS}
    assert numbers["pdf"] == numbers["txt"] == numbers["docx"]
    pages = {fmt: reports[(name, fmt)].document.pages for fmt in FORMATS}
    assert pages["pdf"] == pages["txt"] == pages["docx"] == expected(name)["pages"]
