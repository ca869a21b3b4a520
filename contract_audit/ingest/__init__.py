"""Readers turn a file's bytes into a Document. The format is decided by content, not by the file name."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Callable

from ..errors import IngestError
from ..model import Document
from .cleanup import join_pages, strip_page_furniture

PageReader = Callable[[bytes, str], list[list[str]]]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILE_BYTES = 200 * 1024 * 1024
# Characters XML 1.0 cannot hold (C0 controls other than tab and line ends, lone surrogates, U+FFFE/U+FFFF):
# meaningless in a contract, and fatal to every DOCX and XML output. Each becomes a space, keeping offsets.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def displayable(path: str) -> str:
    """A path as text that can be stored and shown: a file name that is not valid UTF-8 (its undecodable
    bytes arrive as surrogate escapes) keeps those bytes as '\\xff' escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def detect_format(data: bytes, name: str) -> str:
    """Return 'pdf', 'docx', 'markdown' or 'text'; raise IngestError for anything else."""
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{name}: an encrypted Office file or a legacy .doc; save it as an unprotected .docx or PDF"
        )
    markup = unsupported_markup(head)
    if markup:
        raise IngestError(f"{name}: {markup} (unsupported); save it as .docx or PDF")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{name}: unsupported file type (expected PDF, DOCX, text or Markdown)")
    return "markdown" if is_markdown_name(name) else "text"


def unsupported_markup(head: bytes) -> str | None:
    """What a text file that is really RTF or HTML is, from its first bytes; None for any other text."""
    opening = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if opening.startswith(b"{\\rtf"):
        return "an RTF document"
    if opening.startswith((b"<!doctype html", b"<html")):
        return "a web page or a Word document saved as HTML"
    return None


def is_markdown_name(name: str) -> bool:
    """Plain text is read as Markdown when its name says so: the only part of a format that the name decides."""
    return name.lower().endswith((".md", ".markdown"))


def _reader(fmt: str) -> PageReader:
    # Imported lazily so a text-only run never pays for the PDF or DOCX libraries.
    if fmt == "pdf":
        from .pdf import read_pdf_pages

        return read_pdf_pages
    if fmt == "docx":
        from .docx import read_docx_pages

        return read_docx_pages
    from .text import read_text_pages

    if fmt == "markdown":
        return lambda data, name: read_text_pages(data, name, markdown=True)
    return read_text_pages


def read_bytes(data: bytes, name: str) -> Document:
    """Build a Document from raw bytes; `name` is used in messages and reports."""
    fmt = detect_format(data, name)
    pages = _reader(fmt)(data, name)
    text, page_starts = join_pages(strip_page_furniture(pages))
    text = XML_INVALID.sub(" ", text)
    if not text.strip():
        raise IngestError(f"{name}: no text left after removing page headers and footers")
    return Document(
        path=name, format=fmt, sha256=hashlib.sha256(data).hexdigest(), text=text, page_starts=page_starts
    )


def read_document(path: str | Path) -> Document:
    path = Path(path)
    shown = displayable(str(path))
    if not path.exists():
        raise IngestError(f"{shown}: no such file")
    if path.is_dir():
        raise IngestError(f"{shown}: is a folder, not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise IngestError(f"{shown}: {size // (1024 * 1024)} MiB is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{shown}: cannot be read ({exc.strerror})") from None
    return read_bytes(data, shown)
