"""A map kept on disk for ``verify``'s per-record state, so its memory does not grow with the log.

``verify`` must remember, for every record, the last version and the record class it has
seen, and for every data key the record that owns it and where it was first used. Kept in
dictionaries that came to about 0.6 KB per record (730 MB at a million records). Here they
live in a private temporary SQLite database (deleted when closed), with the most recent
writes in memory; a lookup that misses the buffer is one primary-key read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

#: Writes kept in memory before they go to the file.
BUFFER = 4096


class Spill:
    """``key -> (number, text)``, in a temporary file."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" opens a private temporary database, removed on close
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE m (k BLOB PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL) WITHOUT ROWID")
        self.buffer: dict[bytes, tuple[int, str]] = {}
        #: What :meth:`prefetch` read from the file for the keys about to be asked for.
        self.window: dict[bytes, tuple[int, str] | None] = {}

    def prefetch(self, keys: set[bytes]) -> None:
        """Read the file's values of ``keys`` in a few queries (for a batch about to be looked up)."""
        self.window = {}
        wanted = sorted(k for k in keys if k not in self.buffer)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            self.window.update(dict.fromkeys(chunk))
            rows = self.db.execute(f"SELECT k, a, b FROM m WHERE k IN ({','.join('?' * len(chunk))})", chunk)
            self.window.update({bytes(k): (int(a), str(b)) for k, a, b in rows})

    def get(self, key: bytes) -> tuple[int, str] | None:
        """The value of ``key``, or None."""
        hit = self.buffer.get(key)
        if hit is not None:
            return hit
        if key in self.window:
            return self.window[key]
        row = self.db.execute("SELECT a, b FROM m WHERE k = ?", (key,)).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def put(self, key: bytes, value: tuple[int, str]) -> None:
        """Set ``key``."""
        self.buffer[key] = value
        if key in self.window:
            self.window[key] = value  # still right after the buffer goes to the file
        if len(self.buffer) >= BUFFER:
            self.flush()

    def setdefault(self, key: bytes, value: tuple[int, str]) -> tuple[int, str]:
        """The value of ``key``, set to ``value`` first if it has none."""
        known = self.get(key)
        if known is None:
            self.put(key, value)
            return value
        return known

    def flush(self) -> None:
        """Write the buffered values to the file."""
        if self.buffer:
            self.db.executemany("INSERT OR REPLACE INTO m VALUES (?, ?, ?)",
                                [(k, a, b) for k, (a, b) in self.buffer.items()])
            self.buffer.clear()

    def items(self) -> Iterator[tuple[bytes, tuple[int, str]]]:
        """Every key and value, in key order."""
        self.flush()
        for key, a, b in self.db.execute("SELECT k, a, b FROM m ORDER BY k"):
            yield bytes(key), (int(a), str(b))

    def __len__(self) -> int:
        self.flush()
        return int(self.db.execute("SELECT count(*) FROM m").fetchone()[0])

    def close(self) -> None:
        """Remove the file."""
        self.db.close()
