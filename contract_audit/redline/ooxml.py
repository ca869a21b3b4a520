"""WordprocessingML surgery: split runs, tracked deletions and insertions, comment anchors, accept/reject all.

Everything here works on lxml elements of a python-docx document body. Revisions are real `w:ins` /
`w:del` elements with an id, an author and a fixed date, so Word and LibreOffice list them as changes
to accept or reject.
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_NS = "http://www.w3.org/XML/1998/namespace"
_W = f"{{{W_NS}}}"
# Run children that carry content (everything but the run properties).
_PROPERTIES = {f"{_W}rPr"}


def w(tag: str) -> str:
    return f"{_W}{tag}"


@dataclass
class Revisions:
    """Hands out revision ids and stamps author and date on every revision element."""

    author: str
    date: str
    next_id: int

    @classmethod
    def for_body(cls, root, author: str, date: str) -> "Revisions":
        # Ids only need to be unique among revisions, but staying clear of every existing id is cheap.
        values = (node.get(w("id")) for node in root.iter())
        used = [int(v) for v in values if v is not None and v.lstrip("-").isdigit()]
        return cls(author=author, date=date, next_id=max(used, default=0) + 1000)

    def element(self, tag: str):
        from lxml import etree

        node = etree.Element(w(tag))
        node.set(w("id"), str(self.next_id))
        node.set(w("author"), self.author)
        node.set(w("date"), self.date)
        self.next_id += 1
        return node


def _element(tag: str, **attributes):
    from lxml import etree

    node = etree.Element(w(tag))
    for name, value in attributes.items():
        node.set(w(name), value)
    return node


def text_element(tag: str, text: str):
    """A w:t / w:delText that keeps leading and trailing spaces."""
    node = _element(tag)
    node.text = text
    node.set(f"{{{XML_NS}}}space", "preserve")
    return node


def _content(run) -> list:
    return [child for child in run if child.tag not in _PROPERTIES]


def _new_run_like(run):
    new = _element("r")
    properties = run.find(w("rPr"))
    if properties is not None:
        new.append(copy.deepcopy(properties))
    return new


def split_before(t, offset: int):
    """Split the run holding w:t `t` so that character `offset` of `t` starts a run; return that run.

    Returns None when the split point is the end of the run (nothing follows it in the run).
    """
    run = t.getparent()
    content = _content(run)
    position = content.index(t)
    text = t.text or ""
    if offset == 0 and position == 0:
        return run
    if offset >= len(text):
        moving = content[position + 1:]
        if not moving:
            return None
    else:
        moving = content[position + 1:]
    new_run = _new_run_like(run)
    if 0 < offset < len(text):
        tail = text_element("t", text[offset:])
        t.text = text[:offset]
        t.set(f"{{{XML_NS}}}space", "preserve")  # the kept part may now end with a space that matters
        new_run.append(tail)
    elif offset == 0:
        moving = [t] + moving
    for child in moving:
        new_run.append(child)  # lxml moves the element
    run.addnext(new_run)
    return new_run


def runs_in_order(paragraph) -> list:
    """The paragraph's runs in reading order, outside deleted text and not nested in another run."""
    out = []
    for run in paragraph.iter(w("r")):
        if any(a.tag in (w("del"), w("moveFrom")) or a.tag == w("r") for a in run.iterancestors()):
            continue
        out.append(run)
    return out


def delete_runs(runs: list, revisions: Revisions) -> list:
    """Wrap the runs in w:del (consecutive siblings share one), turning their text into w:delText."""
    for run in runs:
        for node in run.iter(w("t"), w("instrText")):
            node.tag = w("delText") if node.tag == w("t") else w("delInstrText")
            node.set(f"{{{XML_NS}}}space", "preserve")
    wrappers = []
    for run in runs:
        previous = run.getprevious()
        if wrappers and previous is wrappers[-1]:
            wrappers[-1].append(run)
            continue
        wrapper = revisions.element("del")
        run.addprevious(wrapper)
        wrapper.append(run)
        wrappers.append(wrapper)
    return wrappers


def inserted_run(text: str, revisions: Revisions, properties=None, bold: bool = False):
    """A w:ins holding one run with `text`; `properties` (a w:rPr) is copied for the run's formatting."""
    wrapper = revisions.element("ins")
    run = _element("r")
    rpr = copy.deepcopy(properties) if properties is not None else None
    if rpr is not None:
        for change in rpr.findall(w("rPrChange")):
            rpr.remove(change)
    if bold:
        rpr = rpr if rpr is not None else _element("rPr")
        if rpr.find(w("b")) is None:
            rpr.insert(0, _element("b"))
    if rpr is not None and len(rpr):
        run.append(rpr)
    parts = text.split("\t")
    for index, part in enumerate(parts):
        if index:
            run.append(_element("tab"))
        if part:
            run.append(text_element("t", part))
    wrapper.append(run)
    return wrapper


