"""DOCX reader: body paragraphs and tables in order, with Word's automatic list numbers as a reader sees them."""
from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field

from ..errors import IngestError
from ..limits import READER_BUDGETS
from .cleanup import one_line

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Text a reader does not see: tracked deletions and the old place of tracked moves, and the fallback copy of
# content Word also stores in a newer form (a text box is written twice, as DrawingML and as VML).
_HIDDEN = frozenset({f"{_W}del", f"{_W}moveFrom", _MC_FALLBACK})
# Levels a Word list has (w:ilvl 0-8), and the largest start value Word itself accepts.
_LIST_LEVELS = 9
_MAX_START = 32767
# Past these a label is not what a reader sees but an attack on the renderer: Word itself falls back to
# digits long before (letters repeat, "aaaa...", one character per 26).
_MAX_LETTER_VALUE = 26 * 10
_MAX_ROMAN_VALUE = 3999
_MAX_LABEL_CHARS = 64
# How far a basedOn chain of styles is followed; Word's own chains are a handful of steps long.
_MAX_STYLE_CHAIN = 32


def read_docx_pages(data: bytes, name: str) -> list[list[str]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    package = unpack_docx(data, name)
    try:
        document = docx.Document(io.BytesIO(package))
    except ValueError as exc:
        # python-docx names the stream it was given (a memory address) and the package's content type
        content_type = str(exc).rpartition("content type is ")[2].strip("'") if "content type is" in str(exc) else ""
        if content_type:
            raise IngestError(f"{name}: a {content_type} package, not a plain Word document; save it as .docx") from None
        raise IngestError(f"{name}: not a readable DOCX ({one_line(exc)})") from None
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise IngestError(f"{name}: not a readable DOCX ({one_line(exc)})") from None
    except Exception as exc:  # lxml raises its own parse errors for damaged XML parts
        raise IngestError(f"{name}: damaged DOCX ({type(exc).__name__}: {one_line(exc)})") from None
    body = getattr(document.element, "body", None)
    if body is None:  # the main part's root is not a w:document
        raise IngestError(f"{name}: damaged DOCX (word/document.xml holds no document body)")
    numbering = WordNumbering.from_document(document)
    use_rendered_breaks = any(True for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    pages: list[list[str]] = [[]]
    for count, block in enumerate(body_blocks(body), 1):
        if count > READER_BUDGETS.docx_blocks:
            raise IngestError(f"{name}: more than {READER_BUDGETS.docx_blocks:,} paragraphs and tables (limit); refused")
        if block.tag == f"{_W}p":
            _add_paragraph(block, document, numbering, pages, use_rendered_breaks)
        elif block.tag == f"{_W}tbl":
            pages[-1].extend(table_lines(block))
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
    """The paragraph's descendants with these tags (any tag if none), in document order, leaving out text a
    reader does not see (_HIDDEN). Hidden subtrees are skipped whole, so the cost is one visit per element
    however deep the nesting."""
    wanted = set(tags)
    stack = [iter(p)]
    while stack:
        for node in stack[-1]:
            if node.tag in _HIDDEN:
                continue
            if not wanted or node.tag in wanted:
                yield node
            stack.append(iter(node))
            break
        else:
            stack.pop()


def table_lines(tbl) -> list[str]:
    """One line per row, its cells' text joined by " | ". A table nested in a cell gives its own lines after
    its row, so every element is read once however deep tables nest."""
    lines = []
    for row in own_descendants(tbl, {f"{_W}tr"}):
        cells, nested = [], []
        for tc in own_descendants(row, {f"{_W}tc"}):
            texts = []
            for block in own_descendants(tc, {f"{_W}p", f"{_W}tbl"}):
                if block.tag == f"{_W}p":
                    texts.append(_paragraph_text(block))
                else:
                    nested.extend(table_lines(block))
            cells.append(" ".join(texts).strip())
        line = " | ".join(cell for cell in cells if cell)
        if line:
            lines.append(line)
        lines.extend(nested)
    return lines


def own_descendants(element, tags: set):
    """The descendants of `element` with one of `tags`, in document order, not looking inside those found."""
    stack = [iter(element)]
    while stack:
        for node in stack[-1]:
            if node.tag in tags:
                yield node
            else:
                stack.append(iter(node))
            break
        else:
            stack.pop()


def unpack_docx(data: bytes, name: str) -> bytes:
    """The package again, every member unpacked through a capped stream and stored uncompressed.

    The sizes a ZIP declares are not trusted: zipfile inflates a member in one piece up to 2 GiB before
    cutting it to its declared size. Reading in small blocks and counting what really comes out bounds
    the memory whatever the headers say; python-docx then reads the checked copy.
    """
    budget = READER_BUDGETS
    members: dict[str, bytes] = {}  # a name given twice: the last entry, the one zipfile reads by name
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if "word/document.xml" not in {info.filename for info in infos}:
                raise IngestError(f"{name}: a ZIP file but not a Word document (no word/document.xml)")
            if len(infos) > budget.docx_members:
                raise IngestError(f"{name}: the DOCX holds {len(infos)} parts (limit {budget.docx_members}); refused")
            for info in infos:
                if info.is_dir():
                    continue
                is_xml = info.filename.lower().endswith((".xml", ".rels"))
                cap = budget.docx_xml_bytes if is_xml else budget.docx_unpacked_bytes
                member = _read_capped(archive, info, min(cap, budget.docx_unpacked_bytes - total))
                if member is None:
                    raise IngestError(f"{name}: the DOCX unpacks to more than its limit ({_mib(budget.docx_xml_bytes)}"
                                      f" MiB for one XML part, {_mib(budget.docx_unpacked_bytes)} MiB in all; zip bomb?);"
                                      " refused")
                total += len(member)
                members[info.filename] = member
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: a compression method zipfile lacks
        raise IngestError(f"{name}: not a readable DOCX (corrupt ZIP container: {one_line(exc)})") from None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for member_name, member in members.items():
            copy.writestr(member_name, member)
    return out.getvalue()


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """The member's bytes, or None as soon as more than `cap` come out."""
    blocks, size = [], 0
    with archive.open(info) as stream:
        while True:
            block = stream.read(64 * 1024)
            if not block:
                return b"".join(blocks)
            size += len(block)
            if size > cap:
                return None
            blocks.append(block)


def _mib(size: int) -> int:
    return size // (1024 * 1024)


def _add_paragraph(p, document, numbering: "WordNumbering", pages: list[list[str]], use_rendered_breaks: bool) -> None:
    ppr = p.find(f"{_W}pPr")
    if ppr is not None and ppr.find(f"{_W}pageBreakBefore") is not None and not use_rendered_breaks and pages[-1]:
        pages.append([])
    parts: list[list[str]] = [[]]  # joined once at the end: appending to a string is quadratic
    for node in visible_nodes(p):
        tag = node.tag
        if tag == f"{_W}t":
            parts[-1].append(node.text or "")
        elif tag == f"{_W}tab":
            parts[-1].append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            if node.get(f"{_W}type") == "page" and not use_rendered_breaks:
                parts.append([])
            else:
                parts[-1].append("\n")
        elif tag == f"{_W}lastRenderedPageBreak" and use_rendered_breaks:
            parts.append([])
    segments = ["".join(segment) for segment in parts]
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
    """Replays Word's list counters over the body so each numbered paragraph gets its visible label.

    Values in numbering.xml are read leniently: a level or start that is not a number, or out of Word's own
    range, is taken as its default or clamped, as Word does rather than refuse the document.
    """

    abstract_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    num_to_abstract: dict[str, str] = field(default_factory=dict)
    start_overrides: dict[tuple[str, int], int] = field(default_factory=dict)
    counters: dict[str, list[int | None]] = field(default_factory=dict)
    used_nums: set[str] = field(default_factory=set)
    styles: "StyleNumbering | None" = None

    @classmethod
    def from_document(cls, document) -> "WordNumbering":
        numbering = cls(styles=StyleNumbering.from_document(document))
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return numbering
        for abstract in root.iter(f"{_W}abstractNum"):
            levels = {}
            for lvl in abstract.iter(f"{_W}lvl"):
                levels[_level_index(lvl.get(f"{_W}ilvl"))] = _Level(
                    fmt=_val(lvl, "numFmt", "decimal"), text=_val(lvl, "lvlText", "")[:_MAX_LABEL_CHARS],
                    start=_start_value(_val(lvl, "start", "1")),
                )
            numbering.abstract_levels[abstract.get(f"{_W}abstractNumId")] = levels
        for num in root.iter(f"{_W}num"):
            num_id = num.get(f"{_W}numId")
            numbering.num_to_abstract[num_id] = _val(num, "abstractNumId", "")
            for override in num.iter(f"{_W}lvlOverride"):
                start = override.find(f"{_W}startOverride")
                if start is not None:
                    level = _level_index(override.get(f"{_W}ilvl"))
                    numbering.start_overrides[(num_id, level)] = _start_value(start.get(f"{_W}val"))
        return numbering

    def label_for(self, p, document) -> str:
        num_id, ilvl = _num_properties(p, self.styles)
        if num_id is None or num_id == "0" or num_id not in self.num_to_abstract:
            return ""
        abstract_id = self.num_to_abstract[num_id]
        levels = self.abstract_levels.get(abstract_id, {})
        level = levels.get(ilvl)
        if level is None:
            return ""
        counters = self.counters.setdefault(abstract_id, [None] * _LIST_LEVELS)
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
        return label.strip()[:_MAX_LABEL_CHARS]


def _level_index(value: str | None) -> int:
    """w:ilvl as a list level 0-8; anything else is the first level."""
    try:
        level = int(value or "0")
    except ValueError:
        return 0
    return level if 0 <= level < _LIST_LEVELS else 0


def _start_value(value: str | None) -> int:
    """w:start or w:startOverride clamped to Word's range 0-32767; not a number: 1."""
    try:
        start = int(value or "1")
    except ValueError:
        return 1
    return min(max(start, 0), _MAX_START)


def _val(element, child: str, default: str) -> str:
    node = element.find(f"{_W}{child}")
    return node.get(f"{_W}val", default) if node is not None else default


def _num_properties(p, styles: "StyleNumbering | None") -> tuple[str | None, int]:
    ppr = p.find(f"{_W}pPr")
    num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
    if num_pr is None and ppr is not None and styles is not None:
        num_pr = styles.num_pr(ppr)
    if num_pr is None:
        return None, 0
    return _val(num_pr, "numId", None), _level_index(_val(num_pr, "ilvl", "0"))


@dataclass
class StyleNumbering:
    """Numbering inherited from paragraph styles (common for 'Heading 1' style lists), resolved through
    basedOn chains from an index of the styles built once."""

    own_num_pr: dict[str, object] = field(default_factory=dict)  # style id -> its own w:numPr
    based_on: dict[str, str] = field(default_factory=dict)  # style id -> the style it is based on

    @classmethod
    def from_document(cls, document) -> "StyleNumbering":
        index = cls()
        try:
            styles = document.styles.element
        except (KeyError, NotImplementedError, AttributeError):
            return index
        for style in styles.iter(f"{_W}style"):
            style_id = style.get(f"{_W}styleId")
            if style_id is None or style_id in index.based_on or style_id in index.own_num_pr:
                continue  # the first definition of an id wins, as a lookup by id found it
            style_ppr = style.find(f"{_W}pPr")
            num_pr = style_ppr.find(f"{_W}numPr") if style_ppr is not None else None
            if num_pr is not None:
                index.own_num_pr[style_id] = num_pr
                continue
            based_on = style.find(f"{_W}basedOn")
            if based_on is not None and based_on.get(f"{_W}val") is not None:
                index.based_on[style_id] = based_on.get(f"{_W}val")
        return index

    def num_pr(self, ppr):
        style_node = ppr.find(f"{_W}pStyle")
        style_id = style_node.get(f"{_W}val") if style_node is not None else None
        seen = set()
        # A chain that loops or runs on past any real style sheet's depth gives no numbering.
        while style_id is not None and style_id not in seen and len(seen) < _MAX_STYLE_CHAIN:
            if style_id in self.own_num_pr:
                return self.own_num_pr[style_id]
            seen.add(style_id)
            style_id = self.based_on.get(style_id)
        return None


def _format_number(value: int, fmt: str) -> str:
    """The counter in the list's format; past a sane size (or below 1) letters and numerals become digits."""
    if fmt in ("lowerLetter", "upperLetter") and not 0 < value <= _MAX_LETTER_VALUE:
        return str(value)
    if fmt in ("lowerRoman", "upperRoman") and not 0 < value <= _MAX_ROMAN_VALUE:
        return str(value)
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
