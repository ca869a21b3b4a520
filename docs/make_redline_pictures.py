"""Render the pictures in docs/reports.md of a redlined page and of the checklist from the real output.

Usage (needs LibreOffice, poppler-utils' pdftoppm and Pillow):
    python docs/make_redline_pictures.py

1. Audits sample_contracts/turnkey_ai_stack.pdf, writes its redline and its checklist (DOCX).
2. LibreOffice renders both to PDF; pdftoppm renders one page of each to PNG at 60 dpi: the page of the
   redline with the most redlined clauses, and page 1 of the checklist.
3. LibreOffice 7.4 cannot print comments in the margin of a PDF, so the redline picture gets a margin
   drawn beside the page with the first lines of the real comments anchored on that page.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The PDF sample, redlined as a clean DOCX of its extracted text. (The DOCX sample's redline keeps the
# vendor's own formatting, but LibreOffice 7.4 shows a second, bracketed list number on every numbered
# paragraph after one holding a tracked deletion, which makes a confusing picture.)
SAMPLE = ROOT / "sample_contracts" / "turnkey_ai_stack.pdf"
REDLINE_PNG = ROOT / "docs" / "redline_page.png"
CHECKLIST_PNG = ROOT / "docs" / "checklist_page.png"
DPI = 60


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from contract_audit import Auditor
    from contract_audit.checklist import render_checklist
    from contract_audit.redline import redline
    from contract_audit.redline.plan import comment_text

    report = Auditor().audit(SAMPLE)
    result = redline(report)
    risks = [f for f in report.findings if f.kind == "risk"]
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        redline_pdf = _pdf(work / f"{SAMPLE.stem}.redline.docx", result.docx, work)
        checklist_pdf = _pdf(work / f"{SAMPLE.stem}.checklist.docx", render_checklist(report, "docx"), work)
        # The redline runs longer than the original, so find where each redlined clause landed.
        texts = _page_texts(redline_pdf)
        on_page = [[f for f in risks if _compact(f.match.text)[:40] in text] for text in texts]
        page = max(range(len(texts)), key=lambda index: (len(on_page[index]), -index)) + 1
        _with_margin(_png(redline_pdf, page), [comment_text(f) for f in on_page[page - 1]], REDLINE_PNG)
        shutil.copyfile(_png(checklist_pdf, 1), CHECKLIST_PNG)
    print(f"wrote {REDLINE_PNG.relative_to(ROOT)} (page {page}) and {CHECKLIST_PNG.relative_to(ROOT)}")


def _pdf(docx: Path, data: bytes, work: Path) -> Path:
    docx.write_bytes(data)
    profile = (work / "profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(work), str(docx)], check=True, capture_output=True)
    return docx.with_suffix(".pdf")


def _png(pdf: Path, page: int) -> Path:
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True, capture_output=True)
    return Path(f"{stem}.png")


def _page_texts(pdf: Path) -> list[str]:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return [_compact(document[i].get_textpage().get_text_range().replace("\ufffe", "-")) for i in range(len(document))]
    finally:
        document.close()


def _compact(text: str) -> str:
    return "".join(text.split())


def _with_margin(page_png: Path, notes: list[list[tuple[str, bool]]], target: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    page = Image.open(page_png).convert("RGB")
    width = 300
    canvas = Image.new("RGB", (page.width + width, page.height), "#eceef2")
    canvas.paste(page, (0, 0))
    draw = ImageDraw.Draw(canvas)
    regular = _font(ImageFont, "DejaVuSans.ttf", 10)
    bold = _font(ImageFont, "DejaVuSans-Bold.ttf", 10)
    x, y = page.width + 10, 40
    draw.text((x, 12), "Comments (from word/comments.xml)", font=bold, fill="#5a6275")
    for note in notes:
        lines: list[tuple[str, bool]] = []
        for text, is_bold in note[:3]:
            wrapped = textwrap.wrap(text, 50)
            if len(wrapped) > 4:
                wrapped = wrapped[:4]
                wrapped[-1] = wrapped[-1].rstrip(" ,;.-") + " …"
            lines += [(line, is_bold) for line in wrapped]
        height = 14 * len(lines) + 10
        draw.rectangle((x - 4, y - 4, x + width - 16, y + height - 4), fill="#fff8d6", outline="#c9a227")
        for line, is_bold in lines:
            draw.text((x, y), line, font=bold if is_bold else regular, fill="#1d2330")
            y += 14
        y += 16
    canvas.save(target, optimize=True)


def _font(image_font, name: str, size: int):
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"):
        path = Path(folder) / name
        if path.is_file():
            return image_font.truetype(str(path), size)
    return image_font.load_default()


if __name__ == "__main__":
    main()
