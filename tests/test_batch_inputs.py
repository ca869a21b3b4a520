"""Odd inputs a tender archive holds: every one ends as exactly one record of its own."""
from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_audit.batch import BatchOptions, run_batch
from contract_audit.batch import scan as batch_scan
from contract_audit.batch.sources import Limits, Reader, discover, member_problem
from contract_audit.cli import main
from contract_audit.errors import IngestError
from contract_audit.ingest import detect_format

CLAUSE = "1. The Supplier shall store all City data outside the country and hold the encryption keys.\n"


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "results.csv", newline="", encoding="utf-8") as stream:
        return {row["path"]: row for row in csv.DictReader(stream)}


def test_repeated_member_names_are_separate_inputs_with_their_own_content(tmp_path):
    path = tmp_path / "lot.zip"
    with pytest.warns(UserWarning):  # zipfile warns of the duplicate names it is asked to write
        path.write_bytes(_zip([("a.txt", b"first " + CLAUSE.encode()), ("a.txt", b"second " + CLAUSE.encode()),
                               ("../evil.pdf", b"%PDF-1.4"), ("../evil.pdf", b"%PDF-1.4")]))
    found = discover([path])
    assert [item.path for item in found.items] == [f"{path}!a.txt", f"{path}!a.txt#2"]
    assert [rejected.path for rejected in found.rejected] == [f"{path}!../evil.pdf", f"{path}!../evil.pdf#2"]
    reader = Reader()
    assert [reader.read(item)[:6] for item in found.items] == [b"first ", b"second"]
    reader.close()
    with pytest.warns(UserWarning):  # numbered in archive order, whether read or refused
        path.write_bytes(_zip([("b.txt", CLAUSE.encode() * 100), ("b.txt", CLAUSE.encode())]))
    found = discover([path], Limits(max_file_bytes=1000))
    assert [r.path for r in found.rejected] == [f"{path}!b.txt"] and [i.path for i in found.items] == [f"{path}!b.txt#2"]


def test_a_file_reached_through_several_given_paths_is_one_input(tmp_path):
    folder = tmp_path / "tenders"
    (folder / "2019").mkdir(parents=True)
    (folder / "2019" / "a.txt").write_text(CLAUSE)
    (folder / "notes.xlsx").write_bytes(b"PK")
    os.symlink(folder / "2019" / "a.txt", folder / "latest.txt")  # a link beside its target: an input of its own
    found = discover([folder, folder / "2019" / "a.txt", str(tmp_path / "tenders" / "." / ""), tmp_path,
                      folder / "notes.xlsx"])
    assert sorted(item.path for item in found.items) == [str(folder / "2019" / "a.txt"), str(folder / "latest.txt")]
    assert found.skipped == 1 and found.rejected == []


def test_archives_without_contracts_and_documents_named_zip_are_accounted_for(tmp_path):
    (tmp_path / "empty.zip").write_bytes(_zip([]))
    (tmp_path / "images.zip").write_bytes(_zip([("scan.png", b"\x89PNG")]))
    docx = _zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")])
    (tmp_path / "contract.zip").write_bytes(docx)
    found = discover([tmp_path])
    assert [item.path for item in found.items] == [str(tmp_path / "contract.zip")]
    reasons = {Path(r.path).name: r.reason for r in found.rejected}
    assert reasons["empty.zip"].startswith("no contracts")
    assert reasons["images.zip"].startswith("no contracts") and "1 other files left out" in reasons["images.zip"]


def test_many_small_members_that_expand_enormously_are_a_zip_bomb(tmp_path):
    path = tmp_path / "bomb.zip"
    path.write_bytes(_zip([(f"m{n}.txt", b"A" * 200_000) for n in range(20)]))
    assert all(member_problem(info, Limits()) is None for info in zipfile.ZipFile(path).infolist())
    found = discover([path], Limits(archive_ratio_floor_bytes=1_000_000))
    assert found.items == [] and "overall" in found.rejected[0].reason


def test_a_colon_inside_a_folder_name_is_not_a_drive():
    assert member_problem(zipfile.ZipInfo("Lot 1: Cloud/contract.txt"), Limits()) is None
    assert "zip-slip" in member_problem(zipfile.ZipInfo("C:evil.pdf"), Limits())


def test_special_files_and_symlink_loops_are_failed_not_fatal(tmp_path):
    os.symlink(tmp_path / "loop.zip", tmp_path / "loop.zip")
    os.mkfifo(tmp_path / "pipe.pdf")
    (tmp_path / "ok.txt").write_text(CLAUSE)
    found = discover([tmp_path])
    assert [Path(item.path).name for item in found.items] == ["ok.txt"]
    reasons = {Path(r.path).name: r.reason for r in found.rejected}
    assert reasons["pipe.pdf"].startswith("not a regular file")
    assert "symbolic links" in reasons["loop.zip"]


