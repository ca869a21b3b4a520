"""The web app through Flask's test client (pages, API, bad uploads, safety), the OpenAPI description with
schema-driven property tests, and concurrent uploads against a real server on 127.0.0.1."""
import io
import json
import re
import sys
import types
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from markupsafe import escape

pytest.importorskip("flask")

import contract_audit
from contract_audit.report.json import report_to_dict
from contract_audit.web import WebSettings, create_app
from contract_audit.web.openapi import openapi_document
from contract_audit.web.settings import MIB
from contract_audit.web.uploads import CHARS_PER_PAGE, display_name, download_name

from .conftest import make_image_only_pdf, make_pdf
from .web_helpers import SAMPLES, corrupt_pdf, forty_page_pdf, running_server, zip_bomb_docx

SETTINGS = WebSettings(max_upload_bytes=1 * MIB, max_files=3, max_pages=20, max_unpacked_bytes=20 * MIB,
                       max_clauses=10, max_clause_chars=2000)
SAMPLE_PDF = SAMPLES / "turnkey_ai_stack.pdf"
SAMPLE_TXT = SAMPLES / "turnkey_ai_stack.txt"


@pytest.fixture(scope="module")
def app(auditor):
    app = create_app(SETTINGS, auditor=auditor)
    app.testing = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


