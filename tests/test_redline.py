"""Redlined DOCX: comments and real tracked changes, checked in the produced XML and in LibreOffice."""
import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_audit.cli import main
from contract_audit.errors import AuditError
from contract_audit.redline import AUTHOR, accept_all, redline, reject_all
from contract_audit.redline.plan import clause_language, replacement_span, sentence_spans

from .office_helpers import (
    comment_ranges, comments, convert, part, part_names, pdf_pages, pdf_text, soffice, squash, w,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_contracts"
TURNKEY = SAMPLES / "turnkey_ai_stack.docx"
DATE = "2025-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def turnkey(auditor):
    report = auditor.audit(TURNKEY)
    return report, redline(report, TURNKEY.read_bytes())


def _risks(report):
    return [f for f in report.findings if f.kind == "risk"]


def _first_sentence(text: str) -> str:
    paragraph = clause_language(text)[0]
    start, end = sentence_spans(paragraph)[0]
    return paragraph[start:end]


def test_every_finding_gets_one_comment(turnkey):
    report, result = turnkey
    texts = list(comments(result.docx).values())
    assert result.comments == len(report.findings) == len(texts)
    for finding in report.findings:
        same_rule = [f for f in report.findings if (f.rule_id, f.title) == (finding.rule_id, finding.title)]
        assert sum(finding.title in text and finding.rule_id in text for text in texts) == len(same_rule)
    for text in texts:
        assert "Why it matters:" in text and "Ask for:" in text


def test_each_risk_comment_anchors_the_deleted_wording_and_its_replacement(turnkey):
    report, result = turnkey
    texts = comments(result.docx)
    ranges = comment_ranges(result.docx)
    for finding in _risks(report):
        comment_id = next(i for i, text in texts.items() if finding.rule_id in text and finding.title in text
                          and squash(finding.match.text) in squash(ranges[i]["deleted"]))
        assert _first_sentence(finding.recommendation) in squash(ranges[comment_id]["inserted"])
        lines = texts[comment_id].splitlines()
        assert lines[0].startswith(f"{finding.severity.upper()} · {finding.family} · Risk")
        assert any(line.startswith("Fallback:") for line in lines) == bool(finding.fallback)


def test_stable_monitoring_findings_are_redlined(turnkey):
    report, result = turnkey
    redlined = {f.clause.number for f in _risks(report) if f.family == "monitoring"}
    assert {"6.2", "6.4(a)", "6.5"} <= redlined
    deleted = " ".join(r["deleted"] for r in comment_ranges(result.docx).values())
    assert "The City shall not install, connect or operate on the AI Stack" in deleted
    assert "the audit is carried out only by a firm chosen from the list of auditors approved by the Supplier;" in deleted
    assert "are the property of the Supplier" in deleted


def test_each_missing_protection_is_an_inserted_paragraph_with_a_comment(turnkey):
    report, result = turnkey
    body = part(result.docx).find(w("body"))
    inserted = []
    for paragraph in body.iter(w("p")):
        mark = paragraph.find(f"{w('pPr')}/{w('rPr')}/{w('ins')}")
        if mark is not None:
            assert paragraph.find(w("del")) is None
            assert paragraph.find(w("commentRangeStart")) is not None or "ANNEX" in _text(paragraph) \
                or "Protective clauses" in _text(paragraph)
            inserted.append(_text(paragraph))
    missing = [f for f in report.findings if f.kind == "missing"]
    assert missing and result.insertions == len(missing)
    for finding in missing:
        assert sum(_first_sentence(finding.recommendation) in text for text in inserted) >= 1, finding.family


def _text(paragraph) -> str:
    return "".join(t.text or "" for t in paragraph.iter(w("t")))


def test_missing_monitoring_protection_is_a_new_numbered_clause_in_section_6(auditor, turnkey):
    _, result = turnkey
    accepted = auditor.audit_bytes(accept_all(result.docx), "accepted.docx")
    numbers = [c.number for c in accepted.clauses]
    assert numbers.index("6.6") == numbers.index("6.5") + 1  # Word's own numbering gives it 6.6
    new_clause = next(c for c in accepted.clauses if c.number == "6.6")
    assert new_clause.text.startswith("The City may, at any time and at its own discretion")


def test_revisions_are_well_formed(turnkey):
    _, result = turnkey
    root = part(result.docx)
    revisions = list(root.iter(w("ins"), w("del")))
    assert revisions
    ids = [r.get(w("id")) for r in revisions]
    assert len(ids) == len(set(ids))
    for revision in revisions:
        assert revision.get(w("author")) == AUTHOR and revision.get(w("date")) == DATE
    for deletion in root.iter(w("del")):
        if deletion.getparent().tag != w("rPr"):
            assert list(deletion.iter(w("t"))) == [] and list(deletion.iter(w("delText")))
    for insertion in root.iter(w("ins")):
        assert list(insertion.iter(w("delText"))) == []
    starts = {n.get(w("id")) for n in root.iter(w("commentRangeStart"))}
    ends = {n.get(w("id")) for n in root.iter(w("commentRangeEnd"))}
    references = {n.get(w("id")) for n in root.iter(w("commentReference"))}
    assert starts == ends == references == set(comments(result.docx))
    for comment in part(result.docx, "word/comments.xml").iter(w("comment")):
        assert comment.get(w("author")) == AUTHOR and comment.get(w("date")) == DATE


def test_the_rest_of_the_package_is_untouched(turnkey):
    _, result = turnkey
    original = zipfile.ZipFile(TURNKEY)
    redlined = zipfile.ZipFile(io.BytesIO(result.docx))
    assert set(redlined.namelist()) == set(original.namelist()) | {"word/comments.xml"}
    edited = {"word/document.xml", "word/_rels/document.xml.rels", "[Content_Types].xml"}
    for name in original.namelist():
        if name not in edited:
            assert redlined.read(name) == original.read(name), name  # styles, numbering, header, footer...
    assert b"comments+xml" in redlined.read("[Content_Types].xml")
    assert b"relationships/comments" in redlined.read("word/_rels/document.xml.rels")
    original_body = part(TURNKEY.read_bytes()).find(w("body"))
    body = part(result.docx).find(w("body"))
    assert len(body.findall(w("tbl"))) == len(original_body.findall(w("tbl")))
    assert body.find(w("sectPr")) is not None


def test_rejecting_every_change_gives_back_the_original(auditor, turnkey):
    report, result = turnkey
    rejected = auditor.audit_bytes(reject_all(result.docx), "rejected.docx")
    assert rejected.document.text == report.document.text
    assert [(f.rule_id, f.clause.number if f.clause else None) for f in rejected.findings] == \
        [(f.rule_id, f.clause.number if f.clause else None) for f in report.findings]


def test_accepting_every_change_removes_the_risks(auditor, turnkey):
    report, result = turnkey
    accepted = auditor.audit_bytes(accept_all(result.docx), "accepted.docx")
    before = {(f.rule_id, f.clause.number) for f in _risks(report)}
    assert before and before.isdisjoint((f.rule_id, f.clause.number) for f in _risks(accepted))
    assert [f for f in _risks(accepted) if f.family == "monitoring"] == []
    # Numbering, tables and the clauses nobody touched survive.
    original_numbers = [c.number for c in report.clauses if c.number]
    accepted_numbers = [c.number for c in accepted.clauses if c.number]
    remaining = iter(accepted_numbers)
    assert all(number in remaining for number in original_numbers)
    table_rows = [line for line in report.document.text.splitlines() if " | " in line]
    assert table_rows and all(row in accepted.document.text for row in table_rows)
    # A missing protection whose inserted clause the rules recognise is no longer missing.
    for finding in (f for f in report.findings if f.kind == "missing"):
        if finding.family in auditor.classify([finding.recommendation])[0].protects:
            assert finding.family not in {f.family for f in accepted.findings if f.kind == "missing"}


@pytest.mark.parametrize("name", ["turnkey_ai_stack.pdf", "mixed_edge_inference.txt", "turnkey_ai_stack.txt"])
def test_pdf_and_text_become_a_clean_docx_with_the_same_redline(auditor, name):
    report = auditor.audit(SAMPLES / name)
    result = redline(report)
    assert part_names(result.docx) >= {"word/document.xml", "word/comments.xml"}
    assert result.unplaced == () and result.comments == len(report.findings)
    rejected = auditor.audit_bytes(reject_all(result.docx), "clean.docx")
    assert [c.number for c in rejected.clauses if c.number] == [c.number for c in report.clauses if c.number]
    assert [(f.rule_id, f.clause.number) for f in _risks(rejected)] == [(f.rule_id, f.clause.number) for f in _risks(report)]
    accepted = auditor.audit_bytes(accept_all(result.docx), "accepted.docx")
    assert {(f.rule_id, f.clause.number) for f in _risks(report)}.isdisjoint(
        (f.rule_id, f.clause.number) for f in _risks(accepted))


def _synthetic_docx() -> bytes:
    """Typed numbers, a risky sentence split over runs with bold in the middle, a table, header and footer."""
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "PLATFORM AGREEMENT - DRAFT 3"
    document.sections[0].footer.paragraphs[0].text = "Confidential"
    document.add_paragraph("MASTER PLATFORM AGREEMENT")
    document.add_paragraph('This Agreement is between the City of Riverton (the "City") and Apex Cloud Ltd (the "Supplier").')
    document.add_paragraph("1.\tMONITORING")
    paragraph = document.add_paragraph("1.1\tThe Supplier operates the Platform from its own centre. "
                                       "The Supplier shall keep the Platform available. The City shall not install any ")
    paragraph.add_run("third-party monitoring").bold = True
    paragraph.add_run(" or scanning software on the Platform without the Supplier's prior written consent. ")
    paragraph.add_run("The Supplier shall report monthly. The City may ask questions about it.")
    table = document.add_table(rows=2, cols=2)
    for (row, column), text in {(0, 0): "Service", (0, 1): "Target", (1, 0): "Availability", (1, 1): "99.9%"}.items():
        table.cell(row, column).text = text
    document.add_paragraph("2.\tFEES")
    document.add_paragraph("2.1\tThe City shall pay the fees within thirty days.")
    return _docx_bytes(document)


def _docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_in_a_long_clause_only_the_risky_sentence_is_replaced_and_formatting_kept(auditor):
    data = _synthetic_docx()
    report = auditor.audit_bytes(data, "synthetic.docx")
    risk = next(f for f in _risks(report) if f.clause.number == "1.1")
    assert replacement_span(risk.clause, risk) != (0, len(risk.clause.text))
    result = redline(report, data)
    body = part(result.docx).find(w("body"))
    clause = next(p for p in body.iter(w("p")) if "1.1" in _text(p))
    deleted = "".join(t.text for t in clause.iter(w("delText")))
    assert deleted == ("The City shall not install any third-party monitoring or scanning software on the "
                       "Platform without the Supplier's prior written consent.")
    bold_deleted = [r for d in clause.iter(w("del")) for r in d.iter(w("r")) if r.find(f"{w('rPr')}/{w('b')}") is not None]
    assert ["".join(t.text for t in r.iter(w("delText"))) for r in bold_deleted] == ["third-party monitoring"]
    kept = "".join(t.text for t in clause.iter(w("t")) if not any(a.tag == w("ins") for a in t.iterancestors()))
    assert kept.startswith("1.1The Supplier operates the Platform from its own centre.")
    assert kept.endswith("The Supplier shall report monthly. The City may ask questions about it.")
    accepted = auditor.audit_bytes(accept_all(result.docx), "accepted.docx")
    assert _risks(accepted) == []
    assert "1.2" in [c.number for c in accepted.clauses]  # the missing monitoring protection, typed like 1.1
    assert "Service | Target" in accepted.document.text


def test_output_is_reproducible(turnkey):
    report, result = turnkey
    assert redline(report, TURNKEY.read_bytes()).docx == result.docx


def test_the_report_must_belong_to_the_file(auditor, turnkey):
    report, _ = turnkey
    with pytest.raises(AuditError, match="different file"):
        redline(report, (SAMPLES / "mixed_edge_inference.docx").read_bytes())
    with pytest.raises(AuditError, match="original DOCX is needed"):
        redline(report)


def test_cli_redline_writes_next_to_the_input(tmp_path):
    source = tmp_path / "DRAFT.docx"
    source.write_bytes(TURNKEY.read_bytes())
    result = CliRunner().invoke(main, ["redline", str(source)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    target = tmp_path / "DRAFT.redline.docx"
    assert target.is_file() and "comment(s)" in result.stderr
    assert comments(target.read_bytes())
    explicit = tmp_path / "out.docx"
    result = CliRunner().invoke(main, ["redline", str(SAMPLES / "turnkey_ai_stack.txt"), "-o", str(explicit)])
    assert result.exit_code == 0 and explicit.is_file()


def test_cli_redline_bad_input_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["redline", str(tmp_path / "nope.docx")])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error:") and len(result.stderr.strip().splitlines()) == 1


def test_libreoffice_shows_every_comment_and_revision(tmp_path, turnkey):
    """LibreOffice opens the redline, lists each comment and each tracked change, and renders them to PDF."""
    soffice()
    report, result = turnkey
    source = tmp_path / "turnkey.redline.docx"
    source.write_bytes(result.docx)
    flat = convert(source, "fodt", tmp_path).read_text(encoding="utf-8")
    assert flat.count("<office:annotation ") + flat.count("<office:annotation>") == result.comments
    changes = tracked_changes(flat)
    # Compared without whitespace: a tab in Word is an element of its own in ODF.
    deleted_in_lo = "".join(text for kind, text in changes if kind == "deletion").replace(" ", "")
    inserted_in_lo = "".join(text for kind, text in changes if kind == "insertion").replace(" ", "")
    for anchored in comment_ranges(result.docx).values():
        assert "".join(anchored["deleted"].split()) in deleted_in_lo
        assert "".join(anchored["inserted"].split()) in inserted_in_lo
    pdf = convert(source, "pdf", tmp_path)
    text = squash(pdf_text(pdf))
    assert pdf_pages(pdf) >= report.document.pages
    for finding in report.findings:
        assert squash(_first_sentence(finding.recommendation))[:60] in text  # the inserted wording is shown
    for finding in _risks(report):
        assert squash(finding.match.text)[:40] in text  # and so is the deleted wording, struck through


def tracked_changes(flat_odt: str) -> list[tuple[str, str]]:
    """(insertion|deletion, text) for every tracked change LibreOffice read, from its flat ODF export."""
    import html
    import re

    kinds = dict(re.findall(r'<text:changed-region[^>]*text:id="([^"]+)"[^>]*>\s*<text:(insertion|deletion)', flat_odt))
    assert kinds, "LibreOffice found no tracked changes"
    body = re.sub(r"<office:annotation[ >].*?</office:annotation>", "", flat_odt, flags=re.S)
    out = []
    for change_id, kind in kinds.items():
        match = re.search(rf'<text:change-start text:change-id="{change_id}"/>(.*?)<text:change-end text:change-id="{change_id}"/>',
                          body, flags=re.S)
        assert match, f"change {change_id} has no range in the text"
        out.append((kind, squash(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))))))
    return out


