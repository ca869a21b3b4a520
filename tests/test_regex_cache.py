"""The per-machine regex cache may change how fast rules run, never what they find."""
import re

import pytest

from contract_audit import Auditor
from contract_audit.match import split_sentences
from contract_audit.regex_cache import ENVIRONMENT_VARIABLE, RegexCache, cache_path
from contract_audit.rules import expand_macros, load_rules


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path))
    return tmp_path


def test_cached_programs_match_exactly_as_re_compile(cache_dir):
    ruleset = load_rules()
    first = RegexCache.load()
    sources = [pattern.regex for rule in ruleset.rules for pattern in rule.patterns][:80]
    for source in sources:
        first.compile(expand_macros(source), re.IGNORECASE)
    first.save()
    assert cache_path().is_file()

    second = RegexCache.load()
    assert len(second.programs) == len(set(sources))
    sentences = [s.text for rule in ruleset.rules for example in (*rule.positive_examples, *rule.negative_examples)
                 for s in split_sentences(example)]
    for source in sources:
        cached, plain = second.compile(expand_macros(source), re.IGNORECASE), re.compile(expand_macros(source), re.IGNORECASE)
        for sentence in sentences:
            found, expected = cached.search(sentence), plain.search(sentence)
            assert (found and found.span()) == (expected and expected.span()), (source, sentence)
    assert not second.changed  # every program came from the file


def test_a_damaged_cache_file_is_ignored(cache_dir):
    cache_path().parent.mkdir(parents=True, exist_ok=True)
    cache_path().write_bytes(b"not a cache")
    cache = RegexCache.load()
    assert cache.programs == {}
    assert cache.compile("monitor(?:ing)?", re.IGNORECASE).search("MONITORING")


def test_requirements_come_back_as_computed_and_only_for_the_same_prefilter_code(cache_dir, monkeypatch):
    from contract_audit import regex_cache
    from contract_audit.prefilter import required_words

    sources = ["(?:install|deploy){gap}tool|remote\\s+access", r"\[country\]", "monitoring"]
    first = RegexCache.load()
    computed = {source: first.requirement(source, required_words) for source in sources}
    assert computed[sources[0]].alternatives  # a top-level alternation keeps its branches apart
    first.save()
    assert {source: RegexCache.load().requirement(source, None) for source in sources} == computed

    monkeypatch.setattr(regex_cache, "_prefilter_version", lambda: "other prefilter code")
    assert RegexCache.load().requirements == {}


def test_bad_patterns_still_raise_re_error(cache_dir):
    with pytest.raises(re.error):
        RegexCache.load().compile("(unclosed", re.IGNORECASE)


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "off")
    monkeypatch.chdir(tmp_path)
    cache = RegexCache.load()
    cache.compile("key escrow", re.IGNORECASE)
    cache.save()
    assert cache_path() is None and list(tmp_path.iterdir()) == []


def test_scan_results_are_the_same_with_a_warm_cache_and_without(cache_dir, monkeypatch):
    from .conftest import REPO

    sample = REPO / "sample_contracts" / "turnkey_ai_stack.docx"
    cold = Auditor().audit(sample)  # fills the cache
    warm = Auditor().audit(sample)
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "off")
    uncached = Auditor().audit(sample)

    def key(report):
        return [(f.rule_id, f.clause.number if f.clause else None, f.match.start if f.match else None, f.confidence)
                for f in report.findings]

    assert key(cold) == key(warm) == key(uncached)
