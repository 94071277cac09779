"""A directory of notifications received and not yet processed: the webhook writes here
before it answers 200, so an alert survives a busy database and a crash.

Each notification is one file holding the body exactly as received, named
`<received, ns since epoch>-<random>.json` so names sort in arrival order. A file is
written under tmp/, flushed to disk, then renamed into incoming/ (atomic on one file
system), so incoming/ never holds half a notification. The processor deletes a file only
after its notification is in the database.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    path: Path

    @property
    def id(self) -> str:
        return self.path.stem

    @property
    def received_at(self) -> datetime:
        nanoseconds = int(self.id.split("-", 1)[0])
        return datetime.fromtimestamp(nanoseconds / 1e9, UTC)

    def read(self) -> bytes:
        return self.path.read_bytes()


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / "incoming"
        self._tmp = root / "tmp"

    def prepare(self) -> None:
        """Create the folders; leftovers in tmp/ are writes that never completed."""
        # Alert labels name hosts and services: only Jamie's user reads the spool.
        for folder in (self.root, self._incoming, self._tmp):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in self._tmp.iterdir():
            stale.unlink(missing_ok=True)

    def put(self, body: bytes) -> SpoolEntry:
        """Store `body` durably (blocking: call it in a worker thread)."""
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
        temporary = self._tmp / name
        with temporary.open("wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        final = self._incoming / name
        os.replace(temporary, final)
        _fsync_dir(self._incoming)
        return SpoolEntry(final)

    def pending(self) -> list[SpoolEntry]:
        """Stored notifications in arrival order."""
        return [SpoolEntry(p) for p in sorted(self._incoming.glob("*.json"))]

    def done(self, entry: SpoolEntry) -> None:
        entry.path.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk (POSIX).
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
