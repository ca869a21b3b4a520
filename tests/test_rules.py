import re
import textwrap
import time

import pytest

from contract_audit.errors import RuleError
from contract_audit.match import CompiledRules
from contract_audit.model import FAMILIES
from contract_audit.rules import load_policy, load_rules, shipped_rules_dir
from contract_audit.ruletest import check_examples

SHIPPED = load_rules()


def test_library_covers_every_family_on_both_sides():
    for family in FAMILIES:
        kinds = {rule.kind for rule in SHIPPED.rules if rule.family == family}
        assert kinds == {"risk", "protection"}, family
    assert len(SHIPPED.rules) >= 40


@pytest.mark.parametrize("rule", SHIPPED.rules, ids=lambda rule: rule.id)
def test_rule_examples(rule, auditor):
    subset = type(SHIPPED)(rules=[rule], families=SHIPPED.families)
    run, failures = check_examples(subset, auditor.compiled)
    assert run >= 6
    assert failures == []


VALID_RULE = """
rules:
  - id: exit-test-rule
    family: exit
    kind: risk
    title: Test
    severity: low
    rationale: Because.
    recommendation: Write this.
    anchors: [exit]
    patterns: ['exit fee']
    examples:
      positive: [an exit fee applies, the exit fee is due, exit fee of 5%]
      negative: [fire exit, no fee, exits are lit]
"""


def write_rules(tmp_path, text):
    (tmp_path / "custom.yaml").write_text(textwrap.dedent(text))
    return tmp_path


def test_user_rule_folder_is_loaded_and_tested(tmp_path):
    ruleset = load_rules([write_rules(tmp_path, VALID_RULE)], include_shipped=False)
    run, failures = check_examples(ruleset)
    assert (run, failures) == (6, [])


@pytest.mark.parametrize("change, message", [
    (("family: exit", "family: exits"), r"custom.yaml:4: .*family 'exits'"),
    (("severity: low", "severity: extreme"), r"custom.yaml:7: .*severity"),
    (("    rationale: Because.\n", ""), r"custom.yaml:3: .*missing required field 'rationale'"),
    (("patterns: ['exit fee']", "patterns: ['exit (fee']"), r"custom.yaml:11: .*bad regex"),
    (("patterns: ['exit fee']", "patterns: ['{seller} fee']"), r"unknown macro \{seller\}"),
    (("negative: [fire exit, no fee, exits are lit]", "negative: [fire exit]"), r"at least 3 positive and 3 negative"),
    (("kind: risk", "kind: risk\n    colour: red"), r"custom.yaml:6: .*unknown field 'colour'"),
    (("title: Test", "title: [Test"), r"custom.yaml:\d+: invalid YAML"),
])
def test_bad_rule_files_name_file_line_and_problem(tmp_path, change, message):
    text = textwrap.dedent(VALID_RULE).replace(*change)
    (tmp_path / "custom.yaml").write_text(text)
    with pytest.raises(RuleError, match=message):
        load_rules([tmp_path], include_shipped=False)


def test_duplicate_rule_id_is_refused(tmp_path):
    write_rules(tmp_path, VALID_RULE)
    (tmp_path / "again.yaml").write_text(textwrap.dedent(VALID_RULE))
    with pytest.raises(RuleError, match="duplicate rule id 'exit-test-rule'"):
        load_rules([tmp_path], include_shipped=False)


def test_policy_changes_severity_and_disables(tmp_path):
    rule_id = SHIPPED.rules[0].id
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"severity:\n  {rule_id}: low\ndisable: [{SHIPPED.rules[1].id}]\ndisable_families: [energy]\n")
    ruleset = load_rules(policy=load_policy(policy_file))
    assert ruleset.get(rule_id).severity == "low"
    assert not ruleset.get(SHIPPED.rules[1].id).enabled
    assert all(not r.enabled for r in ruleset.rules if r.family == "energy")
    assert len(CompiledRules(ruleset).rules) < len(CompiledRules(SHIPPED).rules)


