"""The web server under hostile load, against a real `contract-audit serve` on 127.0.0.1: a slow audit holds up
nobody else, a hung one becomes a clear error, a full queue answers 429, big uploads do not grow the server's
memory, and slow connections do not stop it answering. Every request goes to 127.0.0.1, in bounded numbers and
time; every bound asserted below is the behaviour under test, set far from what a healthy run needs."""
import http.client
import io
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from contract_audit.report.json import report_to_dict
from contract_audit.web import WebSettings, create_app
from contract_audit.web.settings import MIB

from .web_helpers import SAMPLES, running_server, server_process

requests = pytest.importorskip("requests")

SAMPLE_PDF = SAMPLES / "turnkey_ai_stack.pdf"
# A rule whose pattern is slow by design: five lazy runs over the same letters try every way of splitting the
# clause below before failing, about n^5/120 steps for n letters, so 400 letters keep a worker busy far longer
# than any test runs. (Patterns that backtrack exponentially are refused when rules load; this one is only
# polynomial, which the load-time check allows, as a slow document might be.)
SLOW_RULE = """rules:
  - id: test-slow-backtracking
    family: monitoring
    kind: risk
    title: A deliberately slow pattern for the server's load tests
    severity: low
    rationale: Tries every split of a long run of letters that is not followed by an exclamation mark.
    recommendation: Nothing to do.
    anchors: [zzslow]
    patterns:
      - name: five-lazy-runs
        regex: 'zzslow\\s[a-z ]*?[a-z ]*?[a-z ]*?[a-z ]*?[a-z ]*?!'
        score: 0.5
    examples:
      positive: ["zzslow abc!", "zzslow abc def!", "zzslow x!"]
      negative: ["The Supplier shall provide the Services.", "The City may monitor the system.", "The Supplier shall keep records."]
"""
HOSTILE_CLAUSE = "zzslow " + "a" * 400 + "- !"
HOSTILE_TEXT = f"1. Services\nThe Supplier shall provide the Services.\n2. Notes\n{HOSTILE_CLAUSE}\n".encode()
GOOD_CLAUSE = {"clauses": [{"id": "1", "text": "The Supplier shall hold the encryption keys."}]}


@pytest.fixture(scope="module")
def slow_rules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slow-rules")
    (folder / "slow.yaml").write_text(SLOW_RULE, encoding="utf-8")
    return str(folder)


@pytest.fixture(scope="module")
def expected_report(auditor):
    return json.loads(json.dumps(report_to_dict(auditor.audit_bytes(SAMPLE_PDF.read_bytes(), SAMPLE_PDF.name))))


def scan(base: str, content: bytes, name: str, timeout: float = 60):
    return requests.post(base + "api/scan", files={"file": (name, content)}, timeout=timeout)


def classify(base: str, body: dict, timeout: float = 60):
    return requests.post(base + "api/classify", json=body, timeout=timeout)


def in_background(call, *args, **kwargs):
    """Run call(*args) in a thread; the returned dict gets 'response' or 'error', and 'seconds'."""
    outcome = {}

    def run():
        start = time.monotonic()
        try:
            outcome["response"] = call(*args, **kwargs)
        except Exception as exc:  # the server was stopped under it at the end of the test
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def timed(call, *args, **kwargs):
    start = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - start


# --- (a) a slow audit holds up nobody else ------------------------------------------------------------------

