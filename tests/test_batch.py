"""Batch scans: every input ends as one record, unsafe inputs and hung or memory-hungry files fail with a
reason, an interrupted batch resumes to the same results, and a Dask cluster gives the same CSV."""
import csv
import io
import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_audit.batch import BatchOptions, run_batch
from contract_audit.batch.similarity import near_duplicate_groups, signature, similarity
from contract_audit.batch.sources import Limits, Reader, SourceError, discover, member_problem
from contract_audit.batch.worker import HANG_HOOK, HOG_HOOK
from contract_audit.cli import main

from .conftest import REPO, make_pdf

sys.path.insert(0, str(REPO / "benchmarks"))
from generate import contract_lines, write_docx, write_pdf  # noqa: E402

TIMEOUT = 3.0  # per-file limit in these tests: the hung file costs this much in each run
MEMORY_MB = 512
PREAMBLE = 'This Agreement is made between the City of {city}, as buyer ("{city}") and {vendor} Ltd, as supplier ("{vendor}").'


def _contract(path: Path, pages: int, seed: int, vendor="NovaStack", city="Riverton", fmt="pdf") -> bytes:
    lines = contract_lines(pages, seed)
    lines.insert(1, PREAMBLE.format(city=city, vendor=vendor))
    (write_pdf if fmt == "pdf" else write_docx)(lines, path)
    return path.read_bytes()


def _zip_bomb(size=48 * 1024 * 1024) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.pdf", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(size // len(block)):
                member.write(block)
    return buffer.getvalue()


