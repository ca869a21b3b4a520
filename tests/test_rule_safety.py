"""Rule regexes match in bounded time: the backtracking check (rules.check_backtracking), the shipped library
against it and against generated adversarial texts, and the clause that used to take minutes."""
import json
import re
import subprocess
import sys
import textwrap
import time
from re import _constants as C, _parser

import pytest
from click.testing import CliRunner

from contract_audit.cli import main
from contract_audit.errors import RuleError
from contract_audit.rules import UnsafeRegex, check_backtracking, expand_macros, load_rules
from tests.test_rules import VALID_RULE

SHIPPED = load_rules()
SHIPPED_REGEXES = sorted({(rule.id, source) for rule in SHIPPED.rules
                          for source in [p.regex for p in rule.patterns] + list(rule.unless)})

# The repeated group key custody used to have, and the clause that took minutes on it.
OLD_KEY_CUSTODY_GROUP = r"held(?:\s*(?:,|and|or|and/or)\s*\w+)*\s+by\s+{vendor}"
SLOW_CLAUSES = [
    "Encryption keys shall be held " + "and" * 60 + " by nobody other than the Supplier.",
    "Encryption keys shall be held " + "and " * 60 + "by nobody other than the Supplier.",
    # the updates rules' group of articles and {buyer}, which read 'the City' in two ways, took 3 s at 20
    "The update shall be installed without prior " + "the City " * 60 + "x.",
]


@pytest.mark.parametrize("regex", [
    r"(a+)+$", r"(a|a)*b", r"(a*)*b", r"(\w+\s?)*$", r"(?:x+x+)+y", r"(?:\d|\d\d)+!", r"(?:a|b|ab)*c",
    r"(.*,)*x", r"(?:(?:the|{buyer})\s+)*notice", OLD_KEY_CUSTODY_GROUP,
    r"(?=(a+)+$)b",  # inside a lookahead too
    r"(?:a+){2,}$", r"(?:a+b?){0,200}$",  # long bounded repeats count as unbounded
])
def test_catastrophic_patterns_are_refused(regex):
    with pytest.raises(UnsafeRegex, match="exponential"):
        check_backtracking(expand_macros(regex))


@pytest.mark.parametrize("regex", [
    r"(?:\w+\s+)*x", r"(?:ab|a)*c", r"a{0,5}", r"(?:[^.;]|\.(?=\d)){0,140}?", r"(?:a+b){0,8}$", r"\w+\s*\w+",
    r"held(?:(?:\s*,\s*|\s+(?:and|or|and/or)\s+)\w+)*\s+by\s+{vendor}",
    r"(?:(?:the|its|(?:each\s+|a\s+)?{buyer_name})\s+)*notice",
    r"(?:abc){100000,}x",  # a long minimum is not unrolled in full
])
def test_safe_patterns_pass(regex):
    check_backtracking(expand_macros(regex))


@pytest.mark.parametrize("regex", [r"(a)\1", r"(a)?(?(1)b|c)"])
def test_constructs_the_check_cannot_read_are_refused(regex):
    with pytest.raises(UnsafeRegex, match="does not accept"):
        check_backtracking(regex)


def test_every_shipped_pattern_passes_the_check():
    unsafe = []
    for rule_id, source in SHIPPED_REGEXES:
        try:
            check_backtracking(expand_macros(source))
        except UnsafeRegex:
            unsafe.append((rule_id, source))
    assert unsafe == []


# ---------------------------------------------------------------- adversarial texts

_SAMPLE_CHARACTERS = "a Ab0,.;:-/'’_ᚠᚢ"


def _sample(items, variant: int, target=None) -> tuple[str, bool]:
    """A text the parsed regex `items` may match, choosing branch `variant` (modulo the branch count) and
    repeating each repeat its minimum, or once more for odd variants. With `target` (a repeat node), the text
    stops right after that repeat, which is pumped instead: the second value tells whether it was reached."""
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op in (C.NOT_LITERAL, C.ANY, C.IN):
            one = _one_character(op, av)
            out.append(next((c for c in _SAMPLE_CHARACTERS if one.fullmatch(c)), "a"))
        elif op is C.BRANCH:
            branches = av[1]
            chosen = next((b for b in branches if target is not None and _contains(b, target)),
                          branches[variant % len(branches)])
            text, reached = _sample(chosen, variant, target)
            out.append(text)
            if reached:
                return "".join(out), True
        elif op is C.SUBPATTERN:
            text, reached = _sample(av[-1], variant, target)
            out.append(text)
            if reached:
                return "".join(out), True
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, high, body = av
            if av is target:
                return "".join(out), True
            if target is not None and _contains(body, target):
                text, reached = _sample(body, variant, target)
                out.append(_sample(body, variant)[0] * max(0, low - 1) + text)
                return "".join(out), True
            count = min(high, low + variant % 2)
            out.append(_sample(body, variant)[0] * count)
    return "".join(out), False


def _class_source(op, av) -> str:
    parts = []
    for item_op, item in av:
        if item_op is C.NEGATE:
            parts.insert(0, "^")
        elif item_op is C.LITERAL:
            parts.append(re.escape(chr(item)))
        elif item_op is C.RANGE:
            parts.append(f"{re.escape(chr(item[0]))}-{re.escape(chr(item[1]))}")
        elif item_op is C.CATEGORY:
            parts.append({"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s", "NOT_SPACE": r"\S", "WORD": r"\w",
                          "NOT_WORD": r"\W"}[str(item).replace("CATEGORY_", "")])
    return "".join(parts)


