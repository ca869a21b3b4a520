"""Archive benchmark: batch throughput against raw text extraction of the same files.

    python benchmarks/bench_batch.py [--files 100] [--pages 40] [--spread 0.5] [--docx-share 0.3]
                                     [--broken-share 0.02] [--zips 0] [--hang 0] [--jobs 1,2] [--keep DIR] [--archive DIR]
                                     [--repeat 1]

Generates N contracts (PDF and DOCX, page counts spread around the median `--pages`, a share of them corrupt
or encrypted, optionally some inside ZIP archives and one that hangs its parser through the worker's test
hook), then prints files/s and pages/s, side by side, for:
  raw text, 1 / 2 processes   pypdfium2 text of every page / python-docx paragraph text, nothing else
  ingest, 1 / 2 processes     contract-audit's text extraction (contract_audit.ingest.read_bytes: the text
                              plus header, footer and page-number removal), no clauses, matching or scoring
  audit in-process            Auditor.audit_bytes on every file in one process (rules loaded beforehand),
                              no batch machinery: what --jobs 1 would reach with no overhead at all
  batch --jobs N              the batch scan: wall time including worker start-up, finding and hashing the
                              files, the SQLite store and the CSV export
Each rate is also given as a share of the raw text rate with one process and with two. With --repeat N the
modes run in N interleaved rounds and each keeps its fastest run.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from generate import contract_lines, write_docx, write_pdf  # noqa: E402

VENDORS = ["NovaStack", "ApexCloud", "UrbanSense", "Kestrel", "Orbis"]
HANG_STEM = "hang_parser"


def _make_one(job: tuple[str, int, int, str, str]) -> tuple[str, int]:
    path, pages, seed, fmt, vendor = job
    lines = contract_lines(pages, seed)
    lines.insert(1, f'This Agreement is made between the City of Riverton, as buyer ("Riverton") and {vendor} Ltd, as supplier ("{vendor}").')
    (write_pdf if fmt == "pdf" else write_docx)(lines, Path(path))
    return path, pages


def _broken(kind: str, seed: int) -> bytes:
    rng = random.Random(seed)
    if kind == "corrupt-pdf":
        return b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4000))
    if kind == "corrupt-docx":
        return b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(4000))
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1, encrypt=f"secret{seed}")
    pdf.drawString(72, 700, "1. The Supplier shall hold the encryption keys.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def generate_archive(root: Path, files: int, pages: int, spread: float, docx_share: float, broken_share: float,
                     zips: int, hang: int, seed: int = 1) -> dict[str, int]:
    """Write the archive under `root`; returns {relative path: pages} for the readable contracts."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    broken = round(files * broken_share)
    jobs, manifest = [], {}
    for index in range(files - broken - hang):
        fmt = "docx" if rng.random() < docx_share else "pdf"
        low, high = max(1, round(pages * (1 - spread))), max(1, round(pages * (1 + spread)))
        count = rng.randint(low, high)  # symmetric around the median
        folder = root / f"{2015 + index % 8}" / f"lot{index % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        jobs.append((str(folder / f"contract_{index:05d}.{fmt}"), count, seed * 100_000 + index, fmt, VENDORS[index % len(VENDORS)]))
    for index in range(hang):
        jobs.append((str(root / f"{HANG_STEM}{'' if index == 0 else index}.pdf"), pages, seed * 7 + index, "pdf", VENDORS[0]))
    with multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        for path, count in pool.imap_unordered(_make_one, jobs, chunksize=4):
            manifest[str(Path(path).relative_to(root))] = count
    kinds = ["corrupt-pdf", "encrypted-pdf", "corrupt-docx"]
    for index in range(broken):
        kind = kinds[index % len(kinds)]
        (root / "broken").mkdir(exist_ok=True)
        (root / "broken" / f"{kind}_{index:03d}.{'docx' if kind.endswith('docx') else 'pdf'}").write_bytes(_broken(kind, index))
    # Move some contracts into ZIP archives (nested folders inside), as tender portals deliver them.
    movable = sorted(p for p in manifest if "broken" not in p and HANG_STEM not in p)
    per_zip = max(1, len(movable) // 20) if zips else 0
    for z in range(zips):
        chosen = movable[z * per_zip:(z + 1) * per_zip]
        with zipfile.ZipFile(root / f"portal_export_{z}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for relative in chosen:
                archive.write(root / relative, f"tender {z}/{relative}")
                (root / relative).unlink()
                manifest[f"portal_export_{z}.zip!tender {z}/{relative}"] = manifest.pop(relative)
    return manifest


def raw_extract(items) -> int:
    """Text of every page with the libraries the batch uses (pypdfium2, python-docx), nothing else; returns
    the PDF pages read."""
    import docx
    import pypdfium2 as pdfium

    from contract_audit.batch.sources import Reader

    reader = Reader()
    pages = 0
    for item in items:
        try:
            data = reader.read(item)
            if item.path.lower().endswith(".pdf"):
                pdf = pdfium.PdfDocument(data)
                for index in range(len(pdf)):
                    page = pdf[index]
                    textpage = page.get_textpage()
                    textpage.get_text_bounded()
                    textpage.close()
                    page.close()
                    pages += 1
                pdf.close()
            else:
                "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
        except Exception:
            pass  # corrupt and encrypted files: the batch records them, raw extraction skips them
    reader.close()
    return pages


def ingest_extract(items) -> int:
    """contract-audit's own text extraction (contract_audit.ingest.read_bytes: the text plus the removal of
    headers, footers and page numbers), without clause splitting, matching or scoring."""
    from contract_audit.batch.sources import Reader
    from contract_audit.ingest import read_bytes

    reader = Reader()
    for item in items:
        try:
            read_bytes(reader.read(item), item.path)
        except Exception:
            pass
    reader.close()
    return 0


def audit_in_process(items) -> int:
    """The whole audit with one Auditor in this process, no batch machinery: the ceiling for --jobs 1."""
    from contract_audit import Auditor
    from contract_audit.api import freeze_loaded_objects
    from contract_audit.batch.sources import Reader
    from contract_audit.errors import AuditError

    auditor, reader = Auditor(), Reader()
    freeze_loaded_objects()  # as the batch workers do
    start = time.perf_counter()
    for item in items:
        try:
            auditor.audit_bytes(reader.read(item), item.path)
        except AuditError:
            pass
    reader.close()
    return time.perf_counter() - start


def timed(function, items, processes: int) -> float:
    start = time.perf_counter()
    if processes == 1:
        function(items)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(function, [[item] for item in items], chunksize=max(1, len(items) // (processes * 8)))
    return time.perf_counter() - start


def timed_batch(root: Path, jobs: int, hang: bool, timeout: float) -> tuple[float, object]:
    from contract_audit.batch import BatchOptions, run_batch
    from contract_audit.batch.worker import HANG_HOOK

    out = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    if hang:
        os.environ[HANG_HOOK] = HANG_STEM
    try:
        start = time.perf_counter()
        summary = run_batch([str(root)], BatchOptions(out=out, jobs=jobs, formats=("csv",), timeout=timeout, progress=False))
        return time.perf_counter() - start, summary
    finally:
        os.environ.pop(HANG_HOOK, None)
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--pages", type=int, default=40, help="median pages per contract")
    parser.add_argument("--spread", type=float, default=0.5, help="pages vary uniformly within median x (1 +/- spread)")
    parser.add_argument("--docx-share", type=float, default=0.3)
    parser.add_argument("--broken-share", type=float, default=0.02, help="corrupt or encrypted files")
    parser.add_argument("--zips", type=int, default=0, help="ZIP archives holding 5%% of the contracts each")
    parser.add_argument("--hang", type=int, default=0, help="files that hang their parser (test hook)")
    parser.add_argument("--timeout", type=float, default=20.0, help="per-file limit for the batch runs")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to measure")
    parser.add_argument("--keep", type=Path, help="generate the archive here (and reuse it when it exists)")
    parser.add_argument("--archive", type=Path, help="measure this existing folder instead (nothing generated)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds: every mode runs once per round and keeps its "
                        "fastest run (the machine may be shared: the fastest run is the least disturbed)")
    args = parser.parse_args()

    from contract_audit.batch.sources import discover

    root = args.archive or args.keep or Path(tempfile.mkdtemp(prefix="bench_archive_"))
    manifest_path = root / ".manifest.json"
    if args.archive:
        manifest = {}
    elif not manifest_path.exists():
        start = time.perf_counter()
        manifest = generate_archive(root, args.files, args.pages, args.spread, args.docx_share, args.broken_share,
                                    args.zips, args.hang)
        manifest_path.write_text(json.dumps(manifest, indent=0, sort_keys=True))
        print(f"generated {args.files} contracts in {root} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if not args.archive:
        manifest = json.loads(manifest_path.read_text())
    items = discover([str(root)]).items
    pdf_pages = raw_extract(items)  # also warms the page cache for every mode alike
    docx_pages = sum(pages for path, pages in manifest.items() if path.endswith(".docx"))
    pages = pdf_pages + docx_pages
    files = len(items)
    print(f"archive: {files} files ({sum(i.path.lower().endswith('.pdf') for i in items)} PDF, "
          f"{sum(i.path.lower().endswith('.docx') for i in items)} DOCX, {sum('!' in i.path for i in items)} inside ZIPs), "
          f"{pages} pages ({pdf_pages} PDF pages read, {docx_pages} DOCX pages as generated); "
          f"{multiprocessing.cpu_count()} cores")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    # The modes run in interleaved rounds (each round runs every mode once) and each keeps its fastest run, so
    # that the machine's drift over the minutes a benchmark takes affects all modes alike.
    modes = [(f"{label}, {processes} process{'es' if processes > 1 else ''}",
              lambda function=function, processes=processes: (timed(function, items, processes), None))
             for label, function in (("raw text", raw_extract), ("ingest", ingest_extract)) for processes in (1, 2)]
    modes.append(("audit in-process", lambda: (audit_in_process(items), None)))
    modes += [(f"batch --jobs {jobs}", lambda jobs=jobs: timed_batch(root, jobs, args.hang > 0, args.timeout))
              for jobs in [int(j) for j in args.jobs.split(",")]]
    best: dict[str, tuple[float, object]] = {}
    for _ in range(args.repeat):
        for label, run in modes:
            seconds, summary = run()
            if label not in best or seconds < best[label][0]:
                best[label] = (seconds, summary)
    rows = [(label, *best[label]) for label, _ in modes]
    raw_rate, raw_rate_2p = files / rows[0][1], files / rows[1][1]
    print(f"{'mode':22} {'seconds':>8} {'files/s':>8} {'pages/s':>8} {'vs raw text 1p':>14} {'vs raw text 2p':>14} "
          f"{'ok':>5} {'failed':>6}")
    for label, seconds, summary in rows:
        rate = files / seconds
        counts = f"{summary.ok:>5} {summary.failed:>6}" if summary else f"{'':>5} {'':>6}"
        print(f"{label:22} {seconds:>8.2f} {rate:>8.2f} {pages / seconds:>8.1f} {rate / raw_rate:>14.0%} "
              f"{rate / raw_rate_2p:>14.0%} {counts}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes on the machine slow every mode)")
    if not (args.keep or args.archive):
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
