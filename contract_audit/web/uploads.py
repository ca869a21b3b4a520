"""Checks on an uploaded file before the auditor sees it: size, type by content, ZIP bombs, page count.

The file name is only ever shown to the user; it never becomes a path.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile

from ..ingest import unsupported_markup
from .settings import MIB, WebSettings

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image", b"\x7fELF": "a program",
    b"MZ": "a Windows program", b"\x1f\x8b": "a gzip archive", b"7z\xbc\xaf": "a 7-Zip archive", b"Rar!": "a RAR archive",
    b"PK\x05\x06": "an empty ZIP archive", b"II*\x00": "a TIFF image", b"MM\x00*": "a TIFF image",
}
_UNSUPPORTED = "expected a PDF, DOCX, text or Markdown file"


class UploadRejected(Exception):
    """A file the server refuses, with the HTTP status to answer and a one-line message for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def display_name(filename: str | None) -> str:
    """A safe label for the upload: the last path component, printable characters only, bounded length."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    if len(name) > 120:
        name = name[:80] + "…" + name[-30:]
    return name or "upload"


def download_name(name: str, suffix: str) -> str:
    """An ASCII file name for a download built from the upload's label: `contract.audit.json`."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode())
    return f"{stem.strip('_')[:60] or 'contract'}.{suffix}"


def read_upload(upload, name: str, settings: WebSettings) -> bytes:
    """The bytes of an uploaded file part; one too large is refused before it is read into memory."""
    stream = upload.stream
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    _check_size(size, name, settings)
    return stream.read()


def _check_size(size: int, name: str, settings: WebSettings) -> None:
    if size > settings.max_upload_bytes:
        raise UploadRejected(413, f"{name}: {_mib(size)} is larger than the {_mib(settings.max_upload_bytes)} limit per file")


def check_upload(data: bytes, name: str, settings: WebSettings) -> str:
    """Return the format ('pdf', 'docx' or 'text') judged from the bytes, or raise UploadRejected."""
    _check_size(len(data), name, settings)
    if not data.strip():
        raise UploadRejected(422, f"{name}: the file is empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        _check_zip(data, name, settings)
        return "docx"
    if head.startswith(_OLE_MAGIC):
        raise UploadRejected(415, f"{name}: an encrypted Office file or a legacy .doc; save it as an unprotected .docx or PDF")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UploadRejected(415, f"{name}: this is {what}; {_UNSUPPORTED}")
    markup = unsupported_markup(head)
    if markup:
        raise UploadRejected(415, f"{name}: this is {markup}; {_UNSUPPORTED}")
    if b"\x00" in data and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadRejected(415, f"{name}: binary data; {_UNSUPPORTED}")
    return "text"


def _check_zip(data: bytes, name: str, settings: WebSettings) -> None:
    # Only the ZIP directory is read here; nothing is decompressed.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRejected(422, f"{name}: not a readable DOCX (corrupt ZIP container)") from None
    if len(members) > settings.max_zip_members:
        raise UploadRejected(422, f"{name}: the ZIP container holds {len(members)} parts; refused (limit {settings.max_zip_members})")
    if not any(member.filename == "word/document.xml" for member in members):
        raise UploadRejected(415, f"{name}: a ZIP archive but not a Word document; {_UNSUPPORTED}")
    unpacked = sum(member.file_size for member in members)
    if unpacked > settings.max_unpacked_bytes:
        raise UploadRejected(
            422, f"{name}: the DOCX would unpack to {_mib(unpacked)} (limit {_mib(settings.max_unpacked_bytes)}); refused as a possible ZIP bomb"
        )


def check_pdf_pages(data: bytes, name: str, max_pages: int) -> None:
    """Count pages without extracting text, so a huge PDF is refused before any work. Call under the pdfium lock."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return  # the reader gives the precise message (encrypted, corrupt)
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    check_page_count(pages, name, max_pages)


CHARS_PER_PAGE = 3_000  # a densely printed contract page


def page_equivalent(document) -> int:
    """Pages for the page limit. A PDF has real pages; text and Word files have pages only where a page break
    was typed, so their length in printed pages counts too, and a huge one-page text is bounded like a long PDF."""
    if document.format == "pdf":
        return document.pages
    return max(document.pages, -(-len(document.text) // CHARS_PER_PAGE))


def check_page_count(pages: int, name: str, max_pages: int) -> None:
    if pages > max_pages:
        raise UploadRejected(413, f"{name}: {pages} pages is more than the {max_pages}-page limit per document")


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"


MAX_PARTY_NAME = 200


def party_name(value: str | None, field: str) -> str | None:
    """A party name typed by the user (optional): one line of printable text, or UploadRejected (400)."""
    value = " ".join((value or "").split())
    if not value:
        return None
    if len(value) > MAX_PARTY_NAME or not value.isprintable():
        raise UploadRejected(400, f"'{field}' must be one line of at most {MAX_PARTY_NAME} printable characters")
    return value
