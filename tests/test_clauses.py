from contract_audit.clauses import find_parties, split_clauses
from contract_audit.ingest import read_bytes


def clauses_of(text: str):
    return split_clauses(read_bytes(text.encode(), "contract.txt"))


def numbers(text: str):
    return [c.number for c in clauses_of(text) if c.number]


def test_decimal_and_lettered_hierarchy():
    text = (
        "1. DEFINITIONS\nIn this Agreement words have their meaning.\n"
        "1.1 Services means the services.\n1.1.1 Including support.\n"
        "2. DATA\n2.1 The Supplier shall:\n(a) host data in the City;\n(b) not move it;\n(i) in any case; and\n(ii) at any time.\n"
        "2.2 Backups stay local.\n"
    )
    assert numbers(text) == ["1", "1.1", "1.1.1", "2", "2.1", "2.1(a)", "2.1(b)", "2.1(b)(i)", "2.1(b)(ii)", "2.2"]
    by_number = {c.number: c for c in clauses_of(text)}
    assert by_number["2.1(b)(ii)"].parent == by_number["2.1(b)"].id
    assert by_number["2"].heading == "DATA"


def test_articles_sections_and_keywords():
    text = (
        "Article 1 - Scope\nThe Contractor shall supply the System.\n"
        "Article 2 - Data\nSection 2.1 Residency. Data stays in the country.\n"
        "Sub-Clause 3.1 Extension of Time for Completion\nThe Contractor is entitled to an extension.\n"
        "Clause 4 Payment\nThe Employer shall pay.\n"
    )
    got = numbers(text)
    assert got[:3] == ["Article 1", "Article 2", "2.1"]
    assert "3.1" in got and "4" in got
    heading = {c.number: c.heading for c in clauses_of(text)}
    assert heading["Article 1"] == "Scope"
    assert heading["2.1"] == "Residency"


def test_schedule_paragraphs_are_qualified_by_their_schedule():
    text = "1. SERVICES\nThe Supplier shall perform.\n2. FEES\nThe City shall pay.\nSCHEDULE 3 - SERVICE LEVELS\n1. Availability of 99.9%.\n2. Response within an hour.\n"
    got = numbers(text)
    assert got[-3:] == ["Schedule 3", "Schedule 3 para 1", "Schedule 3 para 2"]


def test_wrapped_numbers_and_references_are_not_clauses():
    text = (
        "1. TERM\nThis Agreement runs for a period of\n36 months from the Effective Date, as set out in\n"
        "Section 4 of this Agreement and renewed under\n2019 terms.\n2. FEES\nThe fees are due.\n"
    )
    assert numbers(text) == ["1", "2"]


def test_unnumbered_headings_open_clauses():
    text = "MASTER AGREEMENT\nThis agreement is made between the parties.\nCONFIDENTIALITY\nEach party keeps secrets.\n"
    clauses = clauses_of(text)
    assert [c.heading for c in clauses] == ["MASTER AGREEMENT", "CONFIDENTIALITY"]
    assert clauses[1].text == "Each party keeps secrets."


def test_pages_follow_clauses():
    clauses = clauses_of("1. ONE\nFirst.\n\f2. TWO\nSecond.\n\f3. THREE\nThird.\n")
    assert [(c.number, c.page) for c in clauses] == [("1", 1), ("2", 2), ("3", 3)]


def test_defined_party_names():
    text = (
        'This Agreement is made between the City of Harbourtown (the "City") and NovaStack Ltd, '
        'acting as supplier ("NovaStack").\n1. SERVICES\nNovaStack shall provide the System.\n'
    )
    parties = find_parties(read_bytes(text.encode(), "c.txt"))
    assert parties.vendor == ("NovaStack", "NovaStack Ltd")  # the defined term, then the full name it stands for
    assert parties.buyer == ("City of Harbourtown",)
    assert "City" in parties.defined_terms


def test_defined_terms_are_found_in_singular_and_plural_use():
    from contract_audit.clauses import defined_terms, definitions_used
    from contract_audit.model import Clause

    definition = Clause(id="c1", number="1.1", heading="", text='"Optional Modules" means the plate recognition module.', page=1)
    terms = defined_terms([definition])
    assert definitions_used("The Supplier may reactivate an Optional Module.", terms) == [definition]
    assert definitions_used("The Optional Modules shall be active.", terms) == [definition]
    assert definitions_used(definition.text, terms) == []
    assert definitions_used("The optional extras are listed in Annex 3.", terms) == []


def test_parties_named_with_their_role_in_brackets():
    from contract_audit.clauses import parties_in_text

    parties = parties_in_text('This Contract is made between the Municipality, Party A (the "Employer"), and '
                              "Huaxin Digital Co., Ltd., Party B (the Contractor). The Second Party (the Supplier) ...")
    assert parties.vendor == ("Party B", "Second Party") and parties.buyer == ("Party A",)
    assert parties_in_text("Party B (as set out in Annex 2) shall attend.") == parties_in_text("")


def test_references_are_found_in_any_case_the_regex_accepts():
    from contract_audit.clauses import numbered, referenced_clauses
    from contract_audit.model import Clause

    by_number = numbered([Clause(id="c1", number="2.3", heading="", text="Analytics modules.", page=1)])
    for text in ("as set out in Article 2.3", "as set out in ARTICLE 2.3", "as set out in ARTİCLE 2.3",
                 "as set out in ſection 2.3"):
        assert [clause.id for clause in referenced_clauses(text, by_number)] == ["c1"], text
    assert referenced_clauses("as set out in the annex", by_number) == []


def test_run_in_title_quick_check_never_changes_the_heading_found():
    """_may_open_with_title only spares the heading regex where it could not find a title."""
    import random

    from contract_audit import clauses

    def by_regex_alone(text):
        match = clauses._HEADING_SPLIT.match(text)
        if match and clauses._is_title(match.group("head").strip()):
            return match.group("head").strip().rstrip(" -–—")
        return ""

    rng = random.Random(7)
    words = ["to", "of", "an", "and", "The", "THE", "Data", "data", "x", ":", ".", " - ", " — ", "to:", "and.",
             "é", "É", "1.", "(a)", ",", ";", "Of", "shall", "Sub-Clause", "e.g.", "If", "aND", "oF", "tO:"]
    texts = ["Data Residency. The Supplier shall host data locally.", "If to the Contractor, to: Redwater LLC",
             "Data aND Residency. The Supplier shall host data locally.",
             "The Supplier shall keep logs: daily.", "Accepted and Agreed to:", "KEY CUSTODY — keys stay local"]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(5000)]
    titled = 0
    for text in texts:
        text = " ".join(text.split())
        expected = by_regex_alone(text)
        titled += bool(expected)
        assert clauses._may_open_with_title(text) or not expected, text
    assert titled > 200