def _one_character(op, av) -> re.Pattern:
    if op is C.IN:
        return re.compile(f"[{_class_source(op, av)}]", re.IGNORECASE)
    return re.compile("." if op is C.ANY else f"[^{re.escape(chr(av))}]", re.IGNORECASE)


def _contains(items, target) -> bool:
    for op, av in items:
        if av is target:
            return True
        children = []
        if op is C.BRANCH:
            children = av[1]
        elif op is C.SUBPATTERN:
            children = [av[-1]]
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            children = [av[2]]
        elif op in (C.ASSERT, C.ASSERT_NOT):
            children = [av[1]]
        if any(_contains(child, target) for child in children):
            return True
    return False


def _loops(items):
    """Every repeated group that may run more than a few times, as its (low, high, body) node of the parse tree.
    A repeated single character ('\\s+') is left out: on its own it cannot match a text in two ways."""
    for op, av in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            body = av[2]
            if av[1] > 8 and not (len(body) == 1 and body[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN)):
                yield av
            yield from _loops(body)
        elif op is C.BRANCH:
            for branch in av[1]:
                yield from _loops(branch)
        elif op is C.SUBPATTERN:
            yield from _loops(av[-1])


def pumps(source: str):
    """(prefix, unit) pairs: a prefix that reaches a repeated group of `source`, and a sample of the group's body.
    Repeating the unit and then failing is the input on which an ambiguous group backtracks exponentially."""
    tree = _parser.parse(source, re.IGNORECASE)
    found = set()
    for loop in _loops(tree):
        for variant in range(4):
            prefix, reached = _sample(tree, variant, target=loop)
            if reached:
                body = _sample(loop[2], variant)[0] or "a"
                found.update({(prefix, body), (prefix, body + " ")})
    return sorted(found)


def _slowest_pump(source: str, budget: float) -> float:
    """The longest search over pumped texts of growing length; a text stops growing once it takes `budget`."""
    compiled = re.compile(source, re.IGNORECASE)
    slowest = 0.0
    for prefix, unit in pumps(source):
        for repetitions in range(10, 41, 3):
            start = time.perf_counter()
            compiled.search(prefix + unit * repetitions + "\x00")
            slowest = max(slowest, time.perf_counter() - start)
            if slowest > budget:
                return slowest
    return slowest


def test_pumps_expose_the_old_key_custody_group():
    """The generator is worth running: it finds the blow-up in the group the check refuses."""
    assert _slowest_pump(expand_macros(OLD_KEY_CUSTODY_GROUP), budget=0.5) > 0.5


def test_shipped_patterns_stay_fast_on_pumped_texts():
    slow = []
    for rule_id, source in SHIPPED_REGEXES:
        seconds = _slowest_pump(expand_macros(source), budget=0.5)
        if seconds > 0.5:
            slow.append((rule_id, source[:80], round(seconds, 2)))
    assert slow == []


# ---------------------------------------------------------------- the clause, end to end


def test_slow_clauses_classify_on_the_command_line(tmp_path):
    path = tmp_path / "clauses.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": text}) + "\n" for i, text in enumerate(SLOW_CLAUSES)))
    # A process of its own, with a deadline: on a catastrophic pattern the search would not return at all.
    proc = subprocess.run([sys.executable, "-m", "contract_audit.cli", "classify", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(SLOW_CLAUSES)


def test_slow_clauses_classify_in_under_two_seconds(auditor):
    for text in SLOW_CLAUSES:
        started = time.perf_counter()
        auditor.classify([text])
        assert time.perf_counter() - started < 2.0


CUSTOM_RULE = VALID_RULE.replace("patterns: ['exit fee']", "patterns:\n      - name: runaway\n        regex: '(a+)+$'")


def test_rules_validate_refuses_a_catastrophic_custom_pattern_in_one_line(tmp_path):
    (tmp_path / "custom.yaml").write_text(textwrap.dedent(CUSTOM_RULE))
    result = CliRunner().invoke(main, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"error: .*custom\.yaml:12: rule 'exit-test-rule': pattern 'runaway' can take exponential "
                        r"time .*: \(a\+\)\+\$", lines[0])


def test_unless_patterns_are_checked_too(tmp_path):
    text = textwrap.dedent(CUSTOM_RULE).replace("regex: '(a+)+$'", "regex: 'exit fee'")
    (tmp_path / "custom.yaml").write_text(text.replace("    examples:", "    unless: ['(b|b)*c']\n    examples:"))
    with pytest.raises(RuleError, match=r"rule 'exit-test-rule': unless pattern can take exponential time"):
        load_rules([tmp_path], include_shipped=False)


def test_scan_with_a_catastrophic_custom_rule_stops_at_once(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "custom.yaml").write_text(textwrap.dedent(CUSTOM_RULE))
    contract = tmp_path / "contract.txt"
    contract.write_text("1. Exit\n\nThe exit fee is " + "a" * 5000 + "!\n")
    proc = subprocess.run([sys.executable, "-m", "contract_audit.cli", "scan", "--rules", str(rules), str(contract)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "pattern 'runaway' can take exponential time" in proc.stderr


def test_party_name_macros_keep_the_prefilter_selective():
    """{buyer_name} and {vendor_name} are macros to the prefilter too: a pattern that uses them still needs words."""
    from contract_audit.prefilter import NOTHING, required_words
    from contract_audit.rules import macro_words

    words = macro_words()
    assert set(required_words("{buyer_name} shall approve", words).ordered[0]) == words["buyer"]
    users = [source for _, source in SHIPPED_REGEXES if "_name}" in source]
    assert users and all(required_words(source, words) != NOTHING for source in users)
