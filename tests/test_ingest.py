import io
import zipfile

import pytest

from contract_audit.errors import IngestError
from contract_audit.ingest import detect_format, read_bytes, read_document
from contract_audit.ingest.cleanup import repair_hyphenation

from .conftest import make_image_only_pdf, make_pdf


def test_text_pages_split_on_form_feed():
    doc = read_bytes(b"1. First clause.\n\f2. Second clause on page two.\n", "a.txt")
    assert doc.format == "text"
    assert doc.pages == 2
    assert doc.page_at(doc.text.index("Second")) == 2
    assert doc.page_at(doc.text.index("First")) == 1


def test_pdf_text_pages_and_furniture_removed():
    pages = [
        [f"{n}. Clause number {n} of the agreement.", "The Supplier shall perform the Services.",
         f"{n}.1 The first sub-clause of clause {n}.", f"{n}.2 The second sub-clause of clause {n}.",
         "Each Party shall act in good faith."]
        for n in range(1, 5)
    ]
    doc = read_bytes(make_pdf(pages, header="MASTER SERVICES AGREEMENT - CONFIDENTIAL"), "a.pdf")
    assert doc.format == "pdf"
    assert doc.pages == 4
    assert "CONFIDENTIAL" not in doc.text
    assert "Page 2 of 4" not in doc.text
    assert doc.page_at(doc.text.index("Clause number 3")) == 3


def test_hyphenation_repaired_but_compounds_kept():
    assert repair_hyphenation("the termina-\ntion fee") == "the termination fee"
    assert repair_hyphenation("any third-\nparty tool") == "any third-party tool"


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "empty.txt", "empty"),
        (b"   \n\n", "blank.txt", "empty"),
        (b"%PDF-1.4\n garbage garbage", "broken.pdf", "not a readable PDF"),
        (b"PK\x03\x04 not really a zip", "broken.docx", "corrupt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "locked.docx", "encrypted"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "picture.png", "unsupported"),
    ],
)
def test_bad_inputs_raise_one_clear_error(data, name, message):
    with pytest.raises(IngestError, match=message):
        read_bytes(data, name)


def test_encrypted_pdf_is_refused():
    data = make_pdf([["1. Secret clause."]], encrypt="s3cret")
    with pytest.raises(IngestError, match="encrypted"):
        read_bytes(data, "locked.pdf")


def test_image_only_pdf_is_refused():
    with pytest.raises(IngestError, match="no text layer"):
        read_bytes(make_image_only_pdf(), "scan.pdf")


def test_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(IngestError, match="not a Word document"):
        read_bytes(buffer.getvalue(), "fake.docx")


def test_format_decided_by_content_not_name():
    assert detect_format(b"%PDF-1.7 ...", "contract.txt") == "pdf"
    assert detect_format(b"# Title\n", "notes.md") == "markdown"


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        read_document(tmp_path / "nope.pdf")
    with pytest.raises(IngestError, match="folder"):
        read_document(tmp_path)


def test_docx_word_numbering_and_tables(tmp_path):
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>'
        "</w:abstractNum>"
    ))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text, level):
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'
        ))

    numbered("DEFINITIONS", 0)
    numbered("Words have their ordinary meaning.", 1)
    numbered("DATA", 0)
    numbered("The Supplier shall host the data.", 1)
    numbered("The Supplier may process data abroad:", 1)
    numbered("in any country where it operates.", 2)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Availability"
    table.rows[0].cells[1].text = "99.9%"
    path = tmp_path / "numbered.docx"
    document.save(path)
    doc = read_document(path)
    assert "2.2 The Supplier may process data abroad:" in doc.text
    assert "(a) in any country where it operates." in doc.text
    assert "Availability | 99.9%" in doc.text


def test_a_page_whose_text_runs_together_is_recognised():
    from contract_audit.ingest.pdf import _looks_glued

    words = ["TheSupplier", "shallhost", "allCitydata", "withintheterritory"] * 20
    assert _looks_glued("".join(words))
    assert _looks_glued("\n".join("".join(words[i:i + 8]) for i in range(0, 80, 8)))  # line breaks are not gaps enough
    assert not _looks_glued(" ".join(words))
    assert not _looks_glued("\t".join(words))  # any white space counts as a gap
    assert not _looks_glued("short")
