"""Run every rule's own positive and negative examples, the way `semgrep --test` runs rule tests."""
from __future__ import annotations

from dataclasses import dataclass

from .match import CompiledRules
from .model import Clause
from .rules import RuleSet


@dataclass(frozen=True)
class ExampleFailure:
    rule_id: str
    expected: str  # "match" or "no match"
    text: str


def example_clause(text: str) -> Clause:
    return Clause(id="example", number="", heading="", text=" ".join(text.split()), page=1)


def check_examples(ruleset: RuleSet, compiled: CompiledRules | None = None) -> tuple[int, list[ExampleFailure]]:
    """Return (examples run, failures). A positive must fire its rule; a negative must not."""
    compiled = compiled or CompiledRules(ruleset)
    failures: list[ExampleFailure] = []
    run = 0
    for rule in ruleset.active():
        for expected, texts in (("match", rule.positive_examples), ("no match", rule.negative_examples)):
            for text in texts:
                run += 1
                fired = any(e.rule_id == rule.id for e in compiled.match([example_clause(text)]))
                if fired != (expected == "match"):
                    failures.append(ExampleFailure(rule.id, expected, text))
    return run, failures
