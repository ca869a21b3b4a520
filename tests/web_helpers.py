"""Shared helpers for the web tests: a real server in a subprocess, and bad files of every kind."""
from __future__ import annotations

import contextlib
import io
import os
import queue
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_contracts"


@contextlib.contextmanager
def running_server(*args: str, env: dict | None = None, startup_seconds: float = 90):
    """Start `contract-audit serve --port 0` on 127.0.0.1 and yield its base URL; always stop it."""
    with server_process(*args, env=env, startup_seconds=startup_seconds) as (base, _):
        yield base


@contextlib.contextmanager
def server_process(*args: str, env: dict | None = None, startup_seconds: float = 90, open_files: int | None = None):
    """Like running_server, but yield (base URL, the server's Popen); `open_files` sets its RLIMIT_NOFILE."""
    def limit_open_files():
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    command = [sys.executable, "-m", "contract_audit.cli", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, preexec_fn=limit_open_files if open_files else None,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put("")], daemon=True)
    reader.start()
    # Drain stderr so a chatty server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    try:
        try:
            first = lines.get(timeout=startup_seconds)
        except queue.Empty:
            raise RuntimeError("the server did not start in time") from None
        if not first:
            raise RuntimeError(f"the server stopped at start-up with exit code {process.wait(timeout=10)}")
        if "http://" not in first:
            raise RuntimeError(f"unexpected first line from the server: {first!r}")
        yield first[first.index("http://"):].strip(), process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def zip_bomb_docx(unpacked_mib: int = 100) -> bytes:
    """A small ZIP whose word/document.xml unpacks to `unpacked_mib` MiB of zeros, to be named .docx."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked_mib):
                member.write(chunk)
    return buffer.getvalue()


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then garbage: no cross-reference table, no pages."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def forty_page_pdf(directory: Path) -> Path:
    """A generated contract of at least 40 pages (benchmarks/generate.py), made once per directory."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from generate import contract_lines, write_pdf
    finally:
        sys.path.pop(0)
    import pypdfium2 as pdfium

    path = directory / "contract_40p.pdf"
    for pages in range(40, 46):  # the rule library's examples change the length a little
        write_pdf(contract_lines(pages), path)
        pdf = pdfium.PdfDocument(str(path))
        count = len(pdf)
        pdf.close()
        if count >= 40:
            return path
    raise RuntimeError("could not generate a 40-page PDF")
