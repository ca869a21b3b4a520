"""Replace a file so that a reader sees the old content or the new, never half of it: write to a temporary
name beside it, then rename it into place."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0o022)  # the only way to read the umask is to set it, so set it back at once
os.umask(_UMASK)


@contextmanager
def replacing(path: Path, mode: str = "w", durable: bool = True):
    """A stream to write the new content of `path` to; it takes the file's place when the block ends
    without an error (after an fsync when `durable`), and vanishes otherwise."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_UMASK)  # the permissions a plain new file would get (mkstemp gives 0600)
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(handle, mode, **text) as stream:
            yield stream
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, text: str, durable: bool = True) -> None:
    with replacing(path, durable=durable) as stream:
        stream.write(text)