def _lying_zip(member_bytes: bytes) -> bytes:
    """A ZIP whose headers declare 1,000 bytes for a member that really expands to much more."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("liar.pdf", member_bytes)
    data = bytearray(buffer.getvalue())
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 1000)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)
    return bytes(data)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A small tender archive with one of every kind of trouble."""
    root = tmp_path_factory.mktemp("tenders") / "archive"
    (root / "2019" / "lot 2").mkdir(parents=True)
    (root / "2020").mkdir()
    _contract(root / "stuck_parser.pdf", 8, 99)  # the largest file: it is sent first, and hangs
    _contract(root / "hog_parser.pdf", 1, 98)
    template = _contract(root / "2019" / "template.pdf", 3, 1)
    _contract(root / "2019" / "template_edited.pdf", 3, 1, vendor="NovaStack", city="Lakeside")
    (root / "2019" / "lot 2" / "template_copy.pdf").write_bytes(template)
    for seed in range(2, 8):
        _contract(root / "2020" / f"contract_{seed}.{'pdf' if seed % 2 else 'docx'}", 2, seed,
                  vendor="ApexCloud" if seed % 3 else "NovaStack", fmt="pdf" if seed % 2 else "docx")
    (root / "2020" / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (root / "2020" / "locked.pdf").write_bytes(make_pdf([["1. Secret clause."]], encrypt="s3cret"))
    (root / "2020" / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a contract type: left out
    (root / ".hidden.pdf").write_bytes(b"ignored")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive_:
        archive_.writestr("deep/inner_contract.docx", (root / "2020" / "contract_2.docx").read_bytes())
    with zipfile.ZipFile(root / "2021.zip", "w", zipfile.ZIP_DEFLATED) as outer:
        outer.writestr("lot 1/contract_zip.pdf", _contract(root / "zipped.pdf", 2, 21))
        outer.writestr("lot 1/same_as_template.pdf", template)
        outer.writestr("lots/inner.zip", inner.getvalue())
        outer.writestr("../../etc/evil.pdf", b"%PDF-1.4 escape attempt")
        outer.writestr("notes/readme.txt", "1. This archive holds the 2021 tenders.\n")
    (root / "zipped.pdf").unlink()
    (root / "bomb.zip").write_bytes(_zip_bomb())
    (root / "liar.zip").write_bytes(_lying_zip(b"%PDF-1.4 " + b"A" * 3_000_000))
    return root


EXPECTED = {
    "stuck_parser.pdf": ("failed", "timed out after 3 s"),
    "hog_parser.pdf": ("failed", "out of memory"),
    "2019/template.pdf": ("ok", None),
    "2019/template_edited.pdf": ("ok", None),
    "2019/lot 2/template_copy.pdf": ("ok", None),
    **{f"2020/contract_{s}.{'pdf' if s % 2 else 'docx'}": ("ok", None) for s in range(2, 8)},
    "2020/corrupt.pdf": ("failed", "not a readable PDF"),
    "2020/locked.pdf": ("failed", "encrypted"),
    "2021.zip!lot 1/contract_zip.pdf": ("ok", None),
    "2021.zip!lot 1/same_as_template.pdf": ("ok", None),
    "2021.zip!lots/inner.zip!deep/inner_contract.docx": ("ok", None),
    "2021.zip!../../etc/evil.pdf": ("failed", "zip-slip"),
    "2021.zip!notes/readme.txt": ("ok", None),
    "bomb.zip!bomb.pdf": ("failed", "zip bomb"),
    "liar.zip!liar.pdf": ("failed", "ZIP member"),
}


@pytest.fixture(scope="module")
def reference(archive, tmp_path_factory):
    """One uninterrupted local run over the archive (with the hang and memory hooks armed)."""
    out = tmp_path_factory.mktemp("reference")
    log = io.StringIO()
    os.environ[HANG_HOOK], os.environ[HOG_HOOK] = "stuck_parser", "hog_parser"
    try:
        summary = run_batch([str(archive)], BatchOptions(out=out, jobs=2, timeout=TIMEOUT, memory_mb=MEMORY_MB), stream=log)
    finally:
        del os.environ[HANG_HOOK], os.environ[HOG_HOOK]
    return summary, out, log.getvalue()


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "results.csv", newline="", encoding="utf-8") as stream:
        return {row["path"]: row for row in csv.DictReader(stream)}


def test_every_file_is_one_record_with_a_reason(reference, archive):
    summary, out, log = reference
    rows = _rows(out)
    prefix = str(archive) + "/"
    assert sorted(path.removeprefix(prefix) for path in rows) == sorted(EXPECTED)
    for name, (status, reason) in EXPECTED.items():
        row = rows[prefix + name]
        assert row["status"] == status, (name, row["error"])
        if reason:
            assert reason in row["error"], (name, row["error"])
        else:
            assert row["error"] == "" and row["grade"] in "ABCDF" and row["risk"] != ""
    assert summary.files == len(EXPECTED) and summary.failed == 7 and summary.skipped == 1
    assert "batch: " in log and "files/s" in log and "ETA" in log  # plain log lines when not on a terminal


def test_duplicates_audited_once_and_near_duplicates_grouped(reference, archive):
    summary, out, _ = reference
    rows = _rows(out)
    prefix = str(archive) + "/"
    original = prefix + "2019/lot 2/template_copy.pdf"  # the first path holding that content
    assert rows[prefix + "2019/template.pdf"]["duplicate_of"] == original
    assert rows[prefix + "2021.zip!lot 1/same_as_template.pdf"]["duplicate_of"] == original
    assert rows[original]["duplicate_of"] == ""
    assert rows[prefix + "2020/contract_2.docx"]["sha256"] == rows[prefix + "2021.zip!lots/inner.zip!deep/inner_contract.docx"]["sha256"]
    assert summary.duplicates == 3 and summary.audited == len(EXPECTED) - 3 - 3  # 3 copies, 3 refused by the ZIP checks
    edited = rows[prefix + "2019/template_edited.pdf"]
    assert edited["sha256"] != rows[original]["sha256"]
    assert edited["near_group"] == rows[original]["near_group"] != ""
    assert rows[prefix + "2020/contract_3.pdf"]["near_group"] == ""


def test_store_schema_and_exports(reference, archive):
    _, out, _ = reference
    db = sqlite3.connect(out / "results.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    documents = db.execute("SELECT path, status FROM documents").fetchall()
    assert len(documents) == len(EXPECTED)
    report = json.loads(db.execute("SELECT report FROM results WHERE status = 'ok' LIMIT 1").fetchone()[0])
    assert report["schema_version"] == 1 and report["findings"]
    vendors = {row[0] for row in db.execute("SELECT DISTINCT vendor FROM results WHERE vendor IS NOT NULL")}
    assert vendors == {"NovaStack", "ApexCloud"}

    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:8] == ["path", "sha256", "status", "error", "format", "pages", "risk", "grade"]
    assert "risks_monitoring" in header and "missing" in header

    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == len(EXPECTED)
    ok = [line for line in lines if line["status"] == "ok"]
    assert all(line["report"]["findings"] for line in ok)
    assert all(line["report"] is None and line["error"] for line in lines if line["status"] == "failed")

    html = (out / "dashboard.html").read_text()
    assert "Risk distribution" in html and "Most common red flags" in html and "Families by folder" in html
    assert "Families by vendor" in html and "<svg" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html  # self-contained
    for line in ok:
        link = f'reports/{line["sha256"]}.html'
        assert link in html and (out / link).read_text().startswith("<!doctype html>")
    assert html.count("<script>") == 1  # only the table sorter, inline


def test_kill_halfway_then_resume_equals_uninterrupted(reference, archive, tmp_path):
    reference_summary, reference_out, _ = reference
    out = tmp_path / "killed"
    env = dict(os.environ, **{HANG_HOOK: "stuck_parser", HOG_HOOK: "hog_parser"})
    command = [sys.executable, "-m", "contract_audit.cli", "batch", str(archive), "--out", str(out), "--jobs", "2",
               "--timeout", str(TIMEOUT), "--memory-limit", str(MEMORY_MB), "-q"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if _finished(out) >= 1:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = _finished(out)
    assert 1 <= done_before < reference_summary.audited  # killed halfway: the hung file at least is not finished

    resumed = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done_before} done before" in resumed.stdout
    assert (out / "results.csv").read_bytes() == (reference_out / "results.csv").read_bytes()


def _finished(out: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{out / 'results.sqlite'}?mode=ro", uri=True)
        try:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_dask_local_cluster_gives_the_same_csv(reference, archive, tmp_path):
    pytest.importorskip("dask.distributed", reason="Dask is not installed (pip install 'contract-audit[dask]')")
    _, reference_out, _ = reference
    os.environ[HANG_HOOK], os.environ[HOG_HOOK] = "stuck_parser", "hog_parser"
    try:
        summary = run_batch([str(archive)], BatchOptions(out=tmp_path, dask_local=2, timeout=TIMEOUT,
                                                         memory_mb=MEMORY_MB, formats=("csv",), progress=False))
    finally:
        del os.environ[HANG_HOOK], os.environ[HOG_HOOK]
    assert summary.files == len(EXPECTED)
    assert (tmp_path / "results.csv").read_bytes() == (reference_out / "results.csv").read_bytes()


def test_cli_refuses_to_mix_batches_and_reports_bad_paths(reference, tmp_path):
    _, reference_out, _ = reference
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "--out", str(reference_out)])
    assert result.exit_code == 2 and "--resume" in result.stderr and result.stderr.count("\n") == 1
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "xml"])
    assert result.exit_code == 2


