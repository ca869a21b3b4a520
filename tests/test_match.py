"""Behaviour the brief singles out: negation, modality and party decide; harmless trigger words do not fire."""
import pytest

from contract_audit.clauses import Parties
from contract_audit.model import Clause


def families(auditor, text):
    result = auditor.classify([text])[0]
    return set(result.families), set(result.protects)


def test_city_may_install_monitoring_is_a_protection(auditor):
    risk, protects = families(auditor, "The City may install any third-party monitoring tool on the System.")
    assert risk == set()
    assert "monitoring" in protects


def test_city_shall_not_install_unapproved_monitoring_is_a_risk(auditor):
    risk, protects = families(auditor, "The City shall not install any monitoring tool not approved by the Supplier.")
    assert "monitoring" in risk
    assert "monitoring" not in protects


@pytest.mark.parametrize("text", [
    "The Supplier shall not replace key personnel without the City's consent.",
    "The Contractor shall keep all fire exits clear and lit at all times.",
    "The Supplier shall install battery backup units at each remote site.",
    "Monitoring of progress by the Engineer shall take place monthly.",
    "The Supplier shall provide updates to the project schedule every fortnight.",
])
def test_harmless_trigger_words_are_not_flagged(auditor, text):
    assert families(auditor, text) == (set(), set())


def test_sub_paragraph_inherits_parent_lead_in(auditor):
    parent = Clause(id="c1", number="4.1", heading="", text="The Customer shall not:", page=1, level=2)
    child = Clause(id="c2", number="4.1(a)", heading="", text="install third-party monitoring software on the Platform;",
                   page=1, level=3, parent="c1")
    evidence = auditor.compiled.match([parent, child])
    assert any(e.clause_id == "c2" and e.family == "monitoring" and e.kind == "risk" for e in evidence)


def test_ocr_noise_is_repaired(auditor):
    risk, _ = families(auditor, "The City shall not install any third-party rnonitoring tools without the Supplier's consent.")
    assert "monitoring" in risk


@pytest.mark.parametrize("text", [
    "The City shall not install any third-party rnonitoring tools without the Supplier's consent.",
    "The City shall not install any third-party m o n i t o r i n g tools without the Supplier's consent.",
    "M O N I T O R I N G: the City shall not install any third-party monitoring tools.",
])
def test_repairs_are_the_same_for_a_fresh_matcher_and_one_that_remembers_earlier_documents(auditor, text):
    from contract_audit.match import CompiledRules

    clause = Clause(id="c1", number="1", heading="", text=text, page=1)
    first, again = auditor.compiled.match([clause]), auditor.compiled.match([clause])
    fresh = CompiledRules(auditor.ruleset).match([clause])
    assert first == again == fresh
    assert any(e.family == "monitoring" and e.kind == "risk" for e in first)


def test_defined_vendor_name_counts_as_the_vendor(auditor):
    text = "The City shall not deploy any monitoring software unless approved by NovaStack."
    clause = Clause(id="c1", number="1", heading="", text=text, page=1)
    plain = auditor.compiled.match([clause])
    named = auditor.compiled.match([clause], Parties(vendor=("NovaStack",)))
    assert not any(e.kind == "risk" for e in plain if e.rule_id == "monitoring-third-party-tools-restricted" and e.pattern == "only-vendor-approved-tools")
    assert any(e.kind == "risk" and e.family == "monitoring" for e in named)


def test_defined_names_of_both_parties_keep_offsets_and_text(auditor):
    text = "Harbour Town shall not install any monitoring tool that has not been approved in writing by NovaStack."
    clause = Clause(id="c1", number="1", heading="", text=text, page=1)
    evidence = auditor.compiled.match([clause], Parties(vendor=("NovaStack",), buyer=("Harbour Town",)))
    risks = [e for e in evidence if e.kind == "risk" and e.family == "monitoring"]
    assert risks
    for item in risks:
        assert item.text == text[item.start:item.end] and "ᚠ" not in item.text


