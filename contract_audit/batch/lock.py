"""One batch per output folder at a time: an exclusive advisory lock (flock) on a file in the folder.

The kernel drops the lock when the process ends, however it ends (Ctrl-C, kill, a crash), so a stale lock
never blocks the next batch. The file descriptor is not inherited by the worker processes, which therefore
cannot keep the lock alive after the batch that took it is gone."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import AuditError

LOCK_NAME = "batch.lock"


class FolderLock:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise AuditError(f"{self.path}: cannot create the batch lock file ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise AuditError(f"{self.path.parent}: another batch (process {holder or '?'}) is writing to this folder; "
                             "wait for it to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))  # for the message a second batch shows
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
