"""Hostile contract files, built at run time: the shapes a red-team pass found to exhaust time or memory,
and a seeded byte-flipping fuzzer. Used by tests/test_hostile_inputs.py and benchmarks/fuzz_ingest.py."""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/numbering.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    "</Types>"
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_DOCUMENT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" '
    'Target="numbering.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
CLAUSE = "The Supplier shall keep all City data within the jurisdiction and shall not move it abroad."


def docx(body: str, numbering: str = "", styles: str = "") -> bytes:
    """A minimal Word package: `body` is the inner XML of w:body, the others the inner XML of their parts."""
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _PACKAGE_RELS,
        "word/_rels/document.xml.rels": _DOCUMENT_RELS,
        "word/document.xml": f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>',
        "word/numbering.xml": f'<w:numbering xmlns:w="{W_NS}">{numbering}</w:numbering>',
        "word/styles.xml": f'<w:styles xmlns:w="{W_NS}">{styles}</w:styles>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def paragraph(text: str, num_id: str | None = None, ilvl: str = "0", style: str | None = None) -> str:
    props = ""
    if style is not None:
        props += f'<w:pStyle w:val="{style}"/>'
    if num_id is not None:
        props += f'<w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
    return f"<w:p>{'<w:pPr>' + props + '</w:pPr>' if props else ''}<w:r><w:t>{text}</w:t></w:r></w:p>"


def numbering_part(start: str, fmt: str, ilvl: str = "0", override: str | None = None) -> str:
    level = f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="%1."/></w:lvl>'
    num_override = (f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{override}"/></w:lvlOverride>'
                    if override is not None else "")
    return (f'<w:abstractNum w:abstractNumId="1">{level}</w:abstractNum>'
            f'<w:num w:numId="1"><w:abstractNumId w:val="1"/>{num_override}</w:num>')


def huge_start_docx(fmt: str, start: int = 2_000_000_000, paragraphs: int = 300) -> bytes:
    """List numbering that starts near two billion: rendered as letters, one label is gigabytes."""
    body = "".join(paragraph(f"{CLAUSE} ({n})", num_id="1") for n in range(paragraphs))
    return docx(body, numbering_part(str(start), fmt))


def malformed_numbering_docx(start: str = "1", ilvl: str = "0", override: str | None = None,
                             paragraph_ilvl: str = "0", num_id: str = "1") -> bytes:
    body = "".join(paragraph(f"{CLAUSE} ({n})", num_id=num_id, ilvl=paragraph_ilvl) for n in range(5))
    return docx(body, numbering_part(start, "lowerLetter", ilvl=ilvl, override=override))


def many_styles_docx(styles: int = 20_000, paragraphs: int = 2_000) -> bytes:
    """Thousands of paragraph styles, each based on the one before: every numbered-style lookup used to scan
    them all."""
    chain = "".join(f'<w:style w:type="paragraph" w:styleId="s{i}"><w:basedOn w:val="s{max(i - 1, 0)}"/></w:style>'
                    for i in range(styles))
    body = "".join(paragraph(f"{CLAUSE} ({n})", style=f"s{styles - 1 - n % 50}") for n in range(paragraphs))
    return docx(body, styles=chain)


def style_cycle_docx() -> bytes:
    styles = ('<w:style w:type="paragraph" w:styleId="a"><w:basedOn w:val="b"/></w:style>'
              '<w:style w:type="paragraph" w:styleId="b"><w:basedOn w:val="a"/></w:style>')
    return docx("".join(paragraph(CLAUSE, style="a") for _ in range(50)), styles=styles)


def nested_tables_docx(depth: int = 80, paragraphs_per_cell: int = 3) -> bytes:
    """Tables inside table cells, as deep as the XML parser allows."""
    cell = "".join(paragraph(f"{CLAUSE} {n}") for n in range(paragraphs_per_cell))
    for _ in range(depth):
        cell = f"<w:tbl><w:tr><w:tc>{cell}</w:tc><w:tc>{paragraph(CLAUSE)}</w:tc></w:tr></w:tbl>{paragraph('')}"
    return docx(cell + paragraph(CLAUSE))


def nested_runs_docx(depth: int = 240, runs: int = 20_000) -> bytes:
    """One paragraph whose thousands of runs sit under hundreds of nested inline wrappers."""
    inner = "".join(f"<w:r><w:t>word{n} </w:t></w:r>" for n in range(runs))
    for level in range(depth):
        inner = f'<w:smartTag w:element="x{level}">{inner}</w:smartTag>'
    return docx(f"<w:p>{inner}</w:p>" + paragraph(CLAUSE))


