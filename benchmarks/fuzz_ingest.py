"""Fuzz the readers with byte-flipped PDFs and DOCX files, each read under the document budgets.

    python benchmarks/fuzz_ingest.py --seed 1 --count 2000 [--audit] [--show 10]

Every case must end as a Document (or a full report with --audit) or as a one-line AuditError; an
"unexpected error", a budget exceeded or a crash is a finding of the campaign. Prints a summary: outcomes by
kind, the slowest cases, and the seeds and indexes of the findings, so that each can be built again with
tests.hostile_files.fuzz_cases(seed, count).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract_audit.errors import AuditError  # noqa: E402
from contract_audit.ingest import read_bytes  # noqa: E402
from contract_audit.limits import DEFAULT_BUDGETS, LimitExceeded, run_limited  # noqa: E402
from tests.hostile_files import fuzz_cases  # noqa: E402


def classify(message: str) -> str:
    if "unexpected error" in message:
        return "unexpected error"
    return "refused"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--audit", action="store_true", help="Audit each readable case in full, not only read it.")
    parser.add_argument("--timeout", type=float, default=DEFAULT_BUDGETS.seconds)
    parser.add_argument("--max-memory", type=int, default=DEFAULT_BUDGETS.memory_mb)
    parser.add_argument("--show", type=int, default=10, help="Findings and slowest cases to list.")
    args = parser.parse_args(argv)
    budgets = replace(DEFAULT_BUDGETS, seconds=args.timeout, memory_mb=args.max_memory)
    work = read_bytes
    if args.audit:
        from contract_audit import Auditor

        work = Auditor().audit_bytes
    import docx  # noqa: F401  (loaded once here, not again in every child)
    import pypdfium2  # noqa: F401

    outcomes: Counter = Counter()
    findings: list[tuple[int, str, str]] = []
    timings: list[tuple[float, str]] = []
    started = time.perf_counter()
    for index, (name, data) in enumerate(fuzz_cases(args.seed, args.count)):
        begin = time.perf_counter()
        try:
            run_limited(work, data, name, budgets=budgets, name=name)
            kind, message = "read", ""
        except LimitExceeded as exc:
            kind, message = "over budget", str(exc)
        except AuditError as exc:
            message = str(exc)
            kind = classify(message)
        if "\n" in message:
            kind = "multi-line message"
        timings.append((time.perf_counter() - begin, name))
        outcomes[kind] += 1
        if kind not in ("read", "refused"):
            findings.append((index, name, message))
    seconds = time.perf_counter() - started
    print(f"{args.count} cases (seed {args.seed}) in {seconds:.1f} s: "
          + ", ".join(f"{count} {kind}" for kind, count in outcomes.most_common()))
    timings.sort(reverse=True)
    print("slowest: " + ", ".join(f"{name} {took:.2f} s" for took, name in timings[:args.show]))
    for index, name, message in findings[:args.show]:
        print(f"finding: case {index} ({name}): {message}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