@pytest.mark.parametrize("name", ["../evil.pdf", "/etc/passwd.pdf", "..\\..\\evil.pdf", "a/../../b.pdf", "C:/x.pdf"])
def test_zip_slip_names_are_refused(name):
    info = zipfile.ZipInfo(name)
    assert "zip-slip" in member_problem(info, Limits())


def test_zip_limits(tmp_path):
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.pdf", b"%PDF-1.4 small")
        archive.writestr("deep.zip", b"not a zip at all")
    found = discover([path])
    assert [r.reason for r in found.rejected] == ["not a readable ZIP archive (File is not a zip file)"]
    found = discover([path], Limits(max_file_bytes=5))
    assert [r.reason for r in found.rejected if r.path.endswith("a.pdf")][0].startswith("ZIP member declares")
    found = discover([path], Limits(max_members=1))
    assert found.items == [] and "entries" in found.rejected[0].reason
    lying = tmp_path / "liar.zip"
    lying.write_bytes(_lying_zip(b"%PDF-1.4 " + b"A" * 2_000_000))
    item = discover([lying]).items[0]
    with pytest.raises(SourceError):
        Reader().read(item)


def test_near_duplicate_signatures():
    base = " ".join(f"{n}. The Supplier shall deliver item {n} to the City of Riverton within {n} days." for n in range(300))
    edited = base.replace("Riverton", "Lakeside", 5) + " 301. A new clause added at the end."
    other = " ".join(f"{n}. Each Party shall keep record {n * 7} of the works at site {n % 13}." for n in range(300))
    signatures = {"a": signature(base), "b": signature(edited), "c": signature(other), "d": signature("")}
    assert similarity(signatures["a"], signatures["b"]) >= 0.8 > similarity(signatures["a"], signatures["c"])
    assert near_duplicate_groups(signatures) == {"a": "a", "b": "a"}


