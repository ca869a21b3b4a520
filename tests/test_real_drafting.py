"""Real drafting: parties however a contract defines them, and protections that count only where granted."""
import csv
import io
import json

import pytest
from click.testing import CliRunner

from contract_audit import Auditor
from contract_audit.batch import BatchOptions, run_batch
from contract_audit.clauses import parties_in_text
from contract_audit.cli import main
from contract_audit.evaluate import LabelledClause, Predicted, score_predictions
from contract_audit.polarity import denial
from contract_audit.training import document_key

PROBE = (
    'This Agreement is made between the City of Brightwater (the "City") and Helix Cloud Ltd, a company\n'
    'registered in Ireland (the "Supplier").\n'
    "1.1 The City shall not hold any encryption key used to protect City Data.\n"
    "1.2 Customer-held keys are not supported.\n"
    "1.3 Helix Cloud Ltd may access the Platform remotely at any time.\n"
    "1.4 Helix Cloud Ltd may at its discretion store City Data in any of its data centres worldwide.\n"
)


@pytest.fixture(scope="module")
def auditor():
    return Auditor()


@pytest.fixture(scope="module")
def probe_report(auditor):
    return auditor.audit_bytes(PROBE.encode(), "probe.txt")


def test_negated_and_unsupported_keys_are_no_protection(probe_report):
    assert not probe_report.families["key-custody"].protected
    missing = [f for f in probe_report.findings if f.kind == "missing" and f.family == "key-custody"]
    assert len(missing) == 1
    assert "Clause 1.1" in missing[0].message and "does not count" in missing[0].message


@pytest.mark.parametrize("number, family", [("1.3", "remote-access"), ("1.4", "data-residency")])
def test_named_vendor_gets_rule_backed_findings(probe_report, number, family):
    hits = [f for f in probe_report.findings if f.kind == "risk" and f.clause and f.clause.number == number]
    assert [f.family for f in hits] == [family]
    assert hits[0].source in ("pattern", "both")


@pytest.mark.parametrize("head, vendor, buyer", [
    (PROBE, "Helix Cloud Ltd", "City of Brightwater"),
    ('This Contract is entered into by and between the Ministry of Digital Economy (hereinafter "the Authority") '
     'of the one part, and Shenzhen Dragon AI Co., Ltd. (hereinafter "the Contractor") of the other part.',
     "Shenzhen Dragon AI Co., Ltd.", "Ministry of Digital Economy"),
    ('Acme Systems Inc., a Delaware corporation ("Vendor"), and the County of Lake ("County") agree as follows.',
     "Acme Systems Inc.", "County of Lake"),
    ('THIS AGREEMENT is made BETWEEN: (1) NOVASTACK LIMITED ("Supplier"); and (2) THE CITY OF SARENE (the "Customer").',
     "NOVASTACK LIMITED", "CITY OF SARENE"),
])
def test_parties_named_before_their_defined_role(head, vendor, buyer):
    parties = parties_in_text(head)
    assert parties.vendor[:1] == (vendor,)
    assert parties.buyer[:1] == (buyer,)
    assert vendor in parties.vendor_basis and buyer in parties.buyer_basis


def test_role_word_alone_names_no_party():
    parties = parties_in_text('The Supplier (the "Supplier") shall comply with the Customer\'s policies.')
    assert parties.vendor == () and parties.buyer == ()


# Pairs that differ only in polarity: the first grants the buyer a protection, the second does not.
POLARITY_PAIRS = [
    ("The City shall hold all encryption keys used to protect City Data.",
     "The City shall not hold any encryption key used to protect City Data."),
    ("Customer-held keys are supported for every storage volume.",
     "Customer-held keys are not supported."),
    ("The Customer may audit the Provider's security controls once a year.",
     "The Customer may audit the Provider's security controls once a year, only under the Premium tier."),
    ("The City may appoint an independent auditor of its choice.",
     "The City may appoint an independent auditor, subject to the Supplier's prior approval."),
    ("The audit right is exercised by an auditor chosen by the City.",
     "The audit right is exercised by an auditor designated by the Provider."),
    ("The Customer may terminate this Agreement for convenience on 90 days' notice.",
     "The Customer may not terminate this Agreement for convenience."),
    ("Export of all data in open formats is included in the Services.",
     "Export of all data in open formats is not included in the Services."),
]


@pytest.mark.parametrize("granted, withheld", POLARITY_PAIRS)
def test_polarity_pairs(granted, withheld):
    assert denial(granted) is None
    assert denial(withheld) is not None


def test_protection_denied_to_the_vendor_still_protects():
    assert denial("City Data shall not be available to the Supplier or any third party.") is None
    assert denial("The Supplier shall not access City Data without the City's written consent.") is None


