"""Budgets every document is audited under, and a way to hold one audit to them.

Two kinds of limit work together:
- ReaderBudgets bound what the readers do with a file by counting what they really produce (bytes unpacked
  from a DOCX, bytes inflated from a PDF's streams), whatever the file's headers declare. They hold in every
  process, with no set-up.
- Budgets bound one document's audit as a whole: its file size, its wall-clock time and the memory it may
  take on top of the loaded program. `audit_limited` runs the audit in a forked child process under an
  address-space limit and kills it at the deadline; exceeding either is an AuditError of one line.

The command line (`scan`) and the batch workers take their defaults from DEFAULT_BUDGETS.
"""
from __future__ import annotations

import os
import pickle
import selectors
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from .errors import AuditError

MIB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class ReaderBudgets:
    docx_members: int = 10_000  # parts in one DOCX package
    docx_xml_bytes: int = 32 * MIB  # one XML part of a DOCX, unpacked (document.xml of a 1,000-page contract: ~10 MiB)
    docx_blocks: int = 250_000  # paragraphs and tables in a DOCX body (a 1,000-page contract: ~20,000)
    docx_unpacked_bytes: int = 256 * MIB  # the whole DOCX package unpacked, pictures included
    pdf_stream_bytes: int = 64 * MIB  # one Flate stream of a PDF, inflated (a text page's content: ~50 KiB)
    pdf_decoded_bytes: int = 512 * MIB  # all Flate streams of a PDF, inflated (pictures left out)


READER_BUDGETS = ReaderBudgets()


@dataclass(frozen=True)
class Budgets:
    seconds: float = 60.0  # wall-clock time for one document's audit
    memory_mb: int = 1536  # address space one audit may add to the loaded program
    file_mb: int = 200  # largest file read

    @property
    def file_bytes(self) -> int:
        return self.file_mb * MIB


DEFAULT_BUDGETS = Budgets()


class LimitExceeded(AuditError):
    """A document's audit ran over its time or memory budget and was stopped."""


def audit_limited(auditor, source: bytes | str | Path, budgets: Budgets = DEFAULT_BUDGETS, name: str | None = None):
    """Audit one document (its bytes, or a path) with `auditor` in a child process held to `budgets`; return
    its Report. Raises AuditError with a one-line message for bad input and for a budget exceeded."""
    from .ingest import displayable

    if isinstance(source, (bytes, bytearray)):
        shown = name or "document"
        _check_size(len(source), shown, budgets)
        return run_limited(auditor.audit_bytes, bytes(source), shown, budgets=budgets, name=shown)
    shown = name or displayable(str(source))
    try:
        size = Path(source).stat().st_size
    except OSError:
        size = 0  # the reader gives the precise message (no such file, a folder, ...)
    _check_size(size, shown, budgets)
    return run_limited(auditor.audit, source, budgets=budgets, name=shown)


def run_limited(func: Callable[..., T], *args, budgets: Budgets = DEFAULT_BUDGETS, name: str = "document") -> T:
    """`func(*args)` in a forked child with budgets.seconds of wall-clock time and budgets.memory_mb of address
    space on top of this process's. The result (pickled) and any AuditError come back through a pipe; any
    other exception becomes an AuditError naming it. Where fork is not available, `func` runs here with the
    reader budgets only.

    A plain fork, not multiprocessing: it works from any process (a daemonic pool worker may not start a
    multiprocessing child), and the child leaves by os._exit, flushing none of the parent's buffers."""
    if not hasattr(os, "fork"):
        return func(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = _CHILD_FAILED
        try:
            os.close(read_end)
            status = _child(write_end, func, args, budgets.memory_mb, name)
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        payload = _read_until(read_end, time.monotonic() + budgets.seconds)
    finally:
        os.close(read_end)
        exitcode = _reap(pid)
    if payload is None:
        raise LimitExceeded(f"{name}: took longer than {budgets.seconds:g} s (time limit); stopped")
    if not payload:
        raise LimitExceeded(_death_message(name, exitcode, budgets))
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise value
    return value


_OUT_OF_MEMORY_EXIT = 3
_CHILD_FAILED = 4


def _child(fd: int, func, args, memory_mb: int, name: str) -> int:
    """Run `func` and write the pickled ("ok", result) or ("error", AuditError) to `fd`; return the exit status."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    except ValueError:
        pass  # forked from a thread the interpreter does not take as its main one
    limit_address_space(memory_mb)
    try:
        result = ("ok", func(*args))
    except MemoryError:
        return _OUT_OF_MEMORY_EXIT  # no room left to build a message; the parent names the cause
    except AuditError as exc:
        result = ("error", exc)
    except RecursionError:
        result = ("error", AuditError(f"{name}: nested too deeply to read; refused"))
    except Exception as exc:  # a reader bug on one odd file is still a one-line answer
        detail = " ".join(str(exc).split())
        result = ("error", AuditError(f"{name}: unexpected error while reading ({type(exc).__name__}: {detail})"))
    try:
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return _OUT_OF_MEMORY_EXIT
    except Exception as exc:  # a result that cannot be pickled
        payload = pickle.dumps(("error", AuditError(f"{name}: the result could not be returned ({type(exc).__name__})")))
    with os.fdopen(fd, "wb") as stream:
        stream.write(payload)
    return 0


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything written to `fd` until the writer closes it; None if the deadline comes first."""
    chunks = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _reap(pid: int) -> int:
    """Kill the child if it still runs and wait for it; its exit code, or minus the signal that ended it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _death_message(name: str, exitcode: int | None, budgets: Budgets) -> str:
    if exitcode == _OUT_OF_MEMORY_EXIT:
        return f"{name}: needed more than {budgets.memory_mb} MiB of memory (memory limit); stopped"
    if exitcode is not None and exitcode < 0:
        return (f"{name}: the reader crashed on this file ({signal_name(-exitcode)}; over the {budgets.memory_mb} MiB"
                " memory limit?)")
    return f"{name}: the reader stopped on this file (exit code {exitcode})"


def signal_name(number: int) -> str:
    """SIGKILL for 9: how a process that died of a signal is described."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _check_size(size: int, name: str, budgets: Budgets) -> None:
    if size > budgets.file_bytes:
        raise AuditError(f"{name}: {size // MIB} MiB is larger than the {budgets.file_mb} MiB limit")


def limit_address_space(megabytes: int) -> None:
    """Let this process grow by at most `megabytes` of address space beyond what it holds now; past that,
    allocations fail (MemoryError in Python). Not enforceable everywhere (macOS): then nothing is set."""
    try:
        import resource
    except ImportError:  # Windows
        return
    try:
        with open("/proc/self/statm") as stream:
            base = int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        base = 0
    limit = base + megabytes * MIB
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def die_with_parent() -> None:
    """If the process that started this one is killed outright (kill -9), take this one down too instead of
    leaving it running (Linux; elsewhere a worker notices the closed socket when it next talks)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def kill_worker(process, conn) -> None:
    """Kill a worker process (a subprocess.Popen), reap it and close the socket it talked over."""
    try:
        process.kill()
    except OSError:
        pass
    process.wait()
    conn.close()