def test_a_slow_audit_does_not_hold_up_other_scans(slow_rules, expected_report):
    pdf = SAMPLE_PDF.read_bytes()
    with running_server("--rules", slow_rules) as base:
        normal = []
        for _ in range(3):
            response, seconds = timed(scan, base, pdf, SAMPLE_PDF.name)
            assert response.status_code == 200
            normal.append(seconds)
        usual = sorted(normal)[1]

        hostile = in_background(scan, base, HOSTILE_TEXT, "hostile.txt", timeout=300)
        time.sleep(1.0)  # the hostile scan is now inside the auditor
        response, seconds = timed(scan, base, pdf, SAMPLE_PDF.name, timeout=30)
        assert response.status_code == 200 and response.json() == expected_report
        assert seconds <= usual + 1.0, f"a scan took {seconds:.2f} s beside a slow one, {usual:.2f} s alone"
        verdict, seconds = timed(classify, base, GOOD_CLAUSE, timeout=30)
        assert verdict.status_code == 200 and verdict.json()["results"][0]["families"] == ["key-custody"]
        assert seconds <= 1.0
        assert hostile["thread"].is_alive(), "the hostile scan was meant to be still running"


# --- (b) a per-audit time limit ---------------------------------------------------------------------------

def test_a_hung_audit_becomes_a_clear_error_and_the_server_keeps_answering(slow_rules, expected_report):
    pdf = SAMPLE_PDF.read_bytes()
    with running_server("--rules", slow_rules, "--scan-timeout", "4") as base:
        hung_scan = in_background(scan, base, HOSTILE_TEXT, "hostile.txt")
        hung_clause = in_background(classify, base, {"clauses": [{"id": "x", "text": HOSTILE_CLAUSE}]})
        time.sleep(0.5)
        assert requests.get(base + "api/rules", timeout=5).status_code == 200
        for outcome in (hung_scan, hung_clause):
            outcome["thread"].join(timeout=60)
            response = outcome["response"]
            assert response.status_code == 422
            assert response.json()["status"] == 422 and "longer than the 4 s limit and was stopped" in response.json()["error"]
            assert outcome["seconds"] < 4 + 20  # the limit, with a generous margin for a loaded machine
        assert "hostile.txt: the audit took longer" in hung_scan["response"].json()["error"]
        # The upload page gets the same message as a page.
        browser = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(base, timeout=10).text).group(1)
        page = browser.post(base + "scan", data={"csrf_token": token}, files={"files": ("hostile.txt", HOSTILE_TEXT)},
                            headers={"Accept": "text/html"}, timeout=60)
        assert page.status_code == 422 and "<html" in page.text.lower()
        assert "hostile.txt: the audit took longer than the 4 s limit" in page.text
        # Both workers were killed and replaced: the server audits as before.
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda _: scan(base, pdf, SAMPLE_PDF.name), range(2)))
        assert [a.status_code for a in answers] == [200, 200]
        assert all(a.json() == expected_report for a in answers)
        # Downloads are built in the workers too.
        done = browser.post(base + "scan", data={"csrf_token": token}, files={"files": (SAMPLE_PDF.name, pdf)},
                            timeout=60, allow_redirects=False)
        assert done.status_code == 303
        report = browser.get(base.rstrip("/") + done.headers["Location"] + "/report.json", timeout=60)
        assert report.status_code == 200 and report.json() == expected_report


# --- (e) a full queue answers 429 -------------------------------------------------------------------------

def test_a_full_queue_answers_429_with_retry_after(slow_rules):
    with running_server("--rules", slow_rules, "--workers", "1", "--queue", "1", "--scan-timeout", "60") as base:
        running = in_background(classify, base, {"clauses": [{"id": "x", "text": HOSTILE_CLAUSE}]}, timeout=120)
        time.sleep(1.0)
        waiting = in_background(classify, base, {"clauses": [{"id": "y", "text": HOSTILE_CLAUSE}]}, timeout=120)
        time.sleep(1.0)
        response, seconds = timed(classify, base, GOOD_CLAUSE, timeout=30)
        assert response.status_code == 429 and seconds < 5
        assert int(response.headers["Retry-After"]) > 0
        assert response.json() == {"error": "the server is busy with other scans; try again in a moment", "status": 429}
        busy_page = requests.post(base + "api/scan", files={"file": ("a.txt", b"1. Services\nThe Supplier shall.\n")},
                                  timeout=30)
        assert busy_page.status_code == 429
        assert requests.get(base + "api/rules", timeout=5).status_code == 200  # no audit needed: answered
        spec = requests.get(base + "api/openapi.json", timeout=5).json()
        for path in ("/api/scan", "/api/classify"):
            documented = spec["paths"][path]["post"]["responses"]["429"]
            assert "Retry-After" in documented["headers"]
        assert running["thread"].is_alive() and waiting["thread"].is_alive()