@pytest.mark.parametrize("granted, withheld", POLARITY_PAIRS[:2])
def test_scan_counts_only_granted_key_protections(auditor, granted, withheld):
    granted_result, withheld_result = auditor.classify([granted, withheld])
    assert "key-custody" in granted_result.protects
    assert "key-custody" not in withheld_result.protects


def test_batch_vendor_column_names_the_supplier(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "probe.txt").write_text(PROBE)
    run_batch([str(folder)], BatchOptions(out=tmp_path / "out", jobs=1, progress=False), stream=io.StringIO())
    with open(tmp_path / "out" / "results.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["vendor"] for row in rows] == ["Helix Cloud Ltd"]


def test_scores_cover_both_sides():
    gold = [LabelledClause("1", "a", frozenset({"exit"}), frozenset()),
            LabelledClause("2", "b", frozenset(), frozenset({"exit"})),
            LabelledClause("3", "c", frozenset(), frozenset())]
    predicted = [Predicted(frozenset({"exit"}), frozenset()), Predicted(frozenset(), frozenset({"exit"})),
                 Predicted(frozenset(), frozenset({"exit"}))]
    evaluation = score_predictions(gold, predicted)
    assert (evaluation.micro.tp, evaluation.micro.fp, evaluation.micro.fn) == (1, 0, 0)
    assert (evaluation.protection_micro.tp, evaluation.protection_micro.fp) == (1, 1)
    assert evaluation.ordinary_flagged == 0.0


def test_one_cuad_contract_is_one_document_whatever_names_it():
    a = document_key("cuad:ACME_2001-EX-10.1-HOSTING AGREEMENT.PDF:Audit Rights")
    b = document_key("CUAD_v1:full_contract_txt/ACME_2001-EX-10.1-HOSTING AGREEMENT.txt", "CUAD: Acme hosting")
    assert a == b
    assert document_key("CommonPaper/CSA:CSA.md", "Common Paper CSA") == "doc:Common Paper CSA"
    assert document_key("written:exit.yaml", "", "w-exit-0001") != document_key("written:exit.yaml", "", "w-exit-0002")


def test_evaluate_without_a_file_is_a_usage_error():
    result = CliRunner().invoke(main, ["evaluate"])
    assert result.exit_code == 2
    assert "labelled" in result.output


def test_evaluate_reports_protections(tmp_path):
    path = tmp_path / "gold.jsonl"
    lines = [{"text": "The Customer may terminate this Agreement for convenience on 90 days' written notice.",
              "risk": [], "protects": ["exit"], "doc": "one"},
             {"text": "The Supplier shall generate and hold all encryption keys used to protect Customer Data.",
              "risk": ["key-custody"], "protects": [], "doc": "two"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = CliRunner().invoke(main, ["evaluate", str(path), "--no-grouped-cv"])
    assert result.exit_code == 0, result.output
    assert "Protections recognised" in result.output and "Risks found" in result.output


def test_reports_say_who_the_parties_are_and_how_that_was_decided(probe_report):
    from contract_audit.report.json import report_to_dict
    from contract_audit.report.markdown import render_markdown_one

    parties = report_to_dict(probe_report)["parties"]
    assert parties["buyer"] == "City of Brightwater" and parties["vendor"] == "Helix Cloud Ltd"
    assert parties["vendor_basis"].startswith("from the opening of the contract")
    assert "Buyer: City of Brightwater (from the opening" in render_markdown_one(probe_report)


def test_user_names_override_the_text(tmp_path):
    path = tmp_path / "probe.txt"
    path.write_text(PROBE.replace("Helix Cloud Ltd may", "Helix may"))
    result = CliRunner().invoke(main, ["scan", str(path), "--vendor", "Helix", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["parties"]["vendor"] == "Helix" and report["parties"]["vendor_basis"] == "as given by the user"
    remote = [f for f in report["findings"] if f["kind"] == "risk" and f["clause"]["number"] == "1.3"]
    assert remote and remote[0]["source"] in ("pattern", "both")


def test_vendor_standard_terms_say_so():
    from contract_audit.clauses import party_roles

    text = ("We provide the Service to you. You may use it. We may suspend your account. Our fees apply. "
            "You agree to pay us. We will notify you. Your data stays yours. We store it.")
    roles = party_roles(parties_in_text(text), text)
    assert "we/us" in roles.vendor_basis and "'you'" in roles.buyer_basis


def test_vendor_refusal_and_paid_extraction_withhold_protection():
    assert denial("Where an update degrades performance, the Supplier shall have no obligation to restore the prior version.")
    assert denial("Any extraction of data requested by the Customer shall be charged at the Provider's then-current rates.")
    assert denial("The Supplier shall restore the prior version within four hours.") is None


@pytest.mark.parametrize("text, vendor", [
    ("IBM, in its reasonable discretion, may change the terms of Attachment A on ninety days' notice to Customer.", "IBM"),
    ("Metavante may withdraw any of the Services on ninety days' prior written notice to Customer.", "Metavante"),
])
def test_a_named_party_acting_opposite_a_role_word_is_the_other_side(text, vendor):
    from contract_audit.clauses import clause_parties

    assert clause_parties(text).vendor == (vendor,)


def test_the_other_organisation_in_the_opening_is_the_counterparty():
    head = ('This Agreement is made by and between Oriental Financial Group Inc., a Puerto Rico holding company '
            '("Customer"), and Metavante Corporation, a Wisconsin corporation ("Metavante").')
    parties = parties_in_text(head)
    assert parties.vendor == ("Metavante", "Metavante Corporation")
    assert parties.vendor_basis.startswith("the other party named in the opening")


# Risk-side pairs that differ only in polarity: the first is a risk, the second is not (it protects instead).
RISK_PAIRS = [
    ("The Supplier may store City Data in data centres outside the Territory.",
     "The Supplier shall not store City Data in data centres outside the Territory.", "data-residency"),
    ("The Supplier shall hold all encryption keys used to protect City Data.",
     "The Supplier shall not hold any encryption key used to protect City Data.", "key-custody"),
    ("The Provider may access the Platform remotely at any time without notice.",
     "The Provider may not access the Platform remotely without the City's prior approval.", "remote-access"),
    ("The City may not install any third-party monitoring tools on the System.",
     "The City may install any third-party monitoring tools on the System.", "monitoring"),
    ("Provider will not use Customer Data except (a) to provide the Service, (b) to improve its products, "
     "(c) to train its models, (d) as required by law, and (e) as otherwise permitted.",
     "Provider will not use Customer Data except to provide the Service.", "exit"),
]


@pytest.mark.parametrize("risky, safe, family", RISK_PAIRS)
def test_risk_polarity_pairs(auditor, risky, safe, family):
    risky_result, safe_result = auditor.classify([risky, safe])
    assert family in risky_result.families and family not in risky_result.protects
    assert family not in safe_result.families and family in safe_result.protects


def test_a_promise_with_a_list_of_exceptions_protects_nothing():
    assert denial("The Provider will not disclose Customer Data except (a) to its affiliates, (b) to its "
                  "subcontractors and (c) as required by law.") is not None


def test_polarity_patterns_cannot_backtrack_exponentially():
    from contract_audit.polarity import ENGLISH, _compiled
    from contract_audit.rules import check_backtracking

    for _, pattern in _compiled(ENGLISH, ("City of Brightwater",)).checks:
        check_backtracking(pattern.pattern)  # raises UnsafeRegex


# Drafting styles of cloud vendors' standard terms and of public-sector call-off contracts, read whole.
STYLE_PROBES = [
    ("protects", "data-residency", "You may select the regions in which Your Content will be stored, and we will not move "
                                   "Your Content out of your selected regions without notifying you."),
    ("protects", "exit", "We will not access or use Your Content except as necessary to maintain or provide the Services."),
    ("risk", "updates", "We may change, discontinue, or deprecate any of the Services or remove features from time to time."),
    ("risk", "updates", "We may modify this Agreement at any time by posting a revised version on our website."),
    ("protects", "exit", "The Buyer may terminate the Call-Off Contract at any time by giving 30 days' written notice to the Supplier."),
    ("protects", "monitoring", "The Buyer, or an auditor acting on its behalf, may audit the Supplier's compliance with the "
                               "security requirements of this Call-Off Contract on reasonable notice."),
    ("risk", "data-residency", "Customer Data may be transferred to, stored and processed in any country in which the "
                               "Provider or its subprocessors operate."),
    ("risk", "exit", "Each Subscription will automatically renew for a further 12 months unless either party gives notice "
                     "of non-renewal."),
    ("ordinary", "", "The Supplier shall invoice the Buyer monthly in arrears and the Buyer shall pay valid invoices within 30 days."),
]


@pytest.mark.parametrize("side, family, text", STYLE_PROBES)
def test_standard_terms_and_call_off_drafting(auditor, side, family, text):
    result, = auditor.classify([text])
    if side == "risk":
        assert family in result.families
    elif side == "protects":
        assert family in result.protects and family not in result.families
    else:
        assert result.families == [] and result.protects == []


@pytest.mark.parametrize("text, buyer", [
    ("Bank of America personnel or its Representatives may audit the Supplier's information security program.",
     "Bank of America"),
    ("The Publishers and/or their auditors, on twenty days' notice to the Supplier, shall have the right to audit.",
     "Publishers"),
])
def test_a_named_buyer_acting_opposite_the_vendor(text, buyer):
    from contract_audit.clauses import clause_parties

    assert clause_parties(text).buyer == (buyer,)
