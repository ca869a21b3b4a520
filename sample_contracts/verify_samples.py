"""Re-read the rendered samples and check that PDF, DOCX, TXT and expected/ agree.

Called by make_samples.py after rendering; each check returns a list of problems.
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import yaml
from docx import Document
from docx.oxml.ns import qn

from make_samples import (
    DRAFT_MARK,
    FIXED_TIME,
    LEVEL_FORMATS,
    Block,
    Contract,
    txt_block,
    word_label,
)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(block: Block) -> str:
    return squash(f"{block.display_label} {block.text}")


def check_pdf(contract: Contract, path: Path) -> list[str]:
    problems = []
    with pdfplumber.open(path) as pdf:
        if len(pdf.pages) != contract.pages:
            return [f"{path.name}: {len(pdf.pages)} pages, expected {contract.pages}"]
        texts = [squash(page.extract_text()) for page in pdf.pages]
        tables = [page.extract_tables() for page in pdf.pages]
    for number, text in enumerate(texts, start=1):
        if DRAFT_MARK not in text or f"Page {number} of {contract.pages}" not in text:
            problems.append(f"{path.name} p{number}: header or footer missing")
    for block in contract.blocks:
        if block.kind == "table":
            headers = [[squash(c or "") for c in t[0]] for t in tables[block.page - 1]]
            if block.rows[0] not in headers:
                problems.append(f"{path.name} p{block.page}: table {block.rows[0]} not found")
        elif pdf_text(block) not in texts[block.page - 1]:
            problems.append(f"{path.name} p{block.page}: missing {pdf_text(block)[:60]!r}")
    return problems


def docx_items(doc):
    """Yield (kind, element) for the body in document order; kind is table, break or paragraph."""
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            yield "table", child
        elif child.tag == qn("w:p"):
            breaks = child.findall(f".//{qn('w:br')}")
            is_break = any(b.get(qn("w:type")) == "page" for b in breaks)
            yield ("break" if is_break else "paragraph"), child


def runs_text(p) -> str:
    """Text of a paragraph's runs, with w:tab as a tab character (tab stops in pPr are skipped)."""
    parts = []
    for run in p.iter(qn("w:r")):
        for node in run:
            if node.tag == qn("w:t"):
                parts.append(node.text or "")
            elif node.tag == qn("w:tab"):
                parts.append("\t")
    return "".join(parts)


def num_pr(p) -> tuple[int, int] | None:
    pr = p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
    if pr is None:
        return None
    return int(pr.find(qn("w:ilvl")).get(qn("w:val"))), int(pr.find(qn("w:numId")).get(qn("w:val")))


def check_numbering_part(doc, name: str) -> list[str]:
    numbering = doc.part.numbering_part.element
    wanted = [text for _, text in LEVEL_FORMATS]
    for abstract in numbering.findall(qn("w:abstractNum")):
        levels = abstract.findall(qn("w:lvl"))
        texts = [lvl.find(qn("w:lvlText")).get(qn("w:val")) for lvl in levels]
        if texts[: len(wanted)] == wanted:
            return []
    return [f"{name}: numbering.xml has no abstractNum with levels {wanted}"]


def expected_docx_text(block: Block, auto: bool) -> str:
    if block.numbered and not auto:
        return f"{block.display_label}\t{block.text}"
    return block.text


def check_docx(contract: Contract, path: Path) -> list[str]:
    doc = Document(str(path))
    name, auto = path.name, contract.auto_numbered
    problems = check_numbering_part(doc, name) if auto else []
    header = doc.sections[0].header.paragraphs[0].text
    footer_xml = doc.sections[0].footer.paragraphs[0]._p.xml
    if DRAFT_MARK not in header or "NUMPAGES" not in footer_xml:
        problems.append(f"{name}: header or footer missing")
    if doc.core_properties.created.replace(tzinfo=None) != FIXED_TIME:
        problems.append(f"{name}: core properties not fixed")

    page, blocks = 1, iter(contract.blocks)
    counters: dict[int, list[int]] = {}  # Word's counters per list instance (numId)
    for kind, element in docx_items(doc):
        if kind == "break":
            page += 1
            continue
        block = next(blocks)
        where = f"{name} {block.ref or block.kind}"
        if block.page != page:
            problems.append(f"{where}: on DOCX page {page}, PDF page {block.page}")
        if kind == "table":
            cells = [tc.xpath("string(.)") for tc in element.iter(qn("w:tc"))]
            if cells != [c for row in block.rows for c in row]:
                problems.append(f"{where}: table cells differ")
            continue
        if runs_text(element) != expected_docx_text(block, auto):
            problems.append(f"{where}: text differs")
        numbering = num_pr(element)
        if auto and block.numbered:
            if numbering is None:
                problems.append(f"{where}: no numPr")
                continue
            level, num_id = numbering
            state = counters.setdefault(num_id, [0] * 5)
            state[level] += 1
            state[level + 1 :] = [0] * (4 - level)
            shown = word_label(state, level) + ("." if level == 0 else "")
            if shown != block.display_label:
                problems.append(f"{where}: Word would show {shown}")
        elif numbering is not None:
            problems.append(f"{where}: unexpected numPr")
    if next(blocks, None) is not None:
        problems.append(f"{name}: fewer body items than blocks")
    return problems


def check_txt(contract: Contract, path: Path) -> list[str]:
    pages = path.read_text(encoding="ascii").split("\f")
    if len(pages) != contract.pages:
        return [f"{path.name}: {len(pages)} pages, expected {contract.pages}"]
    return [
        f"{path.name} p{b.page}: missing {txt_block(b)[:60]!r}"
        for b in contract.blocks
        if txt_block(b) not in pages[b.page - 1]
    ]


def check_expected(contract: Contract, path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text())
    by_ref = {b.ref: b for b in contract.blocks if b.ref}
    problems = []
    for finding in data["findings"]:
        if finding["kind"] != "risk":
            continue
        block = by_ref.get(finding["clause"])
        if block is None or block.page != finding["page"] or finding["family"] not in block.risks:
            problems.append(f"{path.name}: finding {finding} does not match the source")
    return problems


def verify_contract(contract: Contract, out_dir: Path) -> list[str]:
    name = contract.name
    return [
        *check_pdf(contract, out_dir / f"{name}.pdf"),
        *check_docx(contract, out_dir / f"{name}.docx"),
        *check_txt(contract, out_dir / f"{name}.txt"),
        *check_expected(contract, out_dir / "expected" / f"{name}.yaml"),
    ]
