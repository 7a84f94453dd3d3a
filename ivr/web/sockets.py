"""How many media sockets this host holds at once: a cap shared by every worker process.

Each open Media Streams socket takes one of ``IVR_MEDIA_SOCKETS`` slots. A slot is a file
in ``<IVR_VAR_DIR>/media-sockets/`` held with an exclusive ``flock`` for as long as the
socket is open, so every process of the host (gunicorn's workers) counts against the same
cap, and a process that dies gives its slots back at once (the kernel drops its locks).
When every slot is held, the socket is refused before it is accepted: the call goes on
with its keys, as it does with no local speech.

Rules of this file: ``take`` never blocks and never raises (a slot folder that cannot be
used means no cap rather than no speech, said once in the log); a ``Slot`` is given back
exactly once.
"""
from __future__ import annotations

import fcntl
import logging
import os
import random
import threading
from pathlib import Path

__all__ = ["Slot", "SocketSlots", "default_cap"]

log = logging.getLogger(__name__)

#: Streams one CPU core recognises in real time, measured: 30 to 60; the low end is the default.
STREAMS_PER_CORE = 30


def default_cap() -> int:
    """The default ``IVR_MEDIA_SOCKETS``: 30 streams per CPU core of this host."""
    return max(1, (os.cpu_count() or 1) * STREAMS_PER_CORE)


class Slot:
    """One held slot; ``release()`` gives it back (a second call does nothing)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


class SocketSlots:
    """``cap`` slots in ``folder``, shared by every process that opens the same folder."""

    def __init__(self, folder: Path, cap: int) -> None:
        self.folder = Path(folder)
        self.cap = max(1, cap)
        self._broken = False

    def take(self) -> Slot | None:
        """A free slot, or None when ``cap`` sockets are already open on this host."""
        if self._broken:
            return Slot(None)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return self._no_cap(exc)
        first = random.randrange(self.cap)  # spread the search: fewer failed tries under load
        for i in range(self.cap):
            path = self.folder / f"slot-{(first + i) % self.cap}"
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                return self._no_cap(exc)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            return Slot(fd)
        return None

    def _no_cap(self, exc: OSError) -> Slot:
        self._broken = True
        log.error("media sockets are not capped: %s cannot be used (%s); check IVR_VAR_DIR's permissions",
                  self.folder, exc.strerror or exc)
        return Slot(None)
