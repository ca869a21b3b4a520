"""Plain-text and Markdown reader. A form feed separates pages."""
from __future__ import annotations

import re

from ..errors import IngestError
from .cleanup import normalise_lines

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def decode_text(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise IngestError(f"{name}: not a text file in a known encoding") from None
    return text


def read_text_pages(data: bytes, name: str, markdown: bool = False) -> list[list[str]]:
    text = decode_text(data, name)
    if "\x00" in text:
        raise IngestError(f"{name}: binary data, not a supported contract format (PDF, DOCX, text)")
    pages = [normalise_lines(page) for page in text.split("\f")]
    if markdown:
        pages = [[_strip_markdown(line) for line in lines] for lines in pages]
    return pages


def _strip_markdown(line: str) -> str:
    return _MARKDOWN_EMPHASIS.sub(r"\2", _MARKDOWN_HEADING.sub("", line))