def glued_pdf(pages: int = 3, lines: int = 45) -> bytes:
    """Pages whose text layer has no spaces between words: the reader reads them again with pdfplumber."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    glued = CLAUSE.replace(" ", "")
    for _ in range(pages):
        text = pdf.beginText(20, 800)
        text.setFont("Helvetica", 6)
        for _ in range(lines):
            text.textLine(glued + glued)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def pdf_file(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from numbered object bodies (object i+1 is objects[i]), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_page_pdf(content: bytes, filters: bytes = b"") -> bytes:
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(filters, content),
        _FONT,
    ])


def page_tree_cycle_pdf() -> bytes:
    """A page tree whose second kid is the tree itself."""
    content = b"BT /F1 12 Tf 72 700 Td (" + CLAUSE.encode() + b") Tj ET"
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(b"", content),
        _FONT,
    ])


def flate_bomb(decoded_mib: int) -> bytes:
    """A zlib stream of `decoded_mib` MiB of spaces, built without compressing it all: deflate blocks after a
    full flush are independent, so one block for 1 MiB is repeated."""
    chunk = b" " * (1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(decoded_mib):
        checksum = zlib.adler32(chunk, checksum)
    return b"\x78\xda" + block * decoded_mib + compressor.flush(zlib.Z_FINISH) + struct.pack(">I", checksum)


def flate_bomb_pdf(decoded_mib: int = 1024) -> bytes:
    prefix = b"BT /F1 12 Tf 72 700 Td (" + CLAUSE.encode() + b") Tj ET "
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [6 0 R 4 0 R] "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(b"/Filter /FlateDecode", flate_bomb(decoded_mib)),
        _FONT,
        _stream(b"", prefix),
    ])


def lying_zip_docx(decoded_mib: int = 1024) -> bytes:
    """A DOCX whose word/document.xml declares a few kilobytes but inflates to `decoded_mib` MiB."""
    body = paragraph(CLAUSE)
    real = docx(body)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, source.read(info))
        head = f'<w:document xmlns:w="{W_NS}"><w:body>{body}<!--'.encode()
        archive.writestr("word/document.xml", head + b"-->" + b"</w:body></w:document>")
    data = bytearray(buffer.getvalue())
    # Replace the member's compressed data by a bomb, keeping the small declared sizes in both headers.
    bomb = flate_bomb(decoded_mib)[2:-4]  # raw deflate, as ZIP stores it
    return bytes(_swap_member_data(data, "word/document.xml", bomb))


def _swap_member_data(data: bytearray, name: str, payload: bytes) -> bytearray:
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    end = start + info.compress_size
    out = bytearray(data[:start]) + payload + data[end:]
    shift = len(payload) - info.compress_size
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        infos = archive.infolist()
    # Fix the compressed size in the local header and the central directory, and every later offset.
    struct.pack_into("<I", out, info.header_offset + 18, len(payload))
    central = _central_directory_offset(data) + shift
    position = central
    for entry in infos:
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", out, position + 28)
        if entry.filename == name:
            struct.pack_into("<I", out, position + 20, len(payload))
        if entry.header_offset > info.header_offset:
            struct.pack_into("<I", out, position + 42, entry.header_offset + shift)
        position += 46 + name_length + extra_length + comment_length
    end_record = len(out) - 22
    struct.pack_into("<I", out, end_record + 16, central)
    return out


def _central_directory_offset(data: bytes) -> int:
    return struct.unpack_from("<I", data, len(data) - 22 + 16)[0]


def flip_bytes(data: bytes, rng: random.Random, flips: int = 8) -> bytes:
    """A copy of `data` with a few bytes replaced, some runs of bytes removed or repeated."""
    out = bytearray(data)
    for _ in range(flips):
        position = rng.randrange(len(out))
        roll = rng.random()
        if roll < 0.7:
            out[position] = rng.randrange(256)
        elif roll < 0.85:
            del out[position:position + rng.randrange(1, 64)]
        else:
            out[position:position] = out[position:position + rng.randrange(1, 64)]
    return bytes(out)


def fuzz_seeds() -> dict[str, bytes]:
    """The well-formed documents the fuzzer starts from."""
    from .conftest import make_pdf

    numbered = docx("".join(paragraph(f"{CLAUSE} {n}", num_id="1", ilvl=str(n % 2)) for n in range(12)),
                    numbering_part("1", "lowerRoman"))
    pdf = make_pdf([[f"{n}. {CLAUSE}", "The Supplier shall provide transition assistance on exit."] for n in range(1, 4)])
    uncompressed = text_page_pdf(b"BT /F1 12 Tf 72 700 Td (" + CLAUSE.encode() + b") Tj ET")
    return {"pdf": pdf, "raw.pdf": uncompressed, "docx": numbered}


def flip_docx_part(data: bytes, rng: random.Random) -> bytes:
    """The package with bytes flipped inside one of its XML parts, re-zipped so that the container stays
    valid and the damage reaches the XML and numbering readers."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    target = rng.choice(["word/document.xml", "word/document.xml", "word/numbering.xml", "word/styles.xml"])
    parts[target] = flip_bytes(parts[target], rng, rng.randrange(1, 8))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    return buffer.getvalue()


def fuzz_cases(seed: int, count: int) -> list[tuple[str, bytes]]:
    """`count` byte-flipped variants of the seed documents, the same for the same seed: PDFs flipped anywhere,
    DOCX packages flipped anywhere or inside one XML part."""
    rng = random.Random(seed)
    originals = fuzz_seeds()
    seeds = sorted(originals.items()) + [("docx-xml", originals["docx"])]
    cases = []
    for index in range(count):
        kind, data = seeds[index % len(seeds)]
        if kind == "docx-xml":
            cases.append((f"fuzz-{seed}-{index}.docx", flip_docx_part(data, rng)))
            continue
        suffix = ".docx" if kind == "docx" else ".pdf"
        cases.append((f"fuzz-{seed}-{index}{suffix}", flip_bytes(data, rng, rng.randrange(1, 16))))
    return cases
