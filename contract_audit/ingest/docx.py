"""DOCX reader: body paragraphs and tables in order, with Word's automatic list numbers as a reader sees them."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from ..errors import IngestError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Text a reader does not see: tracked deletions and the old place of tracked moves, and the fallback copy of
# content Word also stores in a newer form (a text box is written twice, as DrawingML and as VML).
_HIDDEN = frozenset({f"{_W}del", f"{_W}moveFrom", _MC_FALLBACK})
# Guard against zip bombs: a contract's document.xml is far below this when unpacked.
_MAX_UNPACKED_BYTES = 200 * 1024 * 1024


def read_docx_pages(data: bytes, name: str) -> list[list[str]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_zip(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
    except ValueError as exc:
        # python-docx names the stream it was given (a memory address) and the package's content type
        content_type = str(exc).rpartition("content type is ")[2].strip("'") if "content type is" in str(exc) else ""
        if content_type:
            raise IngestError(f"{name}: a {content_type} package, not a plain Word document; save it as .docx") from None
        raise IngestError(f"{name}: not a readable DOCX ({exc})") from None
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise IngestError(f"{name}: not a readable DOCX ({exc})") from None
    except Exception as exc:  # lxml raises its own parse errors for damaged XML parts
        raise IngestError(f"{name}: damaged DOCX ({type(exc).__name__}: {exc})") from None
    numbering = WordNumbering.from_document(document)
    body = document.element.body
    use_rendered_breaks = any(True for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    pages: list[list[str]] = [[]]
    for block in body_blocks(body):
        if block.tag == f"{_W}p":
            _add_paragraph(block, document, numbering, pages, use_rendered_breaks)
        elif block.tag == f"{_W}tbl":
            for row in block.iter(f"{_W}tr"):
                cells = [" ".join(_paragraph_text(p) for p in tc.iter(f"{_W}p")).strip() for tc in row.iter(f"{_W}tc")]
                line = " | ".join(cell for cell in cells if cell)
                if line:
                    pages[-1].append(line)
            pages[-1].append("")
    if not any(line.strip() for lines in pages for line in lines):
        raise IngestError(f"{name}: the DOCX contains no text")
    return pages


def paragraph_labels(document) -> dict:
    """Map each top-level body paragraph element to the list label the reader puts before its text.

    The counters are replayed exactly as `read_docx_pages` does, so callers (the redline writer) can find
    a clause's paragraphs again. Paragraphs without a visible number map to "".
    """
    numbering = WordNumbering.from_document(document)
    return {block: numbering.label_for(block, document)
            for block in body_blocks(document.element.body) if block.tag == f"{_W}p"}


def body_blocks(body):
    """The body's paragraphs and tables in reading order, those inside block-level content controls (w:sdt)
    included."""
    for block in body.iterchildren():
        if block.tag == f"{_W}sdt":
            content = block.find(f"{_W}sdtContent")
            if content is not None:
                yield from body_blocks(content)
        elif block.tag in (f"{_W}p", f"{_W}tbl"):
            yield block


def visible_nodes(p, *tags):
    """The paragraph's descendants with these tags, in document order, leaving out text a reader does not see
    (_HIDDEN)."""
    for node in p.iter(*tags):
        if not any(ancestor.tag in _HIDDEN for ancestor in _ancestors_within(node, p)):
            yield node


def _ancestors_within(node, p):
    for ancestor in node.iterancestors():
        if ancestor is p:
            return
        yield ancestor


def _check_zip(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise IngestError(f"{name}: a ZIP file but not a Word document (no word/document.xml)")
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNPACKED_BYTES:
                raise IngestError(f"{name}: the DOCX unpacks to an absurd size (zip bomb?); refused")
    except zipfile.BadZipFile:
        raise IngestError(f"{name}: not a readable DOCX (corrupt ZIP container)") from None


def _add_paragraph(p, document, numbering: "WordNumbering", pages: list[list[str]], use_rendered_breaks: bool) -> None:
    ppr = p.find(f"{_W}pPr")
    if ppr is not None and ppr.find(f"{_W}pageBreakBefore") is not None and not use_rendered_breaks and pages[-1]:
        pages.append([])
    segments: list[str] = [""]
    for node in visible_nodes(p):
        tag = node.tag
        if tag == f"{_W}t":
            segments[-1] += node.text or ""
        elif tag == f"{_W}tab":
            segments[-1] += "\t"
        elif tag in (f"{_W}br", f"{_W}cr"):
            if node.get(f"{_W}type") == "page" and not use_rendered_breaks:
                segments.append("")
            else:
                segments[-1] += "\n"
        elif tag == f"{_W}lastRenderedPageBreak" and use_rendered_breaks:
            segments.append("")
    label = numbering.label_for(p, document)
    if label:
        segments[0] = f"{label} {segments[0].lstrip()}"
    for index, segment in enumerate(segments):
        if index > 0:
            pages.append([])
        if segment.strip() or index == 0:
            pages[-1].extend(segment.split("\n"))


def _paragraph_text(p) -> str:
    return "".join(node.text or "" for node in visible_nodes(p, f"{_W}t"))


@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = "%1."
    start: int = 1


@dataclass
class WordNumbering:
    """Replays Word's list counters over the body so each numbered paragraph gets its visible label."""

    abstract_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    num_to_abstract: dict[str, str] = field(default_factory=dict)
    start_overrides: dict[tuple[str, int], int] = field(default_factory=dict)
    counters: dict[str, list[int | None]] = field(default_factory=dict)
    used_nums: set[str] = field(default_factory=set)

    @classmethod
    def from_document(cls, document) -> "WordNumbering":
        numbering = cls()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return numbering
        for abstract in root.iter(f"{_W}abstractNum"):
            levels = {}
            for lvl in abstract.iter(f"{_W}lvl"):
                levels[int(lvl.get(f"{_W}ilvl", "0"))] = _Level(
                    fmt=_val(lvl, "numFmt", "decimal"), text=_val(lvl, "lvlText", ""), start=int(_val(lvl, "start", "1"))
                )
            numbering.abstract_levels[abstract.get(f"{_W}abstractNumId")] = levels
        for num in root.iter(f"{_W}num"):
            num_id = num.get(f"{_W}numId")
            numbering.num_to_abstract[num_id] = _val(num, "abstractNumId", "")
            for override in num.iter(f"{_W}lvlOverride"):
                start = override.find(f"{_W}startOverride")
                if start is not None:
                    numbering.start_overrides[(num_id, int(override.get(f"{_W}ilvl", "0")))] = int(start.get(f"{_W}val"))
        return numbering

    def label_for(self, p, document) -> str:
        num_id, ilvl = _num_properties(p, document)
        if num_id is None or num_id == "0" or num_id not in self.num_to_abstract:
            return ""
        abstract_id = self.num_to_abstract[num_id]
        levels = self.abstract_levels.get(abstract_id, {})
        level = levels.get(ilvl)
        if level is None:
            return ""
        counters = self.counters.setdefault(abstract_id, [None] * 9)
        if num_id not in self.used_nums:
            # A list instance with start overrides restarts the shared list where it is first used.
            self.used_nums.add(num_id)
            for (override_num, override_level), start in self.start_overrides.items():
                if override_num == num_id:
                    counters[override_level] = start - 1
                    for deeper in range(override_level + 1, len(counters)):
                        counters[deeper] = None
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else current + 1
        for deeper in range(ilvl + 1, len(counters)):
            counters[deeper] = None
        if level.fmt in ("bullet", "none"):
            return ""
        label = level.text
        for depth in range(ilvl + 1):
            value = counters[depth]
            if value is None:
                value = levels.get(depth, _Level()).start
                counters[depth] = value
            label = label.replace(f"%{depth + 1}", _format_number(value, levels.get(depth, _Level()).fmt))
        return label.strip()