@pytest.mark.parametrize("subject, flagged", [("Novastack", True), ("Novastackers", False)])
def test_a_party_name_counts_only_as_a_whole_word(auditor, subject, flagged):
    text = f"{subject} may remotely disable or suspend the System at any time if any invoice is unpaid."
    clause = Clause(id="c1", number="1", heading="", text=text, page=1)
    evidence = auditor.compiled.match([clause], Parties(vendor=("Novastack",)))
    assert any(e.rule_id == "remote-access-remote-disablement" for e in evidence) == flagged


def _clauses(*numbered_texts):
    return [Clause(id=f"c{i}", number=number, heading="", text=text, page=1) for i, (number, text) in enumerate(numbered_texts)]


def test_a_clause_referring_to_another_by_number_takes_its_subject(auditor):
    clauses = _clauses(
        ("2.3", "The City Services Modules include face recognition and licence plate recognition."),
        ("2.4", "The City may request by written notice that any function referred to in Clause 2.3 be switched off."),
    )
    found = {(e.clause_id, e.rule_id) for e in auditor.compiled.match(clauses)}
    assert ("c1", "surveillance-opt-out-only") in found
    alone = {(e.clause_id, e.rule_id) for e in auditor.compiled.match(clauses[1:])}
    assert ("c1", "surveillance-opt-out-only") not in alone


def test_a_clause_using_a_defined_term_takes_the_subject_of_its_definition(auditor):
    clauses = _clauses(
        ("1.1", '"Optional Modules" means the plate recognition module and the re-identification module.'),
        ("3.3", "The City may ask the Supplier in writing to deactivate one or more Optional Modules on any Node."),
    )
    found = {(e.clause_id, e.rule_id) for e in auditor.compiled.match(clauses)}
    assert ("c1", "surveillance-opt-out-only") in found


def test_a_term_the_whole_contract_uses_lends_no_subject(auditor):
    """'Services' defined to include video analytics must not turn every 'opt out' into a surveillance risk."""
    clauses = _clauses(("1.1", '"Services" means the hosting, video analytics and face recognition services in Schedule 2.'),
                       *[(f"5.{i}", f"The Supplier shall perform the Services in line with requirement {i}.") for i in range(10)])
    clauses += [Clause(id="opt", number="9.1", heading="", page=1,
                       text="The Customer may opt out of the marketing newsletters about the Services at any time.")]
    assert not [e for e in auditor.compiled.match(clauses) if e.family == "surveillance"]


def test_a_free_standing_clause_names_its_own_parties(auditor):
    text = "The data encryption keys shall be generated and kept by Party B (the Supplier), which shall decrypt them on request."
    assert "key-custody" in auditor.classify([text])[0].families
    assert "key-custody" not in auditor.classify([text.replace("(the Supplier)", "(the City)")])[0].families


@pytest.mark.parametrize("name, text", [
    ("NovaStack", "NOVASTACK may access the platform."),
    ("Akıllı Şehir", "AKILLI ŞEHİR may access the platform."),  # dotless small i against capital I
    ("Şehir Teknoloji", "ŞEHİR TEKNOLOJİ may access the platform."),  # dotted capital I against small i
    ("Straße Systems", "The City and Straße Systems may access the platform."),
    ("Kelvin Data", "\u212aELVIN DATA may access the platform."),  # Kelvin sign
])
def test_party_names_are_masked_wherever_the_case_insensitive_regex_finds_them(name, text):
    from contract_audit.match import _PartyMask
    from contract_audit.rules import party_name_pattern

    mask = _PartyMask.of(Parties(vendor=(name,), buyer=()))
    assert party_name_pattern((name,)).search(text)
    assert mask.apply(text) != text
    assert mask.apply("The platform is hosted in the city.") == "The platform is hosted in the city."


def test_sentence_index_is_the_first_sentence_ending_after_the_offset():
    from contract_audit.match import _sentence_index, split_sentences

    text = "The City pays. The Supplier hosts it; The City may audit. Fees are fixed. " * 50
    sentences = split_sentences(text)
    ends = [sentence.end for sentence in sentences]

    def by_scan(offset):
        return next((i for i, sentence in enumerate(sentences) if offset < sentence.end), len(sentences) - 1)

    assert all(_sentence_index(ends, offset) == by_scan(offset) for offset in range(len(text) + 5))
