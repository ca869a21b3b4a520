"""Text repairs shared by the readers: page furniture, hyphenation, whitespace."""
from __future__ import annotations

import re
from collections import Counter

_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?\s*$", re.IGNORECASE
)
_DIGITS = re.compile(r"\d+")
# Hyphenated words that keep their hyphen when a line break splits them ("third-\nparty").
_KEEP_HYPHEN_PREFIXES = frozenset(
    "third self non co multi cross pre post real end on off sub semi anti inter intra well "
    "long short high low full part open close state city vendor supplier".split()
)
_HYPHEN_BREAK = re.compile(r"(\b[A-Za-z]+)-\n[ \t]*([a-z][A-Za-z]*)")
_EDGE_LINES = 2
_MAX_FURNITURE_LENGTH = 120
# A page this short has no room for a running header distinct from its body.
_MIN_LINES_FOR_FURNITURE = 5


_CLAUSE_START = re.compile(r"^\s*\(?\d+(?:\.\d+)*[.)]?\s+[A-Za-z]")


def _furniture_key(line: str) -> str:
    normalised = " ".join(line.lower().split())
    # Digits are ignored ("Page 3", "Draft 2 - 14") except in a line that starts like a numbered clause.
    return normalised if _CLAUSE_START.match(line) else _DIGITS.sub("#", normalised)


def strip_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop running headers/footers and page numbers from each page's lines.

    A line near the top or bottom of a page is furniture when it is a bare page number, or when the
    same line (digits ignored) sits near the edge of at least half the pages (and of three or more).
    """
    edge_counts: Counter[str] = Counter()
    for lines in pages:
        seen = {_furniture_key(line) for line in _edges(lines) if line.strip() and len(line) <= _MAX_FURNITURE_LENGTH}
        edge_counts.update(seen)
    min_repeats = max(3, (len(pages) + 1) // 2)
    repeated = {key for key, count in edge_counts.items() if count >= min_repeats}
    cleaned = []
    for lines in pages:
        edge_indexes = _edge_indexes(lines)
        kept = [
            line
            for i, line in enumerate(lines)
            if not (_PAGE_NUMBER.match(line) and _is_edge(i, lines))
            and not (i in edge_indexes and _furniture_key(line) in repeated)
        ]
        cleaned.append(kept)
    return cleaned


def _edge_indexes(lines: list[str]) -> set[int]:
    non_blank = [i for i, line in enumerate(lines) if line.strip()]
    if len(non_blank) < _MIN_LINES_FOR_FURNITURE:
        return set()
    return set(non_blank[:_EDGE_LINES] + non_blank[-_EDGE_LINES:])


def _is_edge(index: int, lines: list[str]) -> bool:
    non_blank = [i for i, line in enumerate(lines) if line.strip()]
    return index in non_blank[:_EDGE_LINES] + non_blank[-_EDGE_LINES:]


def _edges(lines: list[str]) -> list[str]:
    return [lines[i] for i in sorted(_edge_indexes(lines))]


def repair_hyphenation(text: str) -> str:
    """Join words split across a line end ("termina-\ntion" -> "termination")."""

    def join(match: re.Match) -> str:
        left, right = match.group(1), match.group(2)
        if left.lower() in _KEEP_HYPHEN_PREFIXES:
            return f"{left}-{right}"
        return left + right

    if "-\n" not in text:
        return text  # the common case; the regex would still try every word
    return _HYPHEN_BREAK.sub(join, text)


def normalise_lines(text: str) -> list[str]:
    """Normalise line endings and odd spaces, and trim trailing blanks from every line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u00ad", "")
    text = text.replace("\ufb01", "fi").replace("\ufb02", "fl").replace("\u2010", "-").replace("\u2011", "-")
    return [line.rstrip() for line in text.split("\n")]


def join_pages(pages: list[list[str]]) -> tuple[str, tuple[int, ...]]:
    """Join cleaned pages into one text, remembering where each page starts."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for lines in pages:
        starts.append(offset)
        page_text = repair_hyphenation("\n".join(lines).strip("\n")) + "\n\n"
        parts.append(page_text)
        offset += len(page_text)
    return "".join(parts), tuple(starts) or (0,)


def one_line(error: Exception | str) -> str:
    """A library's error text (lxml's carries line breaks) folded onto one line, for a message of our own."""
    return " ".join(str(error).split())
