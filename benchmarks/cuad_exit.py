"""Does the report see a termination-for-convenience right where CUAD's lawyers found one?

    python benchmarks/cuad_exit.py [--cuad ../shared/data/cuad] [--show-misses]

Audits every PDF in CUAD's `pdf/` folder and compares `families["exit"].protected` with the lawyers'
"Termination for Convenience" answer in `master_clauses.csv` (Yes/No). Prints recall and precision of the
exit protection against that answer, and which contracts disagree.

Exit protection is wider than termination for convenience (source-code escrow, data returned on exit, the
buyer's ownership of its data), so a second line counts only exit protections found in a termination clause
(one that speaks of terminating or cancelling). CUAD v1: The Atticus Project, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANSWER = "Termination for Convenience-Answer"
TERMINATION = re.compile(r"\b(?:terminat|cancel)\w*", re.IGNORECASE)


def answers(csv_path: Path) -> dict[str, bool]:
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return {row["Filename"].lower(): row[ANSWER].strip().lower() == "yes" for row in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuad", type=Path, default=REPO.parent / "shared" / "data" / "cuad")
    parser.add_argument("--show-misses", action="store_true", help="list the contracts that disagree")
    args = parser.parse_args(argv)
    from contract_audit import Auditor
    from contract_audit.errors import AuditError

    gold = answers(args.cuad / "master_clauses.csv")
    auditor = Auditor()
    counts = {"exit protected": [0, 0, 0, 0], "from a termination clause": [0, 0, 0, 0]}  # tp, fp, fn, tn
    unread = 0
    misses: list[str] = []
    for path in sorted((args.cuad / "pdf").iterdir()):
        truth = gold.get(path.name.lower())
        if truth is None:
            continue  # not among CUAD's labelled contracts under this name
        try:
            report = auditor.audit(path)
        except AuditError as exc:
            unread += 1
            print(f"unread: {exc}", file=sys.stderr)
            continue
        seen = report.families["exit"].protected
        by_termination = any(p.family == "exit" and TERMINATION.search(p.clause.text) for p in report.protections)
        for name, found in (("exit protected", seen), ("from a termination clause", by_termination)):
            cell = 0 if found and truth else 1 if found else 2 if truth else 3
            counts[name][cell] += 1
        if seen != truth:
            misses.append(f"{'missed' if truth else 'extra '}  {path.name}")
    tp, fp, fn, tn = counts["exit protected"]
    print(f"contracts: {tp + fp + fn + tn} labelled ({tp + fn} with termination for convenience), {unread} unread")
    for name, (tp, fp, fn, tn) in counts.items():
        recall = tp / (tp + fn) if tp + fn else 0.0
        precision = tp / (tp + fp) if tp + fp else 0.0
        print(f"{name} vs Termination for Convenience: recall {recall:.2f}, precision {precision:.2f} "
              f"(tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    if args.show_misses:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
