"""The `contract-audit` command: a thin layer over the library API."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import AuditError
from .model import FAMILIES, SEVERITIES

EXIT_FAIL_ON = 1
EXIT_BAD_INPUT = 2


class AuditGroup(click.Group):
    """Turns any user-facing error into one line on stderr and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AuditError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


rules_dir_option = click.option(
    "--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra rule folder (repeatable)."
)
policy_option = click.option("--policy", type=click.Path(dir_okay=False), help="Policy file: severities, disabled rules, thresholds.")


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="contract-audit")
def main() -> None:
    """Audit AI, cloud, data-centre and smart-city contracts for digital-sovereignty red flags."""


def _auditor(rules_dirs, policy):
    from .api import Auditor

    return Auditor(rules_dirs=rules_dirs, policy=policy)


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AuditError(f"{output}: cannot write output ({exc.strerror})") from None
    else:
        sys.stdout.write(text)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@rules_dir_option
@policy_option
@click.option("--fail-on", type=click.Choice(SEVERITIES), help=f"Exit {EXIT_FAIL_ON} if a finding is at least this severe.")
def scan(files, fmt, output, rules_dirs, policy, fail_on):
    """Scan contracts (PDF, DOCX, text, Markdown) and report their findings."""
    from .report import render
    from .score import SEVERITY_RANK

    auditor = _auditor(rules_dirs, policy)
    reports, failed = [], 0
    for path in files:
        try:
            reports.append(auditor.audit(path))
        except AuditError as exc:
            failed += 1
            click.echo(f"error: {exc}", err=True)
    if reports:
        _write(render(reports, fmt), output)
    if failed:
        sys.exit(EXIT_BAD_INPUT)
    if fail_on:
        worst = min((SEVERITY_RANK[f.severity] for r in reports for f in r.findings), default=len(SEVERITIES))
        if worst <= SEVERITY_RANK[fail_on]:
            sys.exit(EXIT_FAIL_ON)