# --- (c) many large uploads at once -----------------------------------------------------------------------

def post_streamed(base: str, path: str, size: int) -> str:
    """POST a multipart body of `size` bytes, generated piece by piece; returns the status, or what went wrong
    (a server that refuses a body early closes the connection while the client is still sending)."""
    url = urlsplit(base)
    boundary = "loadtestboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    piece = b"1. The Supplier shall provide the Services.\n" * (MIB // 44)
    count = (size - len(head) - len(tail)) // len(piece)

    def body():
        yield head
        for _ in range(count):
            yield piece
        yield tail

    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("POST", path, body=body(), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + count * len(piece) + len(tail)),
        })
        return str(connection.getresponse().status)
    except OSError as exc:
        return type(exc).__name__
    finally:
        connection.close()


def memory_mib(process, field: str) -> float:
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for the server")


def test_many_large_uploads_keep_memory_bounded_and_others_answered():
    with server_process() as (base, process):
        assert scan(base, b"1. Services\nThe Supplier shall provide the Services.\n", "warm.txt").status_code == 200
        before = memory_mib(process, "VmRSS")
        jobs = [("/api/scan", 150 * MIB)] * 8 + [("/scan", 150 * MIB)] * 8
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            storm = [pool.submit(post_streamed, base, path, size) for path, size in jobs]
            time.sleep(0.5)
            # Others are answered while the uploads come in.
            assert requests.get(base + "api/rules", timeout=10).status_code == 200
            small = scan(base, SAMPLES.joinpath("turnkey_ai_stack.txt").read_bytes(), "small.txt", timeout=30)
            assert small.status_code == 200
            outcomes = [future.result(timeout=120) for future in storm]
        peak = memory_mib(process, "VmHWM")
        assert peak - before < 200, f"the server grew from {before:.0f} MiB to a peak of {peak:.0f} MiB ({outcomes})"
        assert all(outcome != "200" for outcome in outcomes)  # every upload was over a limit
        assert requests.get(base + "api/rules", timeout=10).status_code == 200


def test_request_bodies_are_admitted_within_a_budget(auditor):
    app = create_app(WebSettings(upload_budget_bytes=2 * MIB, max_uploads=2), auditor=auditor)
    client = app.test_client()
    budget = app.extensions["contract_audit"].bodies
    text = SAMPLES.joinpath("turnkey_ai_stack.txt").read_bytes()

    def post(content: bytes):
        return client.post("/api/scan", data={"file": (io.BytesIO(content), "a.txt")}, content_type="multipart/form-data")

    too_big = post(b"x" * (3 * MIB))
    assert too_big.status_code == 413 and "2 MiB accepted here" in too_big.get_json()["error"]
    assert budget.reserve(2 * MIB - 1024)  # another upload is being received
    refused = post(text)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert "too many uploads" in refused.get_json()["error"]
    budget.release(2 * MIB - 1024)
    assert post(text).status_code == 200
    assert budget.in_use == (0, 0)  # released when the answer was built
    unauthorised = create_app(WebSettings(token="a-long-enough-test-token-123", max_uploads=1), auditor=auditor)
    assert unauthorised.test_client().post("/api/scan", data=b"x" * 100, content_type="text/plain").status_code == 401
    assert unauthorised.extensions["contract_audit"].bodies.in_use == (0, 0)  # refused before it was admitted


# --- (d) slow connections ---------------------------------------------------------------------------------

