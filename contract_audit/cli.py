"""The `contract-audit` command: a thin layer over the library API."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .errors import AuditError
from .limits import DEFAULT_BUDGETS
from .report.markdown import escape_controls
from .model import FAMILIES, SEVERITIES

EXIT_FAIL_ON = 1
EXIT_BAD_INPUT = 2


# click 8.2+ shows a bare command's help by raising this usage error; older versions do not raise at all.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class AuditGroup(click.Group):
    """Turns any user-facing error into one line on stderr and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AuditError as exc:
            _say(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except _NO_ARGS_IS_HELP:
            raise  # a bare command: its help, as click shows it
        except click.UsageError as exc:
            # click would print the usage, a hint and the error on three lines
            command = exc.ctx.command_path if exc.ctx else ctx.command_path
            _say(f"error: {exc.format_message()} (see '{command} --help')", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except OSError as exc:  # standard output closed or full (`| head`, `> /dev/full`), and the like
            _discard_stdout()
            _say(f"error: {exc.strerror or exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


def _say(message: str, err: bool = False) -> None:
    """One line on the terminal. It may hold a file name or contract text: their control characters are written
    out (\\x1b), so that they cannot move the cursor, retitle the window or ring the bell."""
    click.echo(escape_controls(message), err=err)


def _discard_stdout() -> None:
    """Point standard output at the null device, so that Python's flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


rules_dir_option = click.option(
    "--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra rule folder (repeatable)."
)
policy_option = click.option("--policy", type=click.Path(dir_okay=False),
                             help="Policy file: severities, disabled rules and families, thresholds, weights.")


def party_options(command):
    """--buyer / --vendor: name the parties where the contract's own text does not make them clear."""
    command = click.option("--vendor", help="The vendor's name as the contract writes it (default: read from the contract).")(command)
    return click.option("--buyer", help="The buyer's name as the contract writes it (default: read from the contract).")(command)


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="contract-audit")
def main() -> None:
    """Audit AI, cloud, data-centre and smart-city contracts for digital-sovereignty red flags."""


def _auditor(rules_dirs, policy, buyer=None, vendor=None):
    from .api import Auditor, freeze_loaded_objects

    auditor = Auditor(rules_dirs=rules_dirs, policy=policy, buyer=buyer, vendor=vendor)
    freeze_loaded_objects()
    return auditor


def _audit(auditor, path, budgets=DEFAULT_BUDGETS):
    """One contract's report, audited in a child process held to the time and memory budgets (limits.py)."""
    from .limits import audit_limited

    return audit_limited(auditor, path, budgets)


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AuditError(f"{output}: cannot write output ({exc.strerror})") from None
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as exc:
            raise AuditError(f"cannot write to standard output ({exc.strerror})") from None


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@rules_dir_option
@policy_option
@party_options
@click.option("--fail-on", type=click.Choice(SEVERITIES), help=f"Exit {EXIT_FAIL_ON} if a finding is at least this severe.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_BUDGETS.seconds, show_default=True,
              help="Seconds one contract may take; then it is stopped and reported as an error.")
@click.option("--max-memory", "--memory-limit", "memory_mb", type=click.IntRange(min=64), default=DEFAULT_BUDGETS.memory_mb,
              show_default=True, help="MiB of memory one contract may use on top of the loaded program.")
def scan(files, fmt, output, rules_dirs, policy, fail_on, buyer, vendor, timeout, memory_mb):
    """Scan contracts (PDF, DOCX, text, Markdown) and report their findings."""
    from dataclasses import replace

    from .report import render
    from .score import SEVERITY_RANK

    auditor = _auditor(rules_dirs, policy, buyer, vendor)
    budgets = replace(DEFAULT_BUDGETS, seconds=timeout, memory_mb=memory_mb)
    reports, failed = [], 0
    for path in files:
        try:
            reports.append(_audit(auditor, path, budgets))
        except AuditError as exc:
            failed += 1
            _say(f"error: {exc}", err=True)
    if reports:
        if fmt == "json":
            from .report.json import render_json

            _write(render_json(reports, as_list=len(files) > 1), output)
        else:
            _write(render(reports, fmt), output)
    if failed:
        sys.exit(EXIT_BAD_INPUT)
    if fail_on:
        worst = min((SEVERITY_RANK[f.severity] for r in reports for f in r.findings), default=len(SEVERITIES))
        if worst <= SEVERITY_RANK[fail_on]:
            sys.exit(EXIT_FAIL_ON)


def _write_bytes(data: bytes, output: str | Path) -> None:
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise AuditError(f"{output}: cannot write output ({exc.strerror})") from None


def _beside(path: str, suffix: str) -> Path:
    """DRAFT.pdf -> DRAFT.redline.docx: output next to the input."""
    return Path(path).with_suffix(suffix)


@main.command()
@click.argument("file", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Redlined DOCX to write [default: FILE.redline.docx].")
@click.option("--author", default="contract-audit", show_default=True, help="Name shown on comments and tracked changes.")
@rules_dir_option
@policy_option
@party_options
def redline(file, output, author, rules_dirs, policy, buyer, vendor):
    """Redlined DOCX: a comment on every finding, tracked changes with the recommended wording.

    A DOCX keeps everything else (formatting, numbering, tables, headers, footers); a PDF or text
    contract becomes a clean DOCX of its extracted clauses first.
    """
    from .redline import redline as make_redline

    from .ingest import XML_INVALID

    if not author.strip() or XML_INVALID.search(author):
        raise AuditError("--author must be a name of printable characters")
    target = output or _beside(file, ".redline.docx")
    if Path(target).exists() and Path(file).exists() and Path(target).samefile(file):
        raise AuditError(f"{target}: is the contract itself; choose another --output, the original must stay as it is")
    report = _audit(_auditor(rules_dirs, policy, buyer, vendor), file)
    source = Path(file).read_bytes() if report.document.format == "docx" else None
    result = make_redline(report, source, author=author)
    _write_bytes(result.docx, target)
    for finding in result.unplaced:
        _say(f"warning: clause {finding.clause.number or finding.clause.id} could not be marked up in the document "
             f"(not found again, or inside a text box); no comment for {finding.rule_id}", err=True)
    _say(f"{target}: {result.comments} comment(s), {result.replacements} replaced clause(s), "
         f"{result.insertions} inserted clause(s)", err=True)


@main.command()
@click.argument("file", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["md", "html", "docx"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write here instead of stdout [docx default: FILE.checklist.docx].")
@rules_dir_option
@policy_option
@party_options
def checklist(file, fmt, output, rules_dirs, policy, buyer, vendor):
    """Negotiation checklist: one row per finding and missing protection, most severe first."""
    from .checklist import render_checklist

    rendered = render_checklist(_audit(_auditor(rules_dirs, policy, buyer, vendor), file), fmt)
    if fmt == "docx":
        target = output or _beside(file, ".checklist.docx")
        _write_bytes(rendered, target)
        _say(f"{target}: checklist written", err=True)
    else:
        _write(rendered, output)


@main.command()
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the comparison here instead of stdout.")
@click.option("--fail-on-new", is_flag=True, help=f"Exit {EXIT_FAIL_ON} if the new draft has a new finding.")
@rules_dir_option
@policy_option
@party_options
def compare(old, new, fmt, output, fail_on_new, rules_dirs, policy, buyer, vendor):
    """Compare two drafts: aligned clauses, and findings resolved, new and remaining."""
    from .compare import compare_reports
    from .report.compare import render_comparison

    auditor = _auditor(rules_dirs, policy, buyer, vendor)
    comparison = compare_reports(_audit(auditor, old), _audit(auditor, new))
    _write(render_comparison(comparison, fmt), output)
    if fail_on_new and comparison.finding_changes("new"):
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
        data = sys.stdin.buffer.read() if jsonl == "-" else Path(jsonl).read_bytes()
        raw = data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not part of line 1
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
    corpus_path = Path(corpus) if corpus else shipped_model_dir() / "data" / "corpus.jsonl"
    model = train_model(corpus_path, model_dir, seed=seed)
    click.echo(f"trained on {model.meta['examples']} clauses, {len(model.vocabulary)} features -> {model_dir}")


@main.command()
@click.argument("labelled", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--corpus", type=click.Path(dir_okay=False), help="Training corpus (default: the shipped one).")
@click.option("--corpus-cv", is_flag=True, help="Also cross-validate on the training corpus, plain and grouped by source document.")
@click.option("--grouped-cv/--no-grouped-cv", default=None,
              help="Judge LABELLED by models trained without its documents (5 folds grouped by the 'doc' field). "
                   "Default: when the training corpus holds any of its clauses or documents.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Model folder (default: the shipped model).")
@rules_dir_option
@policy_option
def evaluate(labelled, corpus, corpus_cv, grouped_cv, model_dir, rules_dirs, policy):
    """Per-family precision, recall and F1 of risks found and protections recognised: rules alone,
    classifier alone and fused, on LABELLED (JSON lines with "text", "risk", "protects", optional "doc").

    A labelled file that the training corpus has learnt from is judged by document-grouped cross-validation,
    so that no document's clauses are on both sides of a split; the shipped model's figure on it is then
    shown too, marked as seen in training.
    """
    if not labelled and not corpus_cv:
        raise click.UsageError("give a labelled JSON-lines file to evaluate (or --corpus-cv)")
    from .api import Auditor
    from .classifier import load_model, shipped_model_dir
    from .evaluate import classifier_view, compare_systems, format_side_by_side, load_labelled

    corpus_path = Path(corpus) if corpus else shipped_model_dir() / "data" / "corpus.jsonl"
    rule_auditor = Auditor(rules_dirs=rules_dirs, policy=policy, model=False)
    if corpus_cv:
        _corpus_cross_validation(corpus_path, rule_auditor)
    model = load_model(Path(model_dir) if model_dir else None) if labelled else None
    for path in labelled:
        gold = load_labelled(path)
        overlap = _overlap(gold, corpus_path)
        title = Path(path).name
        if overlap:
            title += f" (shipped model; it was trained on {overlap} of these clauses or their documents)"
        view = classifier_view(model, [g.text for g in gold], rule_auditor.policy)
        click.echo(format_side_by_side(compare_systems(gold, rule_auditor, view), title))
        if grouped_cv or (grouped_cv is None and overlap):
            click.echo(format_side_by_side(compare_systems(gold, rule_auditor, _grouped_view(gold, corpus_path)),
                                           f"{Path(path).name}, document-grouped 5-fold cross-validation "
                                           f"({len({g.group for g in gold})} documents)"))


def _overlap(gold, corpus_path: Path) -> int:
    """How many labelled clauses the corpus holds, itself or from the same document."""
    from .evaluate import normalised
    from .training import load_corpus

    texts, _, keys = load_corpus(corpus_path)
    seen_texts, seen_keys = {normalised(t) for t in texts}, set(keys)
    def seen(clause) -> bool:
        key = _key(clause)
        return normalised(clause.text) in seen_texts or (key in seen_keys and not key.startswith("clause:"))

    return sum(1 for clause in gold if seen(clause))


def _key(clause) -> str:
    from .training import document_key

    return document_key(clause.source, clause.group, clause.id)


def _grouped_view(gold, corpus_path: Path):
    from .classifier import LABELS
    from .evaluate import ClassifierView
    from .score import classifiable
    from .training import held_out_probabilities, load_corpus

    texts, Y, keys = load_corpus(corpus_path)
    held_texts = [g.text for g in gold]
    probabilities, thresholds = held_out_probabilities(held_texts, [_key(g) for g in gold], texts, Y, keys)
    rows = [row if classifiable(" ".join(t.split()), t) else None for row, t in zip(probabilities, held_texts)]
    return ClassifierView(rows, [{f: row[LABELS.index(f"risk:{f}")] for f in FAMILIES} for row in thresholds],
                          [{f: row[LABELS.index(f"protects:{f}")] for f in FAMILIES} for row in thresholds])


def _corpus_cross_validation(corpus_path: Path, rule_auditor) -> None:
    from .classifier import LABELS
    from .evaluate import ClassifierView, LabelledClause, compare_systems, format_side_by_side
    from .score import classifiable
    from .training import cross_validated_probabilities, load_corpus

    texts, Y, keys = load_corpus(corpus_path)
    gold = [LabelledClause(str(i), t, frozenset(_families(row, "risk")), frozenset(_families(row, "protects")), key)
            for i, (t, row, key) in enumerate(zip(texts, Y, keys))]
    for grouped in (False, True):
        probabilities, fold_thresholds = cross_validated_probabilities(texts, Y, groups=keys if grouped else None)
        rows = [row if classifiable(" ".join(t.split()), t) else None for row, t in zip(probabilities, texts)]
        view = ClassifierView(rows, [{f: row[LABELS.index(f"risk:{f}")] for f in FAMILIES} for row in fold_thresholds],
                              [{f: row[LABELS.index(f"protects:{f}")] for f in FAMILIES} for row in fold_thresholds])
        how = "grouped by source document" if grouped else "clauses shuffled, not grouped"
        click.echo(format_side_by_side(compare_systems(gold, rule_auditor, view),
                                       f"5-fold cross-validation on {corpus_path.name} ({how})"))


def _families(row, side: str) -> list[str]:
    from .classifier import LABELS

    return [label.split(":", 1)[1] for label, value in zip(LABELS, row) if value and label.startswith(side + ":")]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; other than localhost needs --token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--token", envvar="CONTRACT_AUDIT_TOKEN", help="Access token every request must carry (env CONTRACT_AUDIT_TOKEN).")
@click.option("--max-upload-mb", default=20, show_default=True, type=click.IntRange(1, 200), help="Largest file accepted.")
@click.option("--max-pages", default=400, show_default=True, type=click.IntRange(1, 10000), help="Most pages per document.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes running audits; a stuck audit occupies one at most.")
@click.option("--scan-timeout", default=120.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds one audit may run before its worker is stopped and the client gets an error.")
@click.option("--worker-memory-mb", default=2048, show_default=True, type=click.IntRange(256, 1 << 20),
              help="Memory one audit may use on top of a loaded worker.")
@click.option("--queue", "max_queue", default=32, show_default=True, type=click.IntRange(0, 10000),
              help="Audits that may wait for a free worker; beyond that the server answers 429.")
@click.option("--max-uploads", default=48, show_default=True, type=click.IntRange(1, 10000),
              help="Request bodies received or held at once; beyond that the server answers 503.")
@click.option("--upload-budget-mb", default=256, show_default=True, type=click.IntRange(1, 1 << 20),
              help="Their sizes added up; beyond that the server answers 503.")
@click.option("--max-connections", default=200, show_default=True, type=click.IntRange(8, 100000),
              help="Open connections at once (lowered to fit the open-file limit).")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds a client has from connecting to finishing its request headers.")
@click.option("--body-timeout", default=120.0, show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds a client has from the end of the headers to the end of its upload.")
@rules_dir_option
@policy_option
def serve(host, port, token, max_upload_mb, max_pages, workers, scan_timeout, worker_memory_mb, max_queue, max_uploads,
          upload_budget_mb, max_connections, header_timeout, body_timeout, rules_dirs, policy):
    """Start the local web page: upload contracts in a browser, read the findings, download reports.

    Limits against slow, large or hostile requests are described in docs/web_limits.md."""
    from .web.server import check_binding, serve as run_server
    from .web.settings import MIB, WebSettings

    token = token or None
    check_binding(host, token)  # refuse before the slower start-up
    settings = WebSettings(
        token=token, max_upload_bytes=max_upload_mb * MIB, max_pages=max_pages, workers=workers,
        scan_timeout=scan_timeout, worker_memory_mb=worker_memory_mb, max_queue=max_queue, max_uploads=max_uploads,
        upload_budget_bytes=upload_budget_mb * MIB, max_connections=max_connections, header_timeout=header_timeout,
        body_timeout=body_timeout,
    )
    try:
        run_server(host, port, settings, rules_dirs=rules_dirs, policy=policy, echo=lambda line: click.echo(line))
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


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
    """Check rule files (the shipped library, or DIRECTORY, also against the shipped library's rule ids)."""
    from .match import CompiledRules

    ruleset = _ruleset([directory], include_shipped=False) if directory else _ruleset([])
    CompiledRules(ruleset)  # token patterns are checked by spaCy as they are added
    if directory:
        _ruleset([directory])  # used with --rules, the folder joins the shipped library: its ids must be new
    click.echo(f"ok: {len(ruleset.rules)} rules valid")


@rules.command("test")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def rules_test(directory):
    """Run every rule's positive and negative examples."""
    from .ruletest import check_examples

    ruleset = _ruleset([directory], include_shipped=False) if directory else _ruleset([])
    run, failures = check_examples(ruleset)
    for failure in failures:
        _say(f"FAIL {failure.rule_id}: expected {failure.expected}: {failure.text}")
    click.echo(f"{run - len(failures)} passed, {len(failures)} failed")
    if failures:
        sys.exit(1)


def _batch_formats(ctx, param, values) -> tuple[str, ...]:
    from .batch.scan import FORMATS

    chosen = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in FORMATS + ("none",)]
    if unknown:
        raise click.BadParameter(f"unknown format {unknown[0]!r} (choose from {', '.join(FORMATS)} or none)")
    if not chosen:
        return FORMATS
    return tuple(v for v in FORMATS if v in chosen)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the results store (results.sqlite) and the exports.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.option("--resume", is_flag=True, help="Finish the batch already in --out; files done before are skipped by content hash.")
@click.option("--format", "formats", multiple=True, callback=_batch_formats,
              help="Exports: csv, jsonl, html or none (repeatable or comma-separated; default: all three).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_BUDGETS.seconds, show_default=True,
              help="Seconds one file may take; then its worker is killed and the file recorded as failed.")
@click.option("--memory-limit", "--max-memory", "memory_mb", type=click.IntRange(min=64),
              default=DEFAULT_BUDGETS.memory_mb, show_default=True,
              help="MiB one file may use on top of a loaded worker; beyond it the file is recorded as failed.")
@click.option("--chunk-size", type=click.IntRange(min=1), help="Files sent to a worker at a time (default: automatic).")
@click.option("--scheduler", help="Run on this Dask cluster (tcp://host:8786); the inputs must be at the same path on every worker.")
@click.option("--dask-local", type=click.IntRange(min=1), help="Run on a local Dask cluster of N workers started for this batch.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@rules_dir_option
@policy_option
@party_options
def batch(paths, out_dir, jobs, resume, formats, timeout, memory_mb, chunk_size, scheduler, dask_local, quiet,
          rules_dirs, policy, buyer, vendor):
    """Audit every contract under folders and ZIP archives into a results store, with CSV, JSON Lines and HTML exports."""
    import signal

    from .batch import BatchOptions, run_batch

    if scheduler and dask_local:
        raise AuditError("choose either --scheduler or --dask-local, not both")

    def stop(signum, frame):
        raise KeyboardInterrupt  # `kill` stops the batch like Ctrl-C: finished files stay in the store

    signal.signal(signal.SIGTERM, stop)
    options = BatchOptions(out=Path(out_dir), jobs=jobs, resume=resume, formats=formats, timeout=timeout,
                           memory_mb=memory_mb, chunk_size=chunk_size, rules_dirs=tuple(rules_dirs), policy=policy,
                           buyer=buyer, vendor=vendor, scheduler=scheduler, dask_local=dask_local, progress=not quiet)
    summary = run_batch(paths, options)
    click.echo(f"{summary.files} files: {summary.ok} ok, {summary.failed} failed"
               + (f" ({summary.duplicates} identical copies audited once)" if summary.duplicates else "")
               + f"; {summary.audited} audited now, {summary.resumed} done before; {summary.pages} pages; "
               f"{summary.seconds:.1f} s")
    for output in summary.outputs:
        _say(f"  {output}")


if __name__ == "__main__":
    main()
