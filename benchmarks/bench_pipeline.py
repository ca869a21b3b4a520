"""Whole-pipeline throughput against raw text extraction on a generated 40-page contract.

    python benchmarks/bench_pipeline.py [--pages 40] [--repeat 5]

Prints, for PDF and DOCX: raw extraction time (pypdfium2 text of every page / python-docx paragraph text),
the in-process audit time (ingest + clauses + matching + scoring, rules already loaded) and its ratio to the
raw extraction, the analysis alone (audit minus contract-audit's own ingest: clauses, matching, classifier,
scoring) and its ratio to the raw extraction, and the command-line wall time including interpreter start-up.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402


def raw_pdf(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    chars = 0
    for index in range(len(pdf)):
        page = pdf[index]
        textpage = page.get_textpage()
        chars += len(textpage.get_text_bounded())
        textpage.close()
        page.close()
    pdf.close()
    return chars


def raw_docx(path: Path) -> int:
    import docx

    return sum(len(p.text) for p in docx.Document(str(path)).paragraphs)


def median_times(functions, repeat: int) -> list[float]:
    """The median time of each function, measured in interleaved rounds so that the machine's speed drifting
    during the run affects them all alike."""
    times = [[] for _ in functions]
    for _ in range(repeat):
        for function, samples in zip(functions, times):
            start = time.perf_counter()
            function()
            samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from contract_audit import Auditor
    from contract_audit.api import freeze_loaded_objects
    from contract_audit.ingest import read_document

    auditor = Auditor()
    freeze_loaded_objects()  # as the command line and the batch workers do
    with tempfile.TemporaryDirectory() as tmp:
        pdf, docx_path = generate(Path(tmp), pages=args.pages)
        print(f"{'format':6} {'pages':>5} {'clauses':>7} {'raw extract':>12} {'audit':>9} {'ratio':>6} "
              f"{'analysis':>9} {'ratio':>6} {'CLI wall':>9}")
        for path, raw in ((pdf, raw_pdf), (docx_path, raw_docx)):
            raw(path), auditor.audit(path)  # warm caches
            raw_seconds, audit_seconds, ingest_seconds = median_times(
                [lambda: raw(path), lambda: auditor.audit(path), lambda: read_document(path)], args.repeat)
            analysis_seconds = max(0.0, audit_seconds - ingest_seconds)
            report = auditor.audit(path)
            command = [sys.executable, "-m", "contract_audit.cli", "scan", str(path), "--format", "json", "-o", str(Path(tmp) / "r.json")]
            [cli_seconds] = median_times([lambda: subprocess.run(command, check=True)], max(3, args.repeat // 2))
            print(f"{report.document.format:6} {report.document.pages:>5} {len(report.clauses):>7} {raw_seconds:>11.3f}s "
                  f"{audit_seconds:>8.3f}s {audit_seconds / raw_seconds:>5.1f}x {analysis_seconds:>8.3f}s "
                  f"{analysis_seconds / raw_seconds:>5.1f}x {cli_seconds:>8.2f}s")


if __name__ == "__main__":
    main()