def test_policy_with_unknown_rule_is_refused(tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("disable: [no-such-rule]\n")
    with pytest.raises(RuleError, match="unknown rule 'no-such-rule'"):
        load_rules(policy=load_policy(policy_file))


def test_shipped_rules_dir_exists():
    assert (shipped_rules_dir() / "families.yaml").is_file()


def test_every_shipped_regex_compiles():
    """Scans load the shipped library without compiling it up front, so check every regex here."""
    compiled = CompiledRules(SHIPPED)
    for rule in compiled.rules:
        for source in [p.regex for p in rule.patterns] + list(rule.unless):
            compiled._regex(source, rule)

def test_gap_macros_cross_dots_inside_numbers_only():
    from contract_audit.rules import compile_regex

    assert compile_regex("request{gap}switched off").search("request that the function in Clause 2.3 be switched off")
    assert not compile_regex("request{gap}switched off").search("request a report. The lights are switched off")


def test_a_disabled_family_gets_no_findings_from_the_classifier_either(tmp_path):
    from contract_audit import Auditor

    from .conftest import REPO

    sample = REPO / "sample_contracts" / "turnkey_ai_stack.txt"
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("disable_families: [energy]\n")
    before = Auditor().audit(sample)
    assert any(f.family == "energy" and f.source == "classifier" for f in before.findings)
    after = Auditor(policy=str(policy_file)).audit(sample)
    assert not any(f.family == "energy" for f in after.findings)
    assert after.families["energy"].risks == 0


def test_validate_checks_token_patterns_and_ids_taken_by_the_shipped_library(tmp_path):
    from click.testing import CliRunner

    from contract_audit.cli import main

    taken = SHIPPED.rules[0].id
    write_rules(tmp_path, VALID_RULE.replace("exit-test-rule", taken))
    result = CliRunner().invoke(main, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2 and f"duplicate rule id '{taken}'" in result.stderr
    write_rules(tmp_path, VALID_RULE + '    token_patterns: [[{"LOWERX": "x"}]]\n')
    result = CliRunner().invoke(main, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2 and "bad token_patterns" in result.stderr and result.stderr.count("\n") == 1


def test_policy_lists_must_be_lists(tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"disable: {SHIPPED.rules[0].id}\n")
    with pytest.raises(RuleError, match="'disable' must be a list"):
        load_policy(policy_file)


def _alias_bomb(indent: str = "    ", levels: int = 9) -> str:
    """YAML lines whose aliases stand for 9**levels strings (a 'billion laughs' file)."""
    lines = [f"{indent}laughs0: &l0 [" + ", ".join(["ha"] * 9) + "]"]
    for level in range(1, levels):
        lines.append(f"{indent}laughs{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_in_a_rule_file_is_refused_at_once(tmp_path):
    from click.testing import CliRunner

    from contract_audit.cli import main

    (tmp_path / "custom.yaml").write_text(textwrap.dedent(VALID_RULE).replace("    examples:", _alias_bomb() + "    examples:"))
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["rules", "validate", str(tmp_path)])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert re.fullmatch(rf"error: {re.escape(str(tmp_path / 'custom.yaml'))}:\d+: YAML aliases expand this document "
                        r"to more than 200,000 values; write the values out", line)


def test_yaml_aliases_within_reason_still_load(tmp_path):
    text = textwrap.dedent(VALID_RULE).replace("anchors: [exit]", "anchors: &words [exit]")
    (tmp_path / "custom.yaml").write_text(text + text.split("rules:\n", 1)[1].replace("exit-test-rule", "exit-test-two")
                                          .replace("anchors: &words [exit]", "anchors: *words"))
    assert [rule.anchors for rule in load_rules([tmp_path], include_shipped=False).rules] == [("exit",), ("exit",)]


def test_recursive_yaml_alias_is_refused(tmp_path):
    (tmp_path / "custom.yaml").write_text(textwrap.dedent(VALID_RULE).replace("references:", "x:") + "loop: &loop [*loop]\n")
    with pytest.raises(RuleError, match="alias refers to a value that contains it|recursive"):
        load_rules([tmp_path], include_shipped=False)


def test_yaml_alias_bomb_in_a_policy_file_is_refused(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(_alias_bomb(indent=""))
    with pytest.raises(RuleError, match=r"policy.yaml:\d+: YAML aliases expand this document"):
        load_policy(policy)