def test_word_hashes_are_those_of_each_word_on_its_own():
    from contract_audit.batch.similarity import _WORD_BASE, _word_hashes

    def hash_of(word):
        return sum(byte * pow(_WORD_BASE, i + 1, 1 << 64) for i, byte in enumerate(word.encode())) % (1 << 64)

    words = ["the", "supplier", "x_1", "données", "2030", "the", "a—b"]  # any non-ASCII letter or mark joins a word
    text = "  The SUPPLIER, (x_1) données-2030 the. a—b"
    assert _word_hashes(text).tolist() == [hash_of(word) for word in words]
    assert _word_hashes(" ,.; ").tolist() == [] and signature(" ,.; ") == b""


def test_a_worker_that_dies_fails_only_its_current_file(archive, monkeypatch):
    import threading

    from contract_audit.batch.records import Task
    from contract_audit.batch.runner import LocalPool
    from contract_audit.batch.sources import content_hash
    from contract_audit.batch.worker import WorkerConfig

    monkeypatch.setenv(HANG_HOOK, "stuck_parser")
    items = {i.path.rsplit("/", 1)[-1]: i for i in discover([archive / "stuck_parser.pdf", archive / "2020"]).items}
    tasks = [Task(content_hash(Reader().read(items[name])), items[name])
             for name in ("stuck_parser.pdf", "contract_3.pdf", "contract_5.pdf")]

    def kill_when_stuck(pool):  # as the kernel's OOM killer would
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = list(pool.workers)
            if workers and workers[0].started is not None and workers[0].pending[0] is tasks[0]:
                workers[0].process.kill()
                return
            time.sleep(0.05)

    with LocalPool(1, WorkerConfig(), timeout=60, chunk_size=3) as pool:
        threading.Thread(target=kill_when_stuck, args=(pool,), daemon=True).start()
        outcomes = {o.path.rsplit("/", 1)[-1]: o for o in pool.run(tasks)}
    assert outcomes["stuck_parser.pdf"].status == "failed" and "SIGKILL" in outcomes["stuck_parser.pdf"].error
    assert outcomes["contract_3.pdf"].status == outcomes["contract_5.pdf"].status == "ok"


def test_second_batch_on_the_same_folder_is_refused_until_the_first_ends(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "slow.txt").write_text("1. Services\n\nThe Supplier shall provide the Services.\n")
    out = tmp_path / "out"
    env = dict(os.environ, **{HANG_HOOK: "slow"})
    command = [sys.executable, "-m", "contract_audit.cli", "batch", str(inputs), "--out", str(out), "--jobs", "1",
               "--timeout", "60", "-q"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _lock_holder(out):
            time.sleep(0.05)
        assert _lock_holder(out) == str(first.pid)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert second.stderr == (f"error: {out}: another batch (process {first.pid}) is writing to this folder; "
                                 "wait for it to finish or choose another --out\n")
    finally:
        first.send_signal(signal.SIGKILL)  # the kernel drops the lock with the process
        first.wait()
    third = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stderr
    assert "1 files: 1 ok" in third.stdout


def _lock_holder(out: Path) -> str:
    try:
        return (out / "batch.lock").read_text().strip()
    except FileNotFoundError:
        return ""


def test_dashboard_wraps_long_errors_and_duplicate_paths():
    template = (REPO / "contract_audit" / "templates" / "dashboard.html").read_text()
    assert '<td class="small note">{% if row.error %}' in template
    assert "table.docs td.note { overflow-wrap:anywhere;" in template
    assert '<th scope="col" data-type="text" class="note">' in template and "table.docs th.note { white-space:normal;" in template
