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


# Clauses the classifier alone flags in families where the contract has no planted risk.
KNOWN_CLASSIFIER_FALSE_ALARMS = {
    ("protected_cloud_services", "energy", "5.4"),  # cost of electricity included in the Charges
    ("mixed_edge_inference", "monitoring", "5.4"),  # a key-custody risk ("void the warranty") read as monitoring
}


def expected_risks():
    for name in CONTRACTS:
        for entry in expected(name)["findings"]:
            if entry["kind"] != "risk":
                continue
            for fmt in FORMATS:
                yield pytest.param(name, fmt, entry["family"], str(entry["clause"]), entry["page"],
                                   id=f"{name}-{fmt}-{entry['family']}-{entry['clause']}")


@pytest.mark.parametrize("name, fmt, family, clause, page", list(expected_risks()))
def test_expected_risk_found_at_its_clause_and_page(reports, name, fmt, family, clause, page):
    found = {(f.family, f.clause.number, f.clause.page) for f in reports[(name, fmt)].findings if f.kind == "risk"}
    assert (family, clause, page) in found


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", CONTRACTS)
def test_missing_protections_and_clean_families(reports, name, fmt):
    report = reports[(name, fmt)]
    spec = expected(name)
    wanted_missing = {e["family"] for e in spec["findings"] if e["kind"] == "missing"}
    got_missing = {f.family for f in report.findings if f.kind == "missing"}
    assert got_missing == wanted_missing
    clean = set(spec.get("no_risk") or [])
    rule_backed = {f.family for f in report.findings if f.kind == "risk" and f.source != "classifier"}
    assert rule_backed.isdisjoint(clean)
    classifier_only = {(name, f.family, f.clause.number) for f in report.findings
                       if f.kind == "risk" and f.source == "classifier" and f.family in clean}
    assert classifier_only == {k for k in KNOWN_CLASSIFIER_FALSE_ALARMS if k[0] == name}


@pytest.mark.parametrize("name", CONTRACTS)
def test_formats_agree_on_clause_numbering(reports, name):
    numbers = {fmt: [c.number for c in reports[(name, fmt)].clauses if c.number] for fmt in FORMATS}
    assert numbers["pdf"] == numbers["txt"] == numbers["docx"]
    pages = {fmt: reports[(name, fmt)].document.pages for fmt in FORMATS}
    assert pages["pdf"] == pages["txt"] == pages["docx"] == expected(name)["pages"]
