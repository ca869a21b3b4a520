"""PDF reader: pypdfium2's text, and for pages whose text comes out run together the characters again with the
gaps between them, from PDFium's character boxes."""
from __future__ import annotations

import re
import zlib

import pypdfium2 as pdfium

from ..errors import IngestError
from ..limits import READER_BUDGETS
from .cleanup import normalise_lines, one_line

# Where a stream's data begins; the dictionary before it says whether it is Flate-compressed.
_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_DICTIONARY_WINDOW = 4096
_INFLATE_BLOCK = 1024 * 1024

# Below this share of spaces a page's text is probably glued together (no word gaps in the text layer).
_MIN_SPACE_RATIO = 0.05
# A horizontal gap wider than this (in points) between two characters on a line is a word gap.
_WORD_GAP = 1.5


def read_pdf_pages(data: bytes, name: str) -> list[list[str]]:
    """Return each page's text lines. Pages are closed as soon as they are read."""
    check_inflated_size(data, name)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise IngestError(f"{name}: the PDF is encrypted (password protected); supply an unlocked copy") from None
        # PDFium reports a file with no page tree (a PDF of no pages) as a failure whose code is "Success".
        detail = "no pages, or a damaged page tree" if "success" in message else f"corrupt or damaged file: {one_line(exc)}"
        raise IngestError(f"{name}: not a readable PDF ({detail})") from None
    try:
        pages = []
        for index in range(len(pdf)):
            page = _load_page(pdf, index, name)
            try:
                textpage = page.get_textpage()
                text = textpage.get_text_bounded()
                if _looks_glued(text):
                    text = spaced_text(textpage)
                textpage.close()
            finally:
                page.close()
            pages.append(normalise_lines(text.replace("\x02", "-")))  # PDFium marks a line-end hyphen with U+0002
    finally:
        pdf.close()
    if not pages:
        raise IngestError(f"{name}: the PDF has no pages")
    if not any(line.strip() for lines in pages for line in lines):
        raise IngestError(f"{name}: the PDF has no text layer (scanned images?); run OCR on it first")
    return pages


def _load_page(pdf, index: int, name: str):
    try:
        return pdf[index]
    except pdfium.PdfiumError:
        # A page tree that loops back on itself, or a page object that is not one, after a byte gone bad.
        raise IngestError(f"{name}: not a readable PDF (page {index + 1} cannot be loaded: damaged page tree)") from None


def check_inflated_size(data: bytes, name: str) -> None:
    """Refuse a PDF whose Flate streams inflate past the reader budgets (a compression bomb), before PDFium
    inflates any of them whole. Pictures are left out: extracting text never decodes them."""
    budget = READER_BUDGETS
    total = 0
    for match in _STREAM_START.finditer(data):
        dictionary = data[max(0, match.start() - _DICTIONARY_WINDOW):match.start()]
        dictionary = dictionary[dictionary.rfind(b"obj") + 1:]
        if b"FlateDecode" not in dictionary or b"/Image" in dictionary:
            continue
        size = _inflated_size(data, match.end(), budget.pdf_stream_bytes)
        total += size
        if size > budget.pdf_stream_bytes or total > budget.pdf_decoded_bytes:
            raise IngestError(
                f"{name}: the PDF's compressed streams inflate to more than the limit ({_mib(budget.pdf_stream_bytes)}"
                f" MiB for one, {_mib(budget.pdf_decoded_bytes)} MiB in all; a compression bomb?); refused"
            )


def _inflated_size(data: bytes, start: int, cap: int) -> int:
    """How many bytes the zlib stream at `start` inflates to, counting no further than just past `cap`."""
    inflater = zlib.decompressobj()
    size, position = 0, start
    try:
        while not inflater.eof and size <= cap:
            pending = inflater.unconsumed_tail
            if not pending:
                if position >= len(data):
                    break
                pending = data[position:position + _INFLATE_BLOCK]
                position += _INFLATE_BLOCK
            size += len(inflater.decompress(pending, _INFLATE_BLOCK))
    except zlib.error:
        pass  # a damaged stream: PDFium reads what it can of it
    return size


def _mib(size: int) -> int:
    return size // (1024 * 1024)


def _looks_glued(text: str) -> bool:
    stripped = text.strip()
    if len(stripped) <= 200 or stripped.count(" ") >= _MIN_SPACE_RATIO * len(stripped):
        return False  # plain spaces alone make the ratio: the common case, without counting all white space
    spaces = len(stripped) - len("".join(stripped.split()))
    return spaces / len(stripped) < _MIN_SPACE_RATIO


def spaced_text(textpage) -> str:
    """The page's characters in PDFium's order, with a space where a gap wider than _WORD_GAP separates two
    characters on a line and a line break where the baseline moves: the words of a text layer that positions
    them apart without space characters. One pass over the characters, one box each."""
    count = textpage.count_chars()
    chars = textpage.get_text_range(0, count) if count else ""
    if len(chars) != count:  # characters outside the Basic Multilingual Plane: indexes no longer line up
        return textpage.get_text_bounded()
    out: list[str] = []
    previous = None  # (right, bottom, height) of the last character placed on the current line
    for index, char in enumerate(chars):
        if char.isspace():
            if char != "\r":  # PDFium ends a line with \r\n
                out.append(char)
            previous = None
            continue
        try:
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
        except pdfium.PdfiumError:
            out.append(char)
            continue
        if previous is not None:
            last_right, last_bottom, height = previous
            if abs(bottom - last_bottom) > height / 2 or left < last_right - height:
                out.append("\n")
            elif left - last_right > _WORD_GAP:
                out.append(" ")
        out.append(char)
        previous = (right, bottom, max(top - bottom, 1.0))
    return "".join(out)
