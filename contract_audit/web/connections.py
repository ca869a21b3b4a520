"""Open connections, watched so that slow or idle clients cannot hold the server.

Every connection is in one phase: "headers" (from accepting it until its request headers are in), "body" (until
its declared body has been read) or "app" (the request is being answered; no deadline here, the audit has its
own). A watcher thread drops a connection that overstays the headers or body deadline. When the connection
cap is reached, the connection that has waited longest for its headers is dropped to make room: a slowloris
client holds many such connections, a real client holds one for a few milliseconds.
"""
from __future__ import annotations

import io
import logging
import socket
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("contract_audit.web")

HEADERS, BODY, APP = "headers", "body", "app"
_TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 31\r\nConnection: close\r\n\r\n"
              b"the request took too long; bye\n")
_FULL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 49\r\nRetry-After: 5\r\n"
         b"Connection: close\r\n\r\nthe server has too many open connections; retry\n")


@dataclass
class _Entry:
    opened: float
    phase: str
    deadline: float | None
    dropped: bool = False


class ConnectionGuard:
    def __init__(self, max_connections: int, header_timeout: float, body_timeout: float):
        self.max_connections = max(1, max_connections)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self._entries: dict[socket.socket, _Entry] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.dropped = 0  # connections dropped so far (deadline or eviction), for the log and the tests

    # --- the server's accept loop -----------------------------------------------------------------------------

    def admit(self, sock: socket.socket) -> bool:
        """Register a new connection; False (answer 503 and close it) when the cap is reached and no connection
        is waiting for its headers to make room."""
        now = time.monotonic()
        with self._lock:
            live = sum(1 for entry in self._entries.values() if not entry.dropped)
            if live >= self.max_connections and not self._evict_oldest_waiting():
                return False
            self._entries[sock] = _Entry(now, HEADERS, now + self.header_timeout)
            return True

    def make_room(self) -> None:
        """The process is out of file descriptors: drop the connection that has waited longest for its headers."""
        with self._lock:
            self._evict_oldest_waiting()

    @staticmethod
    def refuse(sock: socket.socket) -> None:
        try:
            sock.setblocking(False)
            sock.send(_FULL)
        except OSError:
            pass

    # --- the request handler ----------------------------------------------------------------------------------

    def headers_done(self, sock: socket.socket, has_body: bool) -> None:
        with self._lock:
            entry = self._entries.get(sock)
            if entry is not None and not entry.dropped:
                entry.phase = BODY if has_body else APP
                entry.deadline = time.monotonic() + self.body_timeout if has_body else None

    def body_done(self, sock: socket.socket) -> None:
        with self._lock:
            entry = self._entries.get(sock)
            if entry is not None and entry.phase == BODY:
                entry.phase, entry.deadline = APP, None

    def forget(self, sock: socket.socket) -> None:
        """Call before the socket is closed (the watcher must never shut down a closed, reused descriptor)."""
        with self._lock:
            self._entries.pop(sock, None)

    # --- the watcher ------------------------------------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._watch, name="connection-watcher", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def counts(self) -> dict[str, int]:
        with self._lock:
            counts = {HEADERS: 0, BODY: 0, APP: 0}
            for entry in self._entries.values():
                if not entry.dropped:
                    counts[entry.phase] += 1
            return counts

    def _watch(self) -> None:
        while not self._stopped.wait(0.25):
            now = time.monotonic()
            with self._lock:
                for sock, entry in self._entries.items():
                    if not entry.dropped and entry.deadline is not None and now > entry.deadline:
                        self._drop(sock, entry, _TIMED_OUT if entry.phase == HEADERS else None)

    def _evict_oldest_waiting(self) -> bool:
        waiting = [(entry.opened, id(sock), sock) for sock, entry in self._entries.items()
                   if entry.phase == HEADERS and not entry.dropped]
        if not waiting:
            return False
        _, _, sock = min(waiting)
        self._drop(sock, self._entries[sock], _TIMED_OUT)
        return True

    def _drop(self, sock: socket.socket, entry: _Entry, farewell: bytes | None) -> None:
        # Called with the lock held, so the handler cannot close the socket meanwhile. Shutting it down wakes the
        # handler thread blocked in recv(); that thread then closes it and calls forget().
        entry.dropped = True
        self.dropped += 1
        try:
            if farewell:
                sock.send(farewell, socket.MSG_DONTWAIT)
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class TrackedInput(io.RawIOBase):
    """The request body as the app reads it; tells the guard when all of it is in, which ends its deadline."""

    def __init__(self, stream, length: int | None, done):
        self._stream = stream
        self._left = length
        self._done = done

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(buffer) if hasattr(self._stream, "readinto") else self._copy_into(buffer)
        self._count(count, len(buffer))
        return count

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._count(len(data), size)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self._count(len(data), size)
        return data

    def _copy_into(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _count(self, count: int, asked: int) -> None:
        if self._left is not None:
            self._left -= count
        if (self._left is not None and self._left <= 0) or (count == 0 and asked != 0):
            self._done()


class BoundedDrain:
    """Stands in for the connection's reader once the request is parsed. Werkzeug reads whatever body the app
    left unread before it closes the connection (so the client sees the answer rather than a reset), ten
    megabytes at a time and up to 10 GB; this gives it small pieces and at most `limit` bytes in all."""

    def __init__(self, stream, limit: int = 1024 * 1024, piece: int = 64 * 1024):
        self._stream = stream
        self._left = limit
        self._piece = piece

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._stream.read1(min(self._piece, self._left))
        self._left -= len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._stream, name)