def inserted_paragraph(template_ppr, revisions: Revisions, pieces: list[tuple[str, bool]], run_properties=None):
    """A new paragraph whose mark and text are tracked insertions; `pieces` are (text, bold) runs."""
    paragraph = _element("p")
    ppr = copy.deepcopy(template_ppr) if template_ppr is not None else _element("pPr")
    for tag in ("sectPr", "pPrChange", "pageBreakBefore", "rPr"):
        for node in ppr.findall(w(tag)):
            ppr.remove(node)
    mark = _element("rPr")
    mark.append(revisions.element("ins"))
    ppr.append(mark)  # last is the schema's place for it, once sectPr and pPrChange are gone
    paragraph.append(ppr)
    for text, bold in pieces:
        paragraph.append(inserted_run(text, revisions, run_properties, bold=bold))
    return paragraph


def anchor_comment(first, last, comment_id: int) -> None:
    """Place commentRangeStart before `first`, commentRangeEnd after `last` and the reference run after that."""
    first.addprevious(_element("commentRangeStart", id=str(comment_id)))
    end = _element("commentRangeEnd", id=str(comment_id))
    last.addnext(end)
    reference = _element("r")
    rpr = _element("rPr")
    rpr.append(_element("rStyle", val="CommentReference"))
    reference.append(rpr)
    reference.append(_element("commentReference", id=str(comment_id)))
    end.addnext(reference)


def body_child(node, body):
    """The ancestor of `node` (or `node` itself) that is a direct child of the body."""
    while node.getparent() is not body:
        node = node.getparent()
    return node


# ---------------------------------------------------------------------------------------------------
# Accept or reject every revision: used to check what a redline becomes, and by the tests.

def resolve_revisions(docx: bytes, accept: bool) -> bytes:
    """Return the DOCX with every tracked change accepted (or rejected); comments stay."""
    import docx as python_docx

    document = python_docx.Document(io.BytesIO(docx))
    body = document.element.body
    keep, drop = (("ins", "moveTo"), ("del", "moveFrom")) if accept else (("del", "moveFrom"), ("ins", "moveTo"))
    # Paragraph marks first: a paragraph whose mark is dropped merges into the next paragraph.
    for paragraph in list(body.iter(w("p"))):
        rpr = paragraph.find(f"{w('pPr')}/{w('rPr')}")
        if rpr is None:
            continue
        marks = {child.tag for child in rpr}
        for tag in keep + drop:
            for node in rpr.findall(w(tag)):
                rpr.remove(node)
        if any(w(tag) in marks for tag in drop):
            _drop_paragraph_mark(paragraph)
    for tag in drop:
        for node in list(body.iter(w(tag))):
            if node.getparent() is not None and node.getparent().tag != w("rPr"):
                node.getparent().remove(node)
    for tag in keep:
        for node in list(body.iter(w(tag))):
            parent = node.getparent()
            if parent is None or parent.tag == w("rPr"):
                continue
            index = parent.index(node)
            for child in list(node):
                parent.insert(index, child)
                index += 1
            parent.remove(node)
    if not accept:
        for node in body.iter(w("delText"), w("delInstrText")):
            node.tag = w("t") if node.tag == w("delText") else w("instrText")
    for tag in ("rPrChange", "pPrChange"):
        for node in list(body.iter(w(tag))):
            node.getparent().remove(node)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _drop_paragraph_mark(paragraph) -> None:
    """Merge a paragraph into the next one, as accepting a deleted paragraph mark does."""
    following = paragraph.getnext()
    content = [child for child in paragraph if child.tag != w("pPr")]
    if following is None or following.tag != w("p"):
        if not content:
            paragraph.getparent().remove(paragraph)
        return
    anchor = following.find(w("pPr"))
    index = 0 if anchor is None else following.index(anchor) + 1
    for child in content:
        following.insert(index, child)
        index += 1
    paragraph.getparent().remove(paragraph)


FIXED_DATE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)  # the date every generated document carries


def fix_zip_dates(data: bytes, date_time=FIXED_DATE.timetuple()[:6]) -> bytes:
    """Rewrite the ZIP container with one fixed timestamp so the same input gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()



def new_a4_document(title: str, landscape: bool, side_margin_cm: float, top_margin_cm: float, font: str,
                    size_pt: float, space_after_pt: float):
    """A blank python-docx Document on A4 with fixed metadata (same input, same bytes) and a Normal style."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    document = docx.Document()
    properties = document.core_properties
    properties.title = title
    properties.author = properties.last_modified_by = "contract-audit"
    properties.created = properties.modified = FIXED_DATE
    properties.revision = 1
    section = document.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    else:
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(side_margin_cm)
    section.top_margin = section.bottom_margin = Cm(top_margin_cm)
    normal = document.styles["Normal"]
    normal.font.name = font
    normal.font.size = Pt(size_pt)
    normal.paragraph_format.space_after = Pt(space_after_pt)
    return document