@main.command()
@click.argument("jsonl", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write JSON lines here instead of stdout.")
@rules_dir_option
@policy_option
def classify(jsonl, output, rules_dirs, policy):
    """Classify clauses: each input line {"id", "text"} gives one output line with its families."""
    from .report.json import finding_to_dict

    items = _read_clause_lines(jsonl)
    results = _auditor(rules_dirs, policy).classify([text for _, text in items], [i for i, _ in items])
    lines = [
        json.dumps({"id": r.id, "families": r.families, "protects": r.protects,
                    "findings": [finding_to_dict(f) for f in r.findings]}, ensure_ascii=False)
        for r in results
    ]
    _write("".join(line + "\n" for line in lines), output)


def _read_clause_lines(jsonl: str) -> list[tuple[str, str]]:
    try:
        raw = sys.stdin.read() if jsonl == "-" else Path(jsonl).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditError(f"{jsonl}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"{jsonl}: cannot be read ({exc})") from None
    items = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AuditError(f"{jsonl}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise AuditError(f"{jsonl}:{number}: each line needs a string field 'text'")
        items.append((str(record.get("id", number)), record["text"]))
    return items


@main.command()
@click.option("--corpus", type=click.Path(dir_okay=False), help="Labelled training corpus (JSON lines).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Where to write the model (default: models/).")
@click.option("--seed", type=int, default=13, show_default=True)
def train(corpus, out_dir, seed):
    """Train the clause classifier from the labelled corpus (reproducible: same data and seed, same bytes)."""
    from .classifier import shipped_model_dir
    from .training import train as train_model

    model_dir = Path(out_dir) if out_dir else shipped_model_dir()
    corpus_path = Path(corpus) if corpus else model_dir / "data" / "corpus.jsonl"
    model = train_model(corpus_path, model_dir, seed=seed)
    click.echo(f"trained on {model.meta['examples']} clauses, {len(model.vocabulary)} features -> {model_dir}")


@main.command()
@click.argument("labelled", required=False, type=click.Path(dir_okay=False))
@click.option("--corpus", type=click.Path(dir_okay=False), help="Training corpus for cross-validation.")
@click.option("--no-cv", is_flag=True, help="Skip cross-validation on the training corpus.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Model folder (default: the shipped model).")
@rules_dir_option
@policy_option
def evaluate(labelled, corpus, no_cv, model_dir, rules_dirs, policy):
    """Per-family precision, recall, F1 and support: rules alone, classifier alone and fused.

    Runs stratified cross-validation on the training corpus, and scores LABELLED (JSON lines with
    "text", "risk", "protects") when given.
    """
    from .api import Auditor
    from .classifier import load_model, shipped_model_dir
    from .evaluate import LabelledClause, compare_systems, format_side_by_side, load_labelled
    from .fusion import risk_thresholds

    rule_auditor = Auditor(rules_dirs=rules_dirs, policy=policy, model=False)
    if not no_cv:
        from .training import cross_validated_probabilities, load_corpus

        corpus_path = Path(corpus) if corpus else (Path(model_dir) if model_dir else shipped_model_dir()) / "data" / "corpus.jsonl"
        texts, Y, _ = load_corpus(corpus_path)
        gold = [LabelledClause(str(i), t, frozenset(_families(row, "risk")), frozenset(_families(row, "protects")))
                for i, (t, row) in enumerate(zip(texts, Y))]
        probabilities, fold_thresholds = cross_validated_probabilities(texts, Y)
        from .classifier import LABELS

        per_clause = [{f: row[LABELS.index(f"risk:{f}")] for f in FAMILIES} for row in fold_thresholds]
        systems = compare_systems(gold, rule_auditor, probabilities, per_clause)
        click.echo(format_side_by_side(systems, f"5-fold cross-validation on {corpus_path.name}"))
    if labelled:
        gold = load_labelled(labelled)
        model = load_model(Path(model_dir) if model_dir else None)
        probabilities = model.predict_proba([g.text for g in gold])
        systems = compare_systems(gold, rule_auditor, probabilities, risk_thresholds(model, rule_auditor.policy))
        click.echo(format_side_by_side(systems, f"{Path(labelled).name}"))


def _families(row, side: str) -> list[str]:
    from .classifier import LABELS

    return [label.split(":", 1)[1] for label, value in zip(LABELS, row) if value and label.startswith(side + ":")]


@main.group()
def rules():
    """List, show, validate and test rules."""


def _ruleset(rules_dirs, include_shipped=True):
    from .rules import load_rules

    return load_rules(rules_dirs, include_shipped=include_shipped)


@rules.command("list")
@rules_dir_option
def rules_list(rules_dirs):
    """List every rule: id, family, kind, severity, title."""
    for rule in _ruleset(rules_dirs).rules:
        click.echo(f"{rule.id:50} {rule.family:15} {rule.kind:10} {rule.severity:8} {rule.title}")


@rules.command("show")
@click.argument("rule_id")
@rules_dir_option
def rules_show(rule_id, rules_dirs):
    """Show one rule in full."""
    rule = _ruleset(rules_dirs).get(rule_id)
    click.echo(f"{rule.id}  [{rule.family} / {rule.kind} / {rule.severity}]\n{rule.title}\n")
    click.echo(f"Why it matters:\n  {rule.rationale}\n\nWrite instead:\n  " + rule.recommendation.replace("\n", "\n  "))
    if rule.fallback:
        click.echo(f"\nFallback:\n  {rule.fallback}")
    click.echo("\nPatterns:")
    for pattern in rule.patterns:
        click.echo(f"  {pattern.name} ({pattern.score}): {pattern.regex}")
    for regex in rule.unless:
        click.echo(f"  unless: {regex}")
    click.echo(f"\nDefined in {rule.source}:{rule.line}")


@rules.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def rules_validate(directory):
    """Check rule files (the shipped library, or DIRECTORY)."""
    ruleset = _ruleset([directory], include_shipped=False) if directory else _ruleset([])
    click.echo(f"ok: {len(ruleset.rules)} rules valid")


@rules.command("test")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def rules_test(directory):
    """Run every rule's positive and negative examples."""
    from .ruletest import check_examples

    ruleset = _ruleset([directory], include_shipped=False) if directory else _ruleset([])
    run, failures = check_examples(ruleset)
    for failure in failures:
        click.echo(f"FAIL {failure.rule_id}: expected {failure.expected}: {failure.text}")
    click.echo(f"{run - len(failures)} passed, {len(failures)} failed")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
