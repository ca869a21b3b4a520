"""Find the contracts under folders and inside ZIP archives, and read their bytes safely.

ZIP archives are read in place, member by member, in memory: nothing is extracted to disk. Members with
unsafe names (zip-slip), suspicious compression ratios (zip bombs), absurd sizes, encryption or too deep a
nesting are not read; each becomes a rejected input with its reason, so that it still ends as one record.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..errors import AuditError
from ..ingest import MAX_FILE_BYTES, displayable
from .records import Item

DOCUMENT_SUFFIXES = (".pdf", ".docx", ".doc", ".txt", ".md", ".markdown")
ARCHIVE_SUFFIXES = (".zip",)
SEPARATOR = "!"
_DRIVE = re.compile(r"[A-Za-z]:")  # "C:evil.pdf", "C:/evil.pdf": a Windows drive, not a folder name with a colon
_READ_BLOCK = 1024 * 1024


class SourceError(AuditError):
    """An input file that cannot be read safely; the message is the reason recorded for it."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = MAX_FILE_BYTES
    # Contracts compress about 3:1 to 10:1; a member expanding 200 times over is built to exhaust memory.
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1024 * 1024  # small members may compress well without being suspicious
    archive_ratio_floor_bytes: int = 64 * 1024 * 1024  # the same, for a whole archive
    max_archive_bytes: int = 16 * 1024 ** 3
    max_members: int = 200_000
    max_depth: int = 3


@dataclass(frozen=True)
class Rejected:
    """An input found but not readable: it is recorded as failed with `reason`."""

    path: str
    reason: str
    size: int = 0


@dataclass
class Found:
    items: list[Item]
    rejected: list[Rejected]
    skipped: int  # files with other extensions (images, spreadsheets) found in folders and archives
    seen: set[str] = field(default_factory=set, repr=False)  # absolute paths of the files found so far
    names: dict[str, int] = field(default_factory=dict, repr=False)  # how often each shown path was given

    def first_time(self, file: Path) -> bool:
        """False for a file already found through another of the given paths ('tenders' and 'tenders/a.pdf').
        Symlinks are not resolved: a link beside its target is a file of its own (and a duplicate by content)."""
        key = os.path.abspath(file)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def add(self, item: Item) -> None:
        self.items.append(replace(item, path=self._unique(item.path)))

    def reject(self, path: str, reason: str, size: int = 0) -> None:
        self.rejected.append(Rejected(self._unique(path), reason, size))

    def _unique(self, path: str) -> str:
        """A ZIP may hold the same member name twice; every input must still be one record under its own name,
        numbered in the order found."""
        count = self.names.get(path, 0)
        self.names[path] = count + 1
        return path if not count else f"{path}#{count + 1}"


def discover(paths, limits: Limits = Limits()) -> Found:
    """Walk folders (recursively, sorted, hidden files skipped) and ZIP archives (nested too) under `paths`.
    A file reached through several of the given paths is one input."""
    found = Found([], [], 0)
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise AuditError(f"{displayable(str(given))}: no such file or folder")
        if path.is_dir():
            for file in _walk(path):
                _add_file(found, file, displayable(str(file)), limits, explicit=False)
        else:
            _add_file(found, path, displayable(str(given)), limits, explicit=True)
    return found


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        for name in sorted(files):
            if not _hidden(name):
                yield Path(root) / name


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _add_file(found: Found, file: Path, shown: str, limits: Limits, explicit: bool) -> None:
    if not found.first_time(file):
        return
    suffix = file.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES + ARCHIVE_SUFFIXES and not explicit:
        found.skipped += 1
        return
    try:
        status = os.stat(file)
    except OSError as exc:
        found.reject(shown, f"cannot be read ({exc.strerror})")
        return
    if not stat.S_ISREG(status.st_mode):
        found.reject(shown, "not a regular file (a device, pipe or socket); not read")
    elif suffix in ARCHIVE_SUFFIXES:
        _add_archive(found, os.path.realpath(file), shown, limits, size=status.st_size)
    else:
        found.add(Item(path=shown, file=os.path.realpath(file), size=status.st_size))


def _add_archive(found: Found, file: str, shown: str, limits: Limits, members: tuple[str, ...] = (),
                 indexes: tuple[int, ...] = (), archive: zipfile.ZipFile | None = None, size: int = 0) -> None:
    try:
        archive = archive or zipfile.ZipFile(file)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        found.reject(shown, f"not a readable ZIP archive ({exc})")
        return
    if _is_word_document(infos):  # a .docx is a ZIP archive too; named .zip, it is still one contract
        found.add(Item(path=shown, file=file, members=members, size=size, indexes=indexes))
        return
    problem = archive_problem(infos, limits)
    if problem:
        found.reject(shown, problem)
        return
    if len(members) >= limits.max_depth:
        found.reject(shown, f"ZIP archives nested more than {limits.max_depth} deep")
        return
    inputs_before = len(found.items) + len(found.rejected)
    others = 0
    for index, info in sorted(enumerate(infos), key=lambda pair: pair[1].filename):
        if info.is_dir():
            continue
        name = info.filename
        member_shown = f"{shown}{SEPARATOR}{name}"
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if any(_hidden(part) for part in parts if part not in ("/", "..")):
            continue
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in DOCUMENT_SUFFIXES + ARCHIVE_SUFFIXES:
            others += 1
            continue
        problem = member_problem(info, limits)
        if problem:
            found.reject(member_shown, problem, info.file_size)
        elif suffix in ARCHIVE_SUFFIXES:
            try:
                inner = zipfile.ZipFile(io.BytesIO(_read_member(archive, info, limits)))
            except (SourceError, zipfile.BadZipFile, OSError, ValueError) as exc:
                found.reject(member_shown, f"not a readable ZIP archive ({exc})")
                continue
            _add_archive(found, file, member_shown, limits, members + (name,), indexes + (index,), inner, info.file_size)
        else:
            found.add(Item(path=member_shown, file=file, members=members + (name,), size=info.file_size,
                           indexes=indexes + (index,)))
    found.skipped += others
    if len(found.items) + len(found.rejected) == inputs_before:
        # An archive is an input too: one that holds no contract must still end as a record.
        found.reject(shown, "no contracts (PDF, DOCX, text) in this ZIP archive"
                     + (f"; {others} other files left out" if others else ""), size)


