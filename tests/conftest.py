import io
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CUAD_PDF = SHARED / "data" / "cuad" / "pdf"


@pytest.fixture(scope="session", autouse=True)
def private_regex_cache(tmp_path_factory):
    """The tests (and the servers and CLI runs they start) use their own regex cache, not the user's."""
    import os

    os.environ["CONTRACT_AUDIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("regex-cache"))
    yield


@pytest.fixture(scope="session")
def auditor():
    from contract_audit import Auditor

    return Auditor()


def make_pdf(pages: list[list[str]], encrypt: str | None = None, header: str | None = None) -> bytes:
    """A real PDF with one text line per entry, optional running header and page-number footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, encrypt=encrypt)
    width, height = A4
    for number, lines in enumerate(pages, 1):
        if header:
            pdf.drawString(72, height - 40, header)
        y = height - 80
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 14
        pdf.drawString(width / 2, 30, f"Page {number} of {len(pages)}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_image_only_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.rect(100, 100, 300, 400, fill=1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