@pytest.mark.parametrize("head", [b"{\\rtf1\\ansi The Supplier", b"\xef\xbb\xbf<!DOCTYPE html><p>x", b"<html xmlns:o='urn'>"])
def test_rtf_and_html_are_refused_whatever_their_name(head):
    with pytest.raises(IngestError, match="unsupported"):
        detect_format(head, "contract.doc")


def test_batch_records_a_name_that_is_not_utf8_and_refuses_an_impossible_out(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"bad\xff\xfename.txt"), "w") as stream:
        stream.write(CLAUSE)
    summary = run_batch([str(folder)], BatchOptions(out=tmp_path / "out", jobs=1, progress=False))
    assert summary.ok == 1
    assert list(_rows(tmp_path / "out")) == [str(folder / "bad\\xff\\xfename.txt")]
    (tmp_path / "afile").write_text("x")
    result = CliRunner().invoke(main, ["batch", str(folder), "--out", str(tmp_path / "afile" / "sub")])
    assert result.exit_code == 2 and "cannot create the output folder" in result.stderr
    assert result.stderr.count("\n") == 1
    result = CliRunner().invoke(main, ["batch", str(folder), "--out", str(tmp_path / "out"), "--resume",
                                       "--rules", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "rule folder not found" in result.stderr


def test_resume_after_renames_gives_what_a_fresh_run_gives(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "old.txt").write_text(CLAUSE)
    (folder / "notes.txt").write_text("# Terms\n\n" + CLAUSE)
    options = {"jobs": 1, "formats": ("csv", "jsonl", "html"), "progress": False}
    run_batch([str(folder)], BatchOptions(out=tmp_path / "out", **options))
    (folder / "old.txt").rename(folder / "new.txt")
    (folder / "a_copy.txt").write_text(CLAUSE)  # sorts first: a fresh run audits this one
    (folder / "notes.txt").rename(folder / "notes.md")  # read as Markdown now: audited again
    summary = run_batch([str(folder)], BatchOptions(out=tmp_path / "out", resume=True, **options))
    assert summary.audited == 1 and summary.resumed == 1
    run_batch([str(folder)], BatchOptions(out=tmp_path / "fresh", **options))
    for name in ("results.csv", "results.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
    pages = sorted((tmp_path / "out" / "reports").glob("*.html"))
    assert [page.read_bytes() for page in pages] == [page.read_bytes() for page in sorted((tmp_path / "fresh" / "reports").glob("*.html"))]


def test_a_file_that_changes_during_the_batch_fails_alone(tmp_path, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "t.txt").write_text(CLAUSE)
    record_inputs = batch_scan._record_inputs

    def record_then_edit(*args):
        holders = record_inputs(*args)
        (tmp_path / "a" / "t.txt").write_text(CLAUSE + "2. Added after hashing.\n")
        return holders

    monkeypatch.setattr(batch_scan, "_record_inputs", record_then_edit)
    summary = run_batch([str(tmp_path / "a"), str(tmp_path / "b")],
                        BatchOptions(out=tmp_path / "out", jobs=1, formats=("csv",), progress=False))
    rows = _rows(tmp_path / "out")
    changed = rows[str(tmp_path / "a" / "t.txt")]
    assert changed["error"] == "the file changed while the batch was running"
    assert changed["sha256"] == changed["duplicate_of"] == changed["risk"] == changed["grade"] == ""
    twin = rows[str(tmp_path / "b" / "t.txt")]
    assert twin["status"] == "ok" and twin["duplicate_of"] == ""
    assert (summary.ok, summary.failed) == (1, 1)


def test_resume_settings_cover_rule_files_of_either_extension(tmp_path):
    from contract_audit.batch.scan import settings_fingerprint

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "extra.yml").write_text("rules: []\n")
    with_rules = settings_fingerprint(BatchOptions(out=tmp_path, rules_dirs=(str(rules),)))
    assert with_rules != settings_fingerprint(BatchOptions(out=tmp_path))


def test_resume_after_an_edit_keeps_only_the_pages_of_current_contents(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(CLAUSE)
    run_batch([str(folder)], BatchOptions(out=tmp_path / "out", jobs=1, progress=False))
    (folder / "a.txt").write_text(CLAUSE + "2. The City may terminate at any time.\n")
    run_batch([str(folder)], BatchOptions(out=tmp_path / "out", jobs=1, resume=True, progress=False))
    sha256 = batch_scan.content_hash((folder / "a.txt").read_bytes())
    assert [page.name for page in (tmp_path / "out" / "reports").glob("*.html")] == [f"{sha256}.html"]