def test_slow_connections_do_not_stop_the_server_answering():
    """300 connections sending their headers a byte a second, against a server allowed 256 open files."""
    request = b"GET /api/rules HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 1000
    with server_process(open_files=256) as (base, process):  # the header deadline is 10 s by default
        url = urlsplit(base)
        stop = threading.Event()
        opened = []

        def open_slow() -> socket.socket | None:
            sock = socket.socket()
            sock.settimeout(2)
            try:
                sock.connect((url.hostname, url.port))
                sock.send(request[:1])
            except OSError:
                sock.close()
                return None
            opened.append(1)
            return sock

        def attacker(count: int):
            socks = [open_slow() for _ in range(count)]
            sent = 1
            while not stop.wait(1.0) and sent < len(request):
                for index, sock in enumerate(socks):
                    try:
                        if sock is None:
                            raise OSError
                        sock.send(request[sent:sent + 1])
                    except OSError:  # dropped by the server: come back, as an attacker would
                        if sock is not None:
                            sock.close()
                        socks[index] = open_slow() if len(opened) < 3000 else None
                sent += 1
            for sock in socks:
                if sock is not None:
                    sock.close()

        attackers = [threading.Thread(target=attacker, args=(100,), daemon=True) for _ in range(3)]
        for thread in attackers:
            thread.start()
        try:
            time.sleep(3)  # every slow connection is open
            answered = []
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                response, seconds = timed(requests.get, base + "api/rules", timeout=10)
                assert response.status_code == 200
                answered.append(seconds)
                time.sleep(0.5)
            scanned = scan(base, b"1. Services\nThe Supplier shall provide the Services.\n", "ok.txt", timeout=30)
            assert scanned.status_code == 200
        finally:
            stop.set()
            for thread in attackers:
                thread.join(timeout=30)
        assert len(answered) >= 10 and max(answered) < 5, answered
        assert len(opened) >= 300


def test_a_slow_upload_is_dropped_after_the_body_timeout():
    with running_server("--body-timeout", "2") as base:
        url = urlsplit(base)
        sock = socket.create_connection((url.hostname, url.port), timeout=10)
        try:
            sock.sendall(b"POST /api/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{")
            start = time.monotonic()
            closed = False
            while time.monotonic() - start < 10:
                try:
                    sock.send(b" ")
                    time.sleep(0.5)
                except OSError:
                    closed = True
                    break
                sock.setblocking(False)
                try:
                    closed = sock.recv(4096) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                sock.setblocking(True)
                if closed:
                    break
            assert closed and time.monotonic() - start < 2 + 5
        finally:
            sock.close()
        assert requests.get(base + "api/rules", timeout=10).status_code == 200


# --- the memory limit -------------------------------------------------------------------------------------

def test_a_worker_caps_its_address_space():
    import subprocess
    import sys

    program = ("from contract_audit.limits import limit_address_space\n"
               "limit_address_space(64)\n"
               "try:\n    hoard = bytearray(512 * 1024 * 1024)\nexcept MemoryError:\n    print('refused')\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "refused", done.stderr


def test_an_audit_out_of_memory_is_a_clear_error_and_retires_its_worker():
    from contract_audit.web.workers import ClassifyJob, ScanJob, WorkerSetup, answer

    class Greedy:
        def classify(self, texts, ids):
            raise MemoryError

        def audit_document(self, document, buyer=None, vendor=None):
            raise MemoryError

    setup = WorkerSetup(memory_mb=512)
    reply = answer(Greedy(), ScanJob(b"1. Services\nThe Supplier shall provide the Services.\n", "big.txt", "text"), setup)
    assert (reply.kind, reply.status, reply.exiting) == ("rejected", 422, True)
    assert reply.message == "big.txt: the audit needed more than the 512 MiB memory limit and was stopped"
    reply = answer(Greedy(), ClassifyJob(["The Supplier shall hold the keys."], None), setup)
    assert reply.exiting and reply.message.startswith("checking the clauses needed more than the 512 MiB")
