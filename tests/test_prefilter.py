"""The literal prefilter may only ever skip sentences that the regex itself would reject."""
import pytest

from contract_audit.match import split_sentences
from contract_audit.prefilter import admits, required_words
from contract_audit.rules import compile_regex, load_rules


@pytest.mark.parametrize("pattern, expected", [
    ("monitoring", ({"monitoring"},)),
    (r"third\s+party", ({"third"}, {"party"})),
    ("(?:install|deploy)\\w*{gap}tool", ({"install", "deploy"}, {"tool"})),
    ("colou?r", ({"colo"},)),
    ("(?:shall\\s+)?monitor", ({"monitor"},)),
    ("(?:foo|a)bar", ({"bar"},)),              # one branch is too short to require anything
    ("(?=remote)access", ({"access"},)),       # lookarounds require nothing
    ("(?-i:[A-Z])ity", ({"ity"},)),
    ("keys?{near}(?:escrow)+", ({"escrow"}, {"key"})),
    ("x{2,5}yz", ()),                          # nothing of three letters is sure
    ("abc|", ()),                              # an empty branch matches anything
    (r"\bSupplier\b", ({"supplier"},)),
])
def test_required_words(pattern, expected):
    assert {frozenset(group) for group in required_words(pattern)} == {frozenset(group) for group in expected}


def test_unreadable_patterns_require_nothing():
    assert required_words("(?x) verbose mode") == ()
    assert required_words("unclosed (group") == ()


def test_admits_needs_one_word_of_every_group():
    requirement = (frozenset({"install", "deploy"}), frozenset({"tool"}))
    assert admits(requirement, "the city may deploy any tool")
    assert not admits(requirement, "the city may deploy any software")
    assert admits((), "anything at all")


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
            regex, requirement = compile_regex(source), required_words(source)
            for sentence in sentences_by_family[rule.family]:
                if regex.search(sentence):
                    checked += 1
                    assert admits(requirement, sentence.casefold()), (rule.id, source, sentence)
    assert checked > 500
