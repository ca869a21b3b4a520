"""PDF reader: pypdfium2 for the fast text path, pdfplumber for pages whose text comes out run together."""
from __future__ import annotations

import pypdfium2 as pdfium

from ..errors import IngestError
from .cleanup import normalise_lines

# Below this share of spaces a page's text is probably glued together (no word gaps in the text layer).
_MIN_SPACE_RATIO = 0.05


def read_pdf_pages(data: bytes, name: str) -> list[list[str]]:
    """Return each page's text lines. Pages are closed as soon as they are read."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise IngestError(f"{name}: the PDF is encrypted (password protected); supply an unlocked copy") from None
        # PDFium reports a file with no page tree (a PDF of no pages) as a failure whose code is "Success".
        detail = "no pages, or a damaged page tree" if "success" in message else f"corrupt or damaged file: {exc}"
        raise IngestError(f"{name}: not a readable PDF ({detail})") from None
    try:
        pages = []
        glued: list[int] = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                text = textpage.get_text_bounded().replace("\x02", "-")  # PDFium marks a line-end hyphen with U+0002
                textpage.close()
            finally:
                page.close()
            if _looks_glued(text):
                glued.append(index)
            pages.append(normalise_lines(text))
    finally:
        pdf.close()
    if glued:
        _reextract_with_pdfplumber(data, glued, pages)
    if not pages:
        raise IngestError(f"{name}: the PDF has no pages")
    if not any(line.strip() for lines in pages for line in lines):
        raise IngestError(f"{name}: the PDF has no text layer (scanned images?); run OCR on it first")
    return pages


def _looks_glued(text: str) -> bool:
    stripped = text.strip()
    if len(stripped) <= 200 or stripped.count(" ") >= _MIN_SPACE_RATIO * len(stripped):
        return False  # plain spaces alone make the ratio: the common case, without counting all white space
    spaces = len(stripped) - len("".join(stripped.split()))
    return spaces / len(stripped) < _MIN_SPACE_RATIO


def _reextract_with_pdfplumber(data: bytes, indexes: list[int], pages: list[list[str]]) -> None:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for index in indexes:
            page = pdf.pages[index]
            pages[index] = normalise_lines(page.extract_text(x_tolerance=1.5) or "")
            page.close()
