"""Generate long synthetic contracts (PDF and DOCX) for benchmarks: numbered clauses of ordinary boilerplate
with one in six drawn from the rule library's own examples, deterministic for a given seed."""
from __future__ import annotations

import random
from pathlib import Path

from contract_audit.rules import load_rules

ORDINARY = [
    "The Supplier shall perform the Services with reasonable skill, care and diligence and in accordance with Good Industry Practice.",
    "Each Party shall keep the other Party's Confidential Information confidential and use it only for the purposes of this Agreement.",
    "The City shall pay each undisputed invoice within thirty (30) days of receipt.",
    "The Supplier shall maintain public liability insurance of not less than five million euros for each and every claim.",
    "Neither Party shall be liable for any failure or delay caused by a Force Majeure Event.",
    "Any notice under this Agreement shall be in writing and delivered by hand, by registered post or by email.",
    "The Supplier shall appoint a contract manager who shall attend monthly progress meetings with the City.",
    "This Agreement is governed by the laws of the country in which the City is located.",
    "The Supplier shall comply with all applicable health and safety legislation at the Site.",
    "Disputes shall first be referred to the Parties' senior representatives for resolution within twenty days.",
]
TOPICAL_SHARE = 1 / 6
HEADINGS = ["DEFINITIONS", "SERVICES", "SERVICE LEVELS", "DATA", "SECURITY", "CHARGES", "TERM AND TERMINATION",
            "LIABILITY", "INSURANCE", "CONFIDENTIALITY", "AUDIT", "UPDATES", "ENERGY", "GENERAL"]


def contract_lines(pages: int = 40, seed: int = 7) -> list[str]:
    """About 42 lines of clause text per page once rendered."""
    rng = random.Random(seed)
    examples = [text for rule in load_rules().rules for text in rule.positive_examples + rule.negative_examples]
    # About one clause in six is on a sovereignty topic (a rule example, risky, protective or harmless);
    # the rest is ordinary boilerplate, as in a real long contract.
    def pick() -> str:
        return rng.choice(examples) if rng.random() < TOPICAL_SHARE else rng.choice(ORDINARY)
    lines = ["MASTER AGREEMENT FOR AN AI AND CLOUD PLATFORM", ""]
    target_clauses = pages * 16
    clause = 0
    section = 0
    while clause < target_clauses:
        section += 1
        lines.append(f"{section}. {HEADINGS[(section - 1) % len(HEADINGS)]}")
        for sub in range(1, rng.randint(5, 12)):
            lines.append(f"{section}.{sub} {pick()} {rng.choice(ORDINARY)}")
            clause += 1
    return lines


def write_pdf(lines: list[str], path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()

    def footer(canvas, doc):
        canvas.drawString(280, 25, f"Page {doc.page}")
        canvas.drawString(72, 815, "MASTER AGREEMENT - BENCHMARK DRAFT")

    story = []
    for line in lines:
        story.append(Paragraph(line, styles["Heading3" if line.isupper() or line[:3].rstrip(".").isdigit() and line.split(" ", 1)[1].isupper() else "BodyText"]) if line else Spacer(1, 6))
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build(story, onFirstPage=footer, onLaterPages=footer)


def write_docx(lines: list[str], path: Path) -> None:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.core_properties.author = "contract-audit benchmark"
    document.save(str(path))


def generate(directory: Path, pages: int = 40, seed: int = 7) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    lines = contract_lines(pages, seed)
    pdf, docx_path = directory / f"contract_{pages}p.pdf", directory / f"contract_{pages}p.docx"
    write_pdf(lines, pdf)
    write_docx(lines, docx_path)
    return pdf, docx_path


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/bench")
    for path in generate(out):
        print(path)
