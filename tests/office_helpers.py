"""Shared helpers for the redline and checklist tests: read DOCX XML, convert with LibreOffice."""
from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W_NS}


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def part(docx: bytes, name: str = "word/document.xml"):
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return etree.fromstring(archive.read(name))


def part_names(docx: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return set(archive.namelist())


def comments(docx: bytes) -> dict[str, str]:
    """Comment id -> its text (paragraphs joined by newlines)."""
    root = part(docx, "word/comments.xml")
    return {c.get(w("id")): "\n".join("".join(t.text or "" for t in p.iter(w("t"))) for p in c.iter(w("p")))
            for c in root.iter(w("comment"))}


def comment_ranges(docx: bytes) -> dict[str, dict[str, str]]:
    """Comment id -> the deleted text and the inserted text inside its anchored range."""
    body = part(docx).find(w("body"))
    open_ids: list[str] = []
    ranges: dict[str, dict[str, str]] = {}
    for node in body.iter():
        if node.tag == w("commentRangeStart"):
            open_ids.append(node.get(w("id")))
            ranges[node.get(w("id"))] = {"deleted": "", "inserted": ""}
        elif node.tag == w("commentRangeEnd"):
            open_ids.remove(node.get(w("id")))
        elif node.tag == w("delText"):
            for comment_id in open_ids:
                ranges[comment_id]["deleted"] += node.text or ""
        elif node.tag == w("t") and any(a.tag == w("ins") for a in node.iterancestors()):
            for comment_id in open_ids:
                ranges[comment_id]["inserted"] += node.text or ""
    return ranges


def squash(text: str) -> str:
    return " ".join(text.split())


def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("LibreOffice (soffice) is not installed; install it with "
                "'apt-get install -y --no-install-recommends libreoffice-writer' to run this test")


def convert(source: Path, fmt: str, outdir: Path) -> Path:
    """Convert with LibreOffice in a private profile (so parallel runs do not share one instance)."""
    profile = outdir / "lo-profile"
    command = [soffice(), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless",
               "--convert-to", fmt, "--outdir", str(outdir), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=240)
    target = outdir / f"{source.stem}.{fmt.split(':')[0]}"
    assert target.is_file() and target.stat().st_size > 0, f"LibreOffice produced no {fmt} for {source.name}"
    return target


def pdf_text(pdf: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        return text.replace("\ufffe", "-")  # pdfium's mark for a hyphen where a line broke
    finally:
        document.close()


def pdf_pages(pdf: Path) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return len(document)
    finally:
        document.close()
