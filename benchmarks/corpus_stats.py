"""Scan every contract in a folder and summarise: failures, clause numbering recovered, risk findings per family.

    python benchmarks/corpus_stats.py ../shared/data/cuad/pdf [--show]

--show prints every risk finding with its clause, for reading them one by one.
"""
from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

from contract_audit import Auditor, AuditError
from contract_audit.model import FAMILIES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    auditor = Auditor()
    files = sorted(p for p in args.folder.iterdir() if p.is_file())
    per_family: collections.Counter = collections.Counter()
    classifier_only: collections.Counter = collections.Counter()
    failed, few_numbers, pages = [], [], 0
    started = time.perf_counter()
    for path in files:
        try:
            report = auditor.audit(path)
        except AuditError as exc:
            failed.append(f"{path.name}: {exc}")
            continue
        pages += report.document.pages
        numbered = sum(1 for clause in report.clauses if clause.number)
        if numbered < 5:
            few_numbers.append(f"{path.name} ({numbered} numbered of {len(report.clauses)})")
        for finding in report.findings:
            if finding.kind == "risk":
                per_family[finding.family] += 1
                if finding.source == "classifier":
                    classifier_only[finding.family] += 1
                if args.show:
                    clause = finding.clause
                    print(f"--- {finding.family} {finding.rule_id} ({finding.source}) | {path.name[:50]} | clause {clause.number} p{clause.page}\n    {clause.text[:400]}")
    seconds = time.perf_counter() - started
    print(f"files {len(files)}, scanned {len(files) - len(failed)}, failed {len(failed)}, pages {pages}, {seconds:.1f}s")
    print(f"files with fewer than 5 numbered clauses: {len(few_numbers)}")
    for line in few_numbers:
        print(f"  {line}")
    for line in failed:
        print(f"  failed: {line}")
    print("risk findings per family (of which classifier only): "
          + ", ".join(f"{family} {per_family[family]} ({classifier_only[family]})" for family in FAMILIES)
          + f"; total {sum(per_family.values())} ({sum(classifier_only.values())})")


if __name__ == "__main__":
    main()