def _val(element, child: str, default: str) -> str:
    node = element.find(f"{_W}{child}")
    return node.get(f"{_W}val", default) if node is not None else default


def _num_properties(p, document) -> tuple[str | None, int]:
    ppr = p.find(f"{_W}pPr")
    num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
    if num_pr is None and ppr is not None:
        num_pr = _style_num_pr(ppr, document)
    if num_pr is None:
        return None, 0
    return _val(num_pr, "numId", None), int(_val(num_pr, "ilvl", "0"))


def _style_num_pr(ppr, document):
    """Numbering inherited from the paragraph style (common for 'Heading 1' style lists)."""
    style_node = ppr.find(f"{_W}pStyle")
    if style_node is None:
        return None
    style_id = style_node.get(f"{_W}val")
    styles = document.styles.element
    for _ in range(5):  # follow basedOn a few steps; style chains are short
        style = next((s for s in styles.iter(f"{_W}style") if s.get(f"{_W}styleId") == style_id), None)
        if style is None:
            return None
        style_ppr = style.find(f"{_W}pPr")
        if style_ppr is not None and style_ppr.find(f"{_W}numPr") is not None:
            return style_ppr.find(f"{_W}numPr")
        based_on = style.find(f"{_W}basedOn")
        if based_on is None:
            return None
        style_id = based_on.get(f"{_W}val")
    return None


def _format_number(value: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(value).lower()
    if fmt == "upperLetter":
        return _letters(value)
    if fmt == "lowerRoman":
        return _roman(value).lower()
    if fmt == "upperRoman":
        return _roman(value)
    return str(value)


def _letters(value: int) -> str:
    # Word repeats the letter past z: 27 -> "aa".
    letter = chr(ord("A") + (value - 1) % 26)
    return letter * ((value - 1) // 26 + 1)


def _roman(value: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for number, numeral in numerals:
        while value >= number:
            out += numeral
            value -= number
    return out