def csrf(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def upload(client, files, token=None, json_answer=False):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    data["csrf_token"] = token if token is not None else csrf(client)
    headers = {"Accept": "application/json"} if json_answer else {}
    return client.post("/scan", data=data, content_type="multipart/form-data", headers=headers)


def api_scan(client, content: bytes, name: str):
    return client.post("/api/scan", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def scan_sample(client, path=SAMPLE_PDF) -> str:
    response = upload(client, [(path.name, path.read_bytes())])
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


# --- pages -----------------------------------------------------------------------------------------------

def test_upload_page_has_labelled_file_input_and_headers(client):
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="files"' in page and 'id="files" name="files" type="file" multiple' in page
    assert "drag and drop" in page
    headers = response.headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert "ca_csrf=" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    assert "http://" not in page.replace("http://localhost", "")  # no outside assets


def test_upload_then_results_page(client, auditor):
    location = scan_sample(client)
    assert re.fullmatch(r"/results/[A-Za-z0-9_-]{16,64}", location)
    page = client.get(location).get_data(as_text=True)
    expected = auditor.audit(SAMPLE_PDF)
    assert f'id="risk-score">{expected.risk_score}<' in page
    assert f'id="grade">{expected.grade}<' in page
    assert "<mark>" in page and "Write instead" in page
    for family in expected.families:
        assert f'data-family="{family}"' in page
    assert page.count('class="finding ') == len(expected.findings)
    assert f"Showing {len(expected.findings)} of {len(expected.findings)}" in page


def test_results_filter_by_severity_and_family(client, auditor):
    location = scan_sample(client)
    expected = auditor.audit(SAMPLE_PDF).findings
    page = client.get(location + "?severity=high&family=monitoring").get_data(as_text=True)
    wanted = [f for f in expected if f.severity == "high" and f.family == "monitoring"]
    assert f"Showing {len(wanted)} of {len(expected)}" in page
    visible = re.findall(r'<section class="finding [a-z]+" id="[^"]+" data-severity="([a-z]+)" data-family="([a-z-]+)"\s+'
                         r'aria-labelledby="[^"]+">', page)
    assert visible == [("high", "monitoring")] * len(wanted)


def test_several_files_without_script_get_a_summary_page(client):
    response = upload(client, [("a.txt", SAMPLE_TXT.read_bytes()), ("b.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 50)])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Open the results for a.txt" in page
    assert "b.png: this is a PNG image" in page


def test_script_upload_answers_json(client):
    response = upload(client, [("contract.txt", SAMPLE_TXT.read_bytes())], json_answer=True)
    answer = response.get_json()
    assert response.status_code == 200 and answer["ok"] and answer["url"].startswith("/results/")
    assert answer["grade"] in "ABCDF"
    bad = upload(client, [("x.pdf", corrupt_pdf())], json_answer=True)
    assert bad.status_code == 422 and "x.pdf" in bad.get_json()["error"]


def test_downloads(client, auditor):
    location = scan_sample(client)
    report = client.get(location + "/report.json")
    assert report.status_code == 200
    assert report.headers["Content-Disposition"] == 'attachment; filename="turnkey_ai_stack.audit.json"'
    assert report.get_json() == json.loads(json.dumps(report_to_dict(auditor.audit_bytes(SAMPLE_PDF.read_bytes(), "turnkey_ai_stack.pdf"))))
    html = client.get(location + "/report.html")
    assert html.status_code == 200 and html.mimetype == "text/html" and b"Sovereignty audit" in html.data
    assert client.get(location + "/report.md").data.startswith(b"# Sovereignty audit")
    assert client.get(location + "/nothing.exe").status_code == 404


def test_redline_and_checklist_call_their_modules(client, monkeypatch):
    calls = []

    def redline(report, original):
        calls.append(("redline", report.document.path, original))
        return types.SimpleNamespace(docx=b"PK\x03\x04redline")

    def render_checklist(report, fmt):
        calls.append(("checklist", fmt))
        return b"PK\x03\x04checklist" if fmt == "docx" else f"checklist as {fmt}\n"

    monkeypatch.setitem(sys.modules, "contract_audit.redline", types.SimpleNamespace(redline=redline))
    monkeypatch.setitem(sys.modules, "contract_audit.checklist", types.SimpleNamespace(render_checklist=render_checklist))
    location = scan_sample(client)
    assert 'data-key="redline.docx"' in client.get(location).get_data(as_text=True)
    redline_answer = client.get(location + "/redline.docx")
    assert redline_answer.status_code == 200 and redline_answer.data == b"PK\x03\x04redline"
    assert redline_answer.headers["Content-Disposition"] == 'attachment; filename="turnkey_ai_stack.redline.docx"'
    assert calls[0] == ("redline", "turnkey_ai_stack.pdf", SAMPLE_PDF.read_bytes())
    assert client.get(location + "/checklist.md").data == b"checklist as md\n"
    assert client.get(location + "/checklist.html").data == b"checklist as html\n"
    assert client.get(location + "/checklist.docx").data.startswith(b"PK")
    assert {("checklist", "md"), ("checklist", "html"), ("checklist", "docx")} <= set(calls)


def test_real_redline_and_checklist_when_installed(client):
    pytest.importorskip("contract_audit.redline")
    pytest.importorskip("contract_audit.checklist")
    docx_sample = SAMPLES / "turnkey_ai_stack.docx"
    location = scan_sample(client, docx_sample)
    for key in ("redline.docx", "checklist.docx"):
        answer = client.get(f"{location}/{key}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert zipfile.ZipFile(io.BytesIO(answer.data)).testzip() is None
    assert client.get(location + "/checklist.md").status_code == 200


def test_missing_redline_module_answers_501(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "contract_audit.redline", None)  # as if the module were not installed
    location = scan_sample(client)
    page = client.get(location).get_data(as_text=True)
    assert 'data-key="redline.docx"' not in page and "Not available in this installation: Redline (DOCX)" in page
    response = client.get(location + "/redline.docx")
    assert response.status_code == 501
    assert "Redline (DOCX) is not available" in response.get_data(as_text=True)


def test_forget_removes_the_result(client):
    location = scan_sample(client)
    response = client.post(location + "/forget", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert client.get(location).status_code == 404
    assert client.get(location + "/report.json").status_code == 404


def test_clause_page(client):
    token = csrf(client)
    response = client.post("/clause", data={"csrf_token": token, "text": "The City shall not install any monitoring tool "
                                                                        "not approved by the Supplier."})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Red flags in: <strong>monitoring</strong>" in page and "<mark>" in page
    quiet = client.post("/clause", data={"csrf_token": token, "text": "Invoices are payable within thirty days."})
    assert "No red flags found" in quiet.get_data(as_text=True)
    assert client.post("/clause", data={"csrf_token": token, "text": "  "}).status_code == 400
    assert client.post("/clause", data={"csrf_token": token, "text": "x" * 2001}).status_code == 413


def test_rules_page_lists_active_rules_with_examples(client, auditor):
    page = client.get("/rules").get_data(as_text=True)
    for rule in auditor.ruleset.active():
        assert f'id="rule-{rule.id}"' in page
        for example in rule.positive_examples + rule.negative_examples:
            assert str(escape(example)) in page


def test_error_pages(client):
    missing = client.get("/results/AAAAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and "Not found" in missing.get_data(as_text=True)
    api_missing = client.get("/api/nothing")
    assert api_missing.status_code == 404 and api_missing.get_json()["status"] == 404
    assert client.get("/scan").status_code == 405


# --- bad uploads -----------------------------------------------------------------------------------------

def _zip_without_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    return buffer.getvalue()


BAD_UPLOADS = [
    ("oversized", "big.txt", b"The Supplier shall do things.\n" * 40_000, 413, "limit per file"),
    ("image renamed pdf", "photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\0\1\2" * 100, 415, "PNG image"),
    ("program renamed docx", "setup.docx", b"MZ\x90\x00" + b"\0" * 200, 415, "Windows program"),
    ("binary renamed txt", "data.txt", b"abc\0def" * 100, 415, "binary data"),
    ("zip not docx", "archive.docx", _zip_without_document(), 415, "not a Word document"),
    ("legacy doc", "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, 415, "legacy .doc"),
    ("rtf named doc", "contract.doc", b"{\\rtf1\\ansi The Supplier shall hold the keys.}", 415, "RTF document"),
    ("word html", "contract.doc", b"<html xmlns:o='urn'><body>The Supplier</body></html>", 415, "saved as HTML"),
    ("corrupt pdf", "broken.pdf", corrupt_pdf(), 422, "broken.pdf"),
    ("truncated zip", "cut.docx", b"PK\x03\x04" + b"\x14\x00" * 50, 422, "corrupt ZIP"),
    ("empty", "empty.pdf", b"", 422, "empty"),
    ("whitespace", "blank.txt", b"   \n\n  ", 422, "empty"),
]


@pytest.mark.parametrize("label,name,content,status,message", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_uploads_are_refused_clearly(client, label, name, content, status, message):
    page = upload(client, [(name, content)])
    assert page.status_code == status
    assert message in page.get_data(as_text=True) and 'role="alert"' in page.get_data(as_text=True)
    api = api_scan(client, content, name)
    assert api.status_code == status
    assert message in api.get_json()["error"] and api.get_json()["status"] == status
    assert "Traceback" not in api.get_data(as_text=True)
    # The server keeps serving.
    assert api_scan(client, SAMPLE_TXT.read_bytes(), "good.txt").status_code == 200


def test_zip_bomb_renamed_docx(client):
    bomb = zip_bomb_docx(unpacked_mib=40)
    assert len(bomb) < SETTINGS.max_upload_bytes
    response = api_scan(client, bomb, "contract.docx")
    assert response.status_code == 422 and "ZIP bomb" in response.get_json()["error"]
    assert api_scan(client, SAMPLE_TXT.read_bytes(), "good.txt").status_code == 200


def test_encrypted_scanned_and_too_long_pdfs(client):
    encrypted = api_scan(client, make_pdf([["1. Services"]], encrypt="secret"), "locked.pdf")
    assert encrypted.status_code == 422 and "encrypted" in encrypted.get_json()["error"]
    scanned = api_scan(client, make_image_only_pdf(), "scan.pdf")
    assert scanned.status_code == 422 and "OCR" in scanned.get_json()["error"]
    long_pdf = make_pdf([[f"{n}. Clause {n} text."] for n in range(1, 26)])
    too_long = api_scan(client, long_pdf, "long.pdf")
    assert too_long.status_code == 413 and "25 pages" in too_long.get_json()["error"]


def test_a_long_text_without_page_breaks_counts_its_printed_pages(client):
    clause = "1. The Supplier shall deliver the services to the City in a timely manner. "
    text = (clause * (21 * CHARS_PER_PAGE // len(clause) + 1)).encode()  # one line, 21 printed pages
    response = api_scan(client, text, "one_line.txt")
    assert response.status_code == 413 and "22 pages" in response.get_json()["error"]
    assert api_scan(client, (clause * 100).encode(), "short.txt").status_code == 200


def test_too_many_files_and_no_file(client):
    files = [(f"{n}.txt", b"1. Services\nThe Supplier shall provide the Services.\n") for n in range(4)]
    assert upload(client, files).status_code == 413
    assert client.post("/scan", data={"csrf_token": csrf(client)}).status_code == 400
    assert client.post("/api/scan", data={}, content_type="multipart/form-data").status_code == 400


def test_request_larger_than_the_total_limit_is_refused_before_parsing(client):
    body = b"x" * (SETTINGS.max_request_bytes + 10)
    response = client.post("/api/scan", data=body, content_type="multipart/form-data; boundary=abc")
    assert response.status_code == 413 and response.get_json()["status"] == 413


def test_parser_crash_is_a_clear_422_and_the_server_keeps_serving(client, app, monkeypatch):
    import contract_audit.web.engine as engine

    def explode(data, name):
        raise RecursionError("deeply nested objects")

    monkeypatch.setattr(engine, "read_bytes", explode)
    response = api_scan(client, b"1. Services\nThe Supplier shall provide them.\n", "weird.txt")
    assert response.status_code == 422 and "could not be read (RecursionError)" in response.get_json()["error"]
    monkeypatch.undo()
    assert api_scan(client, SAMPLE_TXT.read_bytes(), "good.txt").status_code == 200


def test_internal_error_page_and_recovery(client, app, monkeypatch):
    state = app.extensions["contract_audit"]
    monkeypatch.setattr(state.engine.auditor, "audit_document", lambda document: 1 / 0)
    response = api_scan(client, SAMPLE_TXT.read_bytes(), "good.txt")
    assert response.status_code == 500 and "server is still running" in response.get_json()["error"]
    monkeypatch.undo()
    assert api_scan(client, SAMPLE_TXT.read_bytes(), "good.txt").status_code == 200


def test_full_queue_answers_429(auditor):
    busy = create_app(WebSettings(max_queue=0), auditor=auditor)
    state = busy.extensions["contract_audit"]
    assert state.engine._slots.acquire(blocking=False)  # one scan in progress, none may wait
    try:
        response = busy.test_client().post("/api/scan", data={"file": (io.BytesIO(SAMPLE_TXT.read_bytes()), "a.txt")},
                                           content_type="multipart/form-data")
        assert response.status_code == 429 and response.headers["Retry-After"]
        assert response.get_json()["error"] == "the server is busy with other scans; try again in a moment"
    finally:
        state.engine._slots.release()


# --- file names and storage ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,shown", [
    ("../../etc/passwd", "passwd"), ("..\\..\\Windows\\system.ini", "system.ini"), ("/abs/path/c.pdf", "c.pdf"),
    ("a\x00b\r\nc.pdf", "abc.pdf"), ("", "upload"), ("..", "upload"), ("x" * 300 + ".pdf", None),
])
def test_display_name_never_keeps_a_path(raw, shown):
    name = display_name(raw)
    assert "/" not in name and "\\" not in name and "\x00" not in name and len(name) <= 120
    if shown is not None:
        assert name == shown


def test_download_name_is_plain_ascii():
    assert download_name("Vertrag für Städte.pdf", "audit.json") == "Vertrag_fur_Stadte.audit.json"
    assert download_name('"; rm -rf /.pdf', "redline.docx") == "rm_-rf.redline.docx"
    assert download_name("....", "audit.md") == "contract.audit.md"


def test_big_uploads_wait_in_unnamed_temporary_files(auditor, monkeypatch, tmp_path):
    import dataclasses
    import tempfile

    # 250 printed pages of text: within the page limit here, and above the spool size
    app = create_app(dataclasses.replace(SETTINGS, max_pages=400, spool_bytes=256 * 1024), auditor=auditor)
    app.testing = True
    client = app.test_client()
    unnamed = []

    def no_named_file(*args, **kwargs):
        raise AssertionError("an upload was about to be written to a named file")

    def temporary_file(*args, **kwargs):
        unnamed.append(kwargs)
        return real_temporary_file(*args, **kwargs)

    real_temporary_file = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_named_file)
    monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    package = Path(contract_audit.__file__).parent
    before = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    big = b"1. Services\nThe Supplier shall provide the Services.\n" * 15_000
    assert len(big) > 600_000
    response = upload(client, [("../../contract_audit/web/static/evil.txt", big)])
    assert response.status_code == 303
    assert len(unnamed) == 1 and not unnamed[0].get("prefix") and not unnamed[0].get("suffix")
    after = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    assert before == after
    assert list(tmp_path.iterdir()) == []  # the spooled file never had a name there


# --- CSRF, origin, host, token ---------------------------------------------------------------------------

def test_forms_need_the_csrf_token(client):
    content = [("a.txt", SAMPLE_TXT.read_bytes())]
    csrf(client)
    assert upload(client, content, token="").status_code == 403
    assert upload(client, content, token="forged-token-value").status_code == 403
    fresh = client.application.test_client()  # no cookie at all
    response = fresh.post("/scan", data={"csrf_token": "x", "files": (io.BytesIO(b"1. A\n"), "a.txt")},
                          content_type="multipart/form-data")
    assert response.status_code == 403 and "reload the page" in response.get_data(as_text=True)


def test_cross_site_posts_are_refused(client):
    token = csrf(client)
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        form = client.post("/clause", data={"csrf_token": token, "text": "x"}, headers=headers)
        assert form.status_code == 403
        api = client.post("/api/classify", json={"clauses": [{"text": "x"}]}, headers=headers)
        assert api.status_code == 403
    same = client.post("/clause", data={"csrf_token": token, "text": "The Supplier shall keep records."},
                       headers={"Origin": "http://localhost"})
    assert same.status_code == 200


def test_host_header_is_checked_without_token(client):
    assert client.get("/", headers={"Host": "attacker.example:8000"}).status_code == 421
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_access_token(auditor):
    token = "a-long-enough-test-token-123"
    app = create_app(WebSettings(token=token), auditor=auditor)
    client = app.test_client()
    denied = client.get("/")
    assert denied.status_code == 401 and "access token" in denied.get_data(as_text=True)
    assert client.get("/static/app.css").status_code == 401
    assert client.get("/api/rules").status_code == 401
    assert client.get("/api/rules", headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
    assert client.get("/api/rules", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    entry = client.get(f"/rules?token={token}")
    assert entry.status_code == 303 and entry.headers["Location"] == "/rules"
    assert "ca_token=" in entry.headers["Set-Cookie"] and "HttpOnly" in entry.headers["Set-Cookie"]
    assert client.get("/").status_code == 200  # the cookie now carries the token
    # With a token the Host check is not needed: a DNS-rebinding page cannot know the token.
    lan = client.get("/", headers={"Host": "192.168.1.20:8000", "Authorization": f"Bearer {token}"})
    assert lan.status_code == 200


def test_serve_refuses_a_public_address_without_token():
    from click.testing import CliRunner

    from contract_audit.cli import main

    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "0"], env={"CONTRACT_AUDIT_TOKEN": ""})
    assert result.exit_code == 2 and "access token" in result.output
    short = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--token", "short"])
    assert short.exit_code == 2 and "at least 16 characters" in short.output
    spaced = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--token", " " * 20])
    assert spaced.exit_code == 2 and "spaces" in spaced.output


# --- API and its OpenAPI description ---------------------------------------------------------------------

def test_openapi_document_is_valid_and_matches_the_routes(client, app):
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") and rule.rule != "/api/"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert client.get("/api/").status_code == 200


def _validator(schema_name: str):
    from jsonschema import Draft202012Validator

    spec = openapi_document(SETTINGS)
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]})


def test_api_scan_classify_rules_follow_the_schemas(client):
    report = api_scan(client, SAMPLE_PDF.read_bytes(), "turnkey_ai_stack.pdf")
    assert report.status_code == 200
    _validator("Report").validate(report.get_json())
    assert report.get_json()["document"]["path"] == "turnkey_ai_stack.pdf"
    classified = client.post("/api/classify", json={"clauses": [
        {"id": "risky", "text": "The City shall not install any monitoring tool not approved by the Supplier."},
        {"id": 7, "text": "The City may install any third-party monitoring tool of its choice on the System."},
    ]})
    body = classified.get_json()
    _validator("ClassifyResponse").validate(body)
    assert [r["id"] for r in body["results"]] == ["risky", "7"]
    assert body["results"][0]["families"] == ["monitoring"] and body["results"][1]["families"] == []
    rules = client.get("/api/rules").get_json()
    _validator("RuleList").validate(rules)
    assert rules["rules"] and all(rule["examples"]["positive"] for rule in rules["rules"])
    _validator("Error").validate(api_scan(client, b"", "x.txt").get_json())


@pytest.mark.parametrize("body,status", [
    (None, 400), ([], 400), ({"clauses": []}, 400), ({"clauses": "text"}, 400), ({"clauses": [{"id": "1"}]}, 400),
    ({"clauses": [{"text": 5}]}, 400), ({"clauses": [{"text": "a", "id": True}]}, 400),
    ({"clauses": [{"text": "a"}] * 11}, 413), ({"clauses": [{"text": "a" * 2001}]}, 413),
])
def test_classify_rejects_bad_bodies(client, body, status):
    response = client.post("/api/classify", data=json.dumps(body) if body is not None else "{not json",
                           content_type="application/json")
    assert response.status_code == status
    _validator("Error").validate(response.get_json())


# Schema-driven property tests: requests are generated from the OpenAPI description itself, and every answer
# must be one the description lists for that operation, with a body that matches its schema.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SPEC = openapi_document(SETTINGS)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def from_schema(schema: dict):
    """A Hypothesis strategy for the JSON Schema subset the description uses (kept small for speed)."""
    schema = _resolve(schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return st.one_of([from_schema({**schema, "type": kind}) for kind in kinds])
    if kinds == "object":
        required = set(schema.get("required", ()))
        fields = {name: from_schema(sub) for name, sub in schema.get("properties", {}).items()}
        return st.fixed_dictionaries({k: v for k, v in fields.items() if k in required},
                                     optional={k: v for k, v in fields.items() if k not in required})
    if kinds == "array":
        return st.lists(from_schema(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 5), 5))
    if kinds == "string":
        return st.one_of(st.text(max_size=min(schema.get("maxLength", 300), 300)),
                         st.sampled_from(["The Supplier shall hold all encryption keys.",
                                          "The City shall not install any monitoring tool not approved by the Supplier."]))
    if kinds == "integer":
        return st.integers(min_value=-(10**6), max_value=10**6)
    if kinds == "boolean":
        return st.booleans()
    raise NotImplementedError(schema)


def _check_answer(path: str, method: str, response) -> None:
    responses = SPEC["paths"][path][method]["responses"]
    assert str(response.status_code) in responses, (response.status_code, response.get_data(as_text=True)[:300])
    schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
    from jsonschema import Draft202012Validator

    Draft202012Validator({**schema, "components": SPEC["components"]}).validate(response.get_json())


PROPERTY = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROPERTY
@given(body=from_schema(SPEC["paths"]["/api/classify"]["post"]["requestBody"]["content"]["application/json"]["schema"]))
def test_property_classify_valid_bodies(client, body):
    response = client.post("/api/classify", json=body)
    assert response.status_code == 200
    _check_answer("/api/classify", "post", response)
    assert len(response.get_json()["results"]) == len(body["clauses"])


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


@PROPERTY
@given(body=json_values | st.fixed_dictionaries({"clauses": json_values}))
def test_property_classify_any_json_gets_a_documented_answer(client, body):
    _check_answer("/api/classify", "post", client.post("/api/classify", json=body))


@PROPERTY
@given(content=st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(lambda t: t.encode("utf-8")),
                         st.binary(max_size=2000).map(lambda b: b"%PDF-1.4\n" + b),
                         st.binary(max_size=2000).map(lambda b: b"PK\x03\x04" + b)),
       name=st.text(max_size=40))
def test_property_scan_any_bytes_gets_a_documented_answer(client, content, name):
    response = api_scan(client, content, name or "f")
    _check_answer("/api/scan", "post", response)


# --- a real server: concurrent uploads with a bad one in the middle ----------------------------------------

def test_twenty_concurrent_uploads_and_one_bad_one(tmp_path, auditor):
    requests = pytest.importorskip("requests")
    pdf = forty_page_pdf(tmp_path)
    content = pdf.read_bytes()
    expected = json.loads(json.dumps(report_to_dict(auditor.audit_bytes(content, pdf.name))))
    assert expected["document"]["pages"] >= 40
    bomb = zip_bomb_docx(unpacked_mib=100)

    with running_server() as base:
        def post(item):
            name, data = item
            response = requests.post(base + "api/scan", files={"file": (name, data)}, timeout=180)
            return response.status_code, response.json()

        jobs = [(pdf.name, content)] * 10 + [("contract.docx", bomb)] + [(pdf.name, content)] * 10
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            answers = list(pool.map(post, jobs))
        assert requests.get(base + "api/rules", timeout=30).status_code == 200

    bad = answers.pop(10)
    assert bad[0] == 422 and "ZIP bomb" in bad[1]["error"]
    assert len(answers) == 20
    for status, body in answers:
        assert status == 200
        assert body == expected


def test_classify_takes_half_characters_and_refuses_absurd_nesting(client):
    body = '{"clauses": [{"id": "\\udc00", "text": "The Supplier shall hold the encryption keys. \\udc00"}]}'
    response = client.post("/api/classify", data=body, content_type="application/json")
    assert response.status_code == 200 and response.get_json()["results"][0]["families"] == ["key-custody"]
    deep = '{"clauses": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/api/classify", data=deep, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.get_json()["error"]



# --- parties ----------------------------------------------------------------------------------------------

PARTY_PROBE = (b'This Agreement is made between the City of Brightwater (the "City") and Helix Cloud Ltd (the "Supplier").\n'
               b"1.1 Helix may access the Platform remotely at any time.\n")


def test_api_scan_reports_the_parties_and_takes_the_users_names(client):
    detected = api_scan(client, PARTY_PROBE, "probe.txt").get_json()
    assert detected["parties"]["vendor"] == "Helix Cloud Ltd"
    response = client.post("/api/scan", data={"file": (io.BytesIO(PARTY_PROBE), "probe.txt"), "vendor": "Helix",
                                              "buyer": "City of Brightwater"}, content_type="multipart/form-data")
    report = response.get_json()
    assert response.status_code == 200
    assert report["parties"] == {"buyer": "City of Brightwater", "buyer_basis": "as given by the user",
                                 "vendor": "Helix", "vendor_basis": "as given by the user"}
    assert any(f["kind"] == "risk" and f["clause"]["number"] == "1.1" and f["source"] != "classifier"
               for f in report["findings"])


def test_party_name_must_be_one_printable_line(client):
    response = client.post("/api/scan", data={"file": (io.BytesIO(PARTY_PROBE), "probe.txt"), "vendor": "x" * 201},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "vendor" in response.get_json()["error"]


def test_upload_page_offers_party_fields_and_results_name_them(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="buyer" name="buyer"' in page and 'id="vendor" name="vendor"' in page
    data = {"files": [(io.BytesIO(PARTY_PROBE), "probe.txt")], "csrf_token": csrf(client), "vendor": "Helix"}
    response = client.post("/scan", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    results = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vendor: <strong>Helix</strong> (as given by the user)" in results