def _is_word_document(infos: list[zipfile.ZipInfo]) -> bool:
    names = {info.filename for info in infos}
    return "[Content_Types].xml" in names and "word/document.xml" in names


def archive_problem(infos: list[zipfile.ZipInfo], limits: Limits) -> str | None:
    """Why a ZIP archive must not be read at all, or None."""
    if len(infos) > limits.max_members:
        return f"ZIP archive with {len(infos)} entries, over the {limits.max_members} limit"
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_archive_bytes:
        return (f"ZIP archive declares {declared // 1024 ** 2} MiB uncompressed, over the "
                f"{limits.max_archive_bytes // 1024 ** 2} MiB limit (zip bomb?)")
    compressed = max(1, sum(info.compress_size for info in infos))
    # Many members each just under the per-member floor add up to a bomb all the same.
    if declared > limits.archive_ratio_floor_bytes and declared > limits.max_ratio * compressed:
        return (f"ZIP archive expands {declared // compressed}:1 overall, over the {limits.max_ratio:.0f}:1 limit "
                "(zip bomb?); not read")
    return None


def member_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Why a ZIP member must not be read, or None."""
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or _DRIVE.match(name) or "\x00" in name:
        return "unsafe member name in ZIP archive (absolute path or '..': zip-slip); not read"
    if info.flag_bits & 0x1:
        return "encrypted ZIP member; supply an unlocked archive"
    if info.file_size > limits.max_file_bytes:
        return (f"ZIP member declares {info.file_size // 1024 ** 2} MiB, over the "
                f"{limits.max_file_bytes // 1024 ** 2} MiB limit")
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return f"ZIP member expands {ratio}:1, over the {limits.max_ratio:.0f}:1 limit (zip bomb?); not read"
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    # Declared sizes can lie: never read more than the limit, whatever the header says.
    cap = min(limits.max_file_bytes, max(info.file_size, 0))
    chunks, total = [], 0
    try:
        with archive.open(info) as stream:
            while True:
                block = stream.read(min(_READ_BLOCK, cap + 1 - total))
                if not block:
                    break
                total += len(block)
                if total > cap:
                    raise SourceError(f"ZIP member expands beyond its declared size of {info.file_size} bytes (zip bomb?)")
                chunks.append(block)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise SourceError(f"damaged ZIP member ({exc})") from None
    except Exception as exc:  # zlib.error and friends: a damaged compressed stream
        raise SourceError(f"damaged ZIP member ({type(exc).__name__}: {exc})") from None
    return b"".join(chunks)


class Reader:
    """Reads items' bytes; keeps the most recent ZIP archives open, since members come in archive order."""

    def __init__(self, limits: Limits = Limits(), keep: int = 4):
        self.limits = limits
        self.keep = keep
        self._open: dict[tuple[str, tuple[int, ...]], zipfile.ZipFile] = {}  # (file, member indexes)

    def read(self, item: Item) -> bytes:
        if not item.members:
            return self._read_file(item)
        archive = self._archive(item.file, ())
        for depth, name in enumerate(item.members[:-1]):
            key = item.indexes[:depth + 1]
            if (item.file, key) not in self._open:
                data = _read_member(archive, self._info(archive, name, item.indexes[depth]), self.limits)
                self._remember((item.file, key), zipfile.ZipFile(io.BytesIO(data)))
            archive = self._open[(item.file, key)]
        info = self._info(archive, item.members[-1], item.indexes[-1])
        problem = member_problem(info, self.limits)
        if problem:
            raise SourceError(problem)
        return _read_member(archive, info, self.limits)

    def _read_file(self, item: Item) -> bytes:
        try:
            with open(item.file, "rb") as stream:
                data = stream.read(self.limits.max_file_bytes + 1)
        except FileNotFoundError:
            raise SourceError("the file disappeared before it was read") from None
        except OSError as exc:
            raise SourceError(f"cannot be read ({exc.strerror})") from None
        if len(data) > self.limits.max_file_bytes:
            raise SourceError(f"larger than the {self.limits.max_file_bytes // 1024 ** 2} MiB limit")
        return data

    def _archive(self, file: str, key: tuple[str, ...]) -> zipfile.ZipFile:
        if (file, key) not in self._open:
            try:
                self._remember((file, key), zipfile.ZipFile(file))
            except (zipfile.BadZipFile, OSError) as exc:
                raise SourceError(f"the ZIP archive cannot be read ({exc})") from None
        return self._open[(file, key)]

    @staticmethod
    def _info(archive: zipfile.ZipFile, name: str, index: int) -> zipfile.ZipInfo:
        """The entry at `index`, by position: a ZIP may hold several entries of the same name."""
        infos = archive.infolist()
        if 0 <= index < len(infos) and infos[index].filename == name:
            return infos[index]
        raise SourceError("the member is no longer in its ZIP archive")

    def _remember(self, key, archive: zipfile.ZipFile) -> None:
        self._open[key] = archive
        while len(self._open) > self.keep:
            oldest = next(iter(self._open))
            self._open.pop(oldest).close()

    def close(self) -> None:
        for archive in self._open.values():
            archive.close()
        self._open.clear()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
