"""The literal prefilter may only ever skip sentences that the regex itself would reject."""
import pytest

from contract_audit.match import split_sentences
from contract_audit.prefilter import NOTHING, Requirement, admits, fold_case, required_words
from contract_audit.rules import VENDOR_PLACEHOLDER, compile_regex, load_rules, macro_words


@pytest.mark.parametrize("pattern, expected", [
    ("monitoring", ({"monitoring"},)),
    (r"third\s+party", ({"third"}, {"party"})),
    ("(?:install|deploy)\\w*{gap}tool", ({"deploy", "install"}, {"tool"})),
    ("colou?r", ({"colo"},)),
    ("(?:shall\\s+)?monitor", ({"monitor"},)),
    ("(?:foo|a)bar", ({"bar"},)),              # one branch is too short to require anything
    ("(?=remote)access", ({"access"},)),       # lookarounds require nothing
    ("(?-i:[A-Z])ity", ({"ity"},)),
    ("keys?{near}(?:escrow)+", ({"key"}, {"escrow"})),
    ("x{2,5}yz", ()),                          # nothing of three letters is sure
    ("abc|", ()),                              # an empty branch matches anything
    (r"\bSupplier\b", ({"supplier"},)),
])
def test_required_words_in_pattern_order(pattern, expected):
    assert [set(group) for group in required_words(pattern).ordered] == [set(group) for group in expected]


def test_each_branch_of_a_top_level_alternation_is_judged_on_its_own():
    requirement = required_words(r"remote\s+access{gap}vendor|key\s+escrow")
    assert admits(requirement, "remote access by the vendor")
    assert admits(requirement, "a key escrow agent")
    assert not admits(requirement, "vendor remote access")  # words of the first branch, in the wrong order
    assert not admits(requirement, "remote escrow")  # a word from each branch is not enough


def test_a_rare_mark_counts_as_a_required_word_where_a_short_word_does_not():
    requirement = required_words(r"stored\s+in\s+(?:the\s+)?(?:territory|\[)")
    assert ("[", "territory") in requirement.ordered
    assert admits(requirement, "data stored in [country]")
    assert not admits(requirement, "data stored in the cloud")
    assert required_words(r"stored\s+(?:in|at)\s+x").ordered == (("stored",),)


def test_unreadable_patterns_require_nothing():
    assert required_words("(?x) verbose mode") == NOTHING
    assert required_words("unclosed (group") == NOTHING


def test_admits_needs_a_word_of_every_group_in_order():
    requirement = required_words("(?:install|deploy){gap}tool")
    assert admits(requirement, "the city may deploy any tool")
    assert not admits(requirement, "the city may deploy any software")
    assert not admits(requirement, "any tool the city may deploy")
    assert admits(requirement, "a tool the city may install with another tool")
    assert admits(NOTHING, "anything at all")


def test_text_in_any_case_the_regex_accepts_is_admitted():
    source = "(?:install|deploy){gap}monitoring tool"
    for sentence in ("The City may INSTALL any MONITORING TOOL", "The City may İNSTALL any monıtorıng tool",
                     "The City may install any monitoring tooL"):
        assert compile_regex(source).search(sentence), sentence
        assert admits(required_words(source), fold_case(sentence)), sentence


def test_quick_rejection_uses_the_longest_words():
    requirement = required_words(r"the\s+{vendor}\s+may{gap}monitoring{gap}escrow")
    assert requirement.selective[0] == ("monitoring",)
    assert isinstance(requirement, Requirement)


def test_prefilter_never_rejects_a_sentence_a_rule_regex_matches():
    """Every shipped regex against every example sentence of its family (and the others' negatives)."""
    ruleset = load_rules()
    sentences_by_family = {}
    for rule in ruleset.rules:
        for example in (*rule.positive_examples, *rule.negative_examples):
            sentences_by_family.setdefault(rule.family, set()).update(s.text for s in split_sentences(example))
    checked = 0
    for rule in ruleset.rules:
        for source in [pattern.regex for pattern in rule.patterns] + list(rule.unless):
            regex, requirement = compile_regex(source), required_words(source, macro_words())
            for sentence in sentences_by_family[rule.family]:
                if regex.search(sentence):
                    checked += 1
                    assert admits(requirement, fold_case(sentence)), (rule.id, source, sentence)
    assert checked > 500


def test_party_macros_require_a_role_word_or_the_placeholder():
    requirement = required_words("{vendor}{gap}monitoring", macro_words())
    assert "supplier" in requirement.ordered[0] and VENDOR_PLACEHOLDER in requirement.ordered[0]
    assert admits(requirement, "the provider may disable monitoring")
    assert admits(requirement, VENDOR_PLACEHOLDER * 9 + " may disable monitoring")
    assert not admits(requirement, "the city may disable monitoring")


def test_the_word_scanner_decides_exactly_as_admits():
    """The one-pass scanner only changes how fast a sentence is judged, never the verdict."""
    from contract_audit.prefilter import WordScanner, passes

    ruleset = load_rules()
    sources = [pattern.regex for rule in ruleset.rules for pattern in rule.patterns] + [
        source for rule in ruleset.rules for source in rule.unless]
    requirements = [required_words(source, macro_words()) for source in sources]
    requirements += [required_words(r"(?:the|any)\s+tool{gap}vendor|key\s+escrow"), required_words(r"in\s+\[")]
    scanner = WordScanner(requirements)
    gates = [scanner.gate(requirement) for requirement in requirements]
    sentences = {s.text for rule in ruleset.rules for example in (*rule.positive_examples, *rule.negative_examples)
                 for s in split_sentences(example)}
    sentences |= {"", "the tool of the vendor", "a key escrow", "stored in [country]", "İNSTALL ANY MONITORING TOOL"}
    admitted = 0
    for sentence in sentences:
        folded = fold_case(sentence)
        present = scanner.present(folded)
        for requirement, gate in zip(requirements, gates):
            expected = admits(requirement, folded)
            admitted += expected
            assert passes(gate, present, folded) == expected, (requirement, sentence)
    assert admitted > 1000