def test_text_kept_beside_a_split_keeps_its_spaces(auditor):
    import docx

    document = docx.Document()
    document.add_paragraph('This Agreement is between the City of Riverton (the "City") and Apex Cloud Ltd (the "Supplier").')
    # One run whose text neither starts nor ends with a space, so Word stores it without xml:space="preserve"
    document.add_paragraph("2.1 The Supplier hosts the Platform. The City shall not install any third-party "
                           "monitoring software on the Platform.")
    data = _docx_bytes(document)
    result = redline(auditor.audit_bytes(data, "split.docx"), data)
    space = "{http://www.w3.org/XML/1998/namespace}space"
    kept = [t for t in part(result.docx).iter(w("t")) if t.text and t.text.startswith("2.1")]
    assert len(kept) == 1 and kept[0].text.endswith(" ")  # the typed number stays, the wording is replaced
    assert kept[0].get(space) == "preserve"  # else Word and LibreOffice drop the space before the new wording


_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _docx_with_hidden_and_boxed_text() -> bytes:
    """A tracked move, a text box stored twice (DrawingML choice and VML fallback) and a content control."""
    import docx
    from lxml import etree

    document = docx.Document()
    document.add_paragraph('This Agreement is between the City of Riverton (the "City") and Apex Cloud Ltd (the "Supplier").')
    document.add_paragraph("1.\tGENERAL")
    moved = document.add_paragraph("1.1\t")
    ns = f'xmlns:w="{w("")[1:-1]}" xmlns:mc="{_MC}"'
    moved._p.append(etree.fromstring(f'<w:moveFrom {ns} w:id="1" w:author="v" w:date="{DATE}"><w:r><w:t>OLDPLACE words.</w:t></w:r></w:moveFrom>'))
    moved._p.append(etree.fromstring(f'<w:moveTo {ns} w:id="2" w:author="v" w:date="{DATE}"><w:r><w:t>NEWPLACE words.</w:t></w:r></w:moveTo>'))
    boxed = document.add_paragraph("1.2\tSee the box. ")
    box = (f'<w:r {ns}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent>'
           '<w:p><w:r><w:t>BOXTEXT shown once.</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice>'
           '<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>BOXTEXT shown once.</w:t></w:r></w:p>'
           '</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>')
    boxed._p.append(etree.fromstring(box))
    control = etree.fromstring(
        f'<w:sdt {ns}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t xml:space="preserve">1.3\tThe Supplier may push updates '
        'to the Platform automatically without notice to the City.</w:t></w:r></w:p></w:sdtContent></w:sdt>')
    document.element.body.insert(len(document.element.body) - 1, control)  # before the section properties
    return _docx_bytes(document)


def test_moved_away_and_fallback_text_is_not_read_and_content_controls_are(auditor):
    data = _docx_with_hidden_and_boxed_text()
    report = auditor.audit_bytes(data, "hidden.docx")
    text = report.document.text
    assert "NEWPLACE" in text and "OLDPLACE" not in text and text.count("BOXTEXT") == 1
    assert any(f.clause is not None and f.clause.number == "1.3" and f.family == "updates" for f in _risks(report))
    result = redline(report, data)  # text in a box is read but not edited: no error, and clause 1.3 is replaced
    deleted = "".join(t.text for t in part(result.docx).iter(w("delText")))
    assert "without notice" in deleted and "BOXTEXT" not in deleted
