"""``brisk.Cache(path)``'s store: one SQLite file (the standard library's ``sqlite3``), safe for several
threads (one connection, used under a lock) and several processes (WAL journal, a busy timeout, and every
change in one ``BEGIN IMMEDIATE`` transaction, so a reader never sees half an entry).

A body is written as it arrives into a spooled temporary file (memory up to 1 MiB, disk beyond), then
copied into its row through SQLite's incremental blob I/O in pieces: a large streamed body is never held
whole in memory to store it. Least recently used entries are evicted past ``max_size``; "used" is recorded
at most once a minute per entry, so a burst of hits does not turn every read into a write.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import time

from brisk._cache.policy import Entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._cache.store import BodyWriter

__all__ = ["SQLiteBackend"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS brisk_cache (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    vary TEXT NOT NULL,
    head TEXT NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    used REAL NOT NULL,
    UNIQUE (url, vary)
);
CREATE INDEX IF NOT EXISTS brisk_cache_used ON brisk_cache (used);
"""
PIECE = 256 * 1024
SPOOL = 1024 * 1024
TOUCH_EVERY = 60.0
PARSED = 1024
BUSY_TIMEOUT_MS = 10_000


class SQLiteBackend:
    def __init__(self, path: str, max_size: int) -> None:
        self.path = path
        self.max_size = max_size
        self._lock = threading.Lock()
        self._parsed: dict[int, tuple[str, Entry]] = {}  # row id -> (its head, the Entry made from it)
        self._connection: sqlite3.Connection | None = None
        self._open()  # now: a file that is not a cache is an error at the constructor

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            with _Transaction(db):
                for statement in _statements():
                    db.execute(statement)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ValueError(f"brisk.Cache: {self.path} is not a usable SQLite cache file ({exc})") from exc
        self._connection = db
        return db

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened again after ``close()`` (a closed session's cache stays usable)."""
        db = self._connection
        return db if db is not None else self._open()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def variants(self, url: str) -> list[Entry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, vary, head, size, used FROM brisk_cache WHERE url = ?", (url,)
            ).fetchall()
        found = []
        parsed = self._parsed
        for key, vary, head, size, used in rows:
            known = parsed.get(key)
            if known is not None and known[0] == head:  # the same row as last time: its facts are known
                entry = known[1]
                entry.key = (key, used, head)
            else:
                entry = _entry(url, key, vary, head, size, used)
                if len(parsed) >= PARSED:
                    parsed.clear()
                parsed[key] = (head, entry)
            found.append(entry)
        return found

    def body(self, entry: Entry) -> bytes | None:
        # By row id and head: a row deleted meanwhile may have its id reused by the next insert (SQLite
        # hands out the largest id plus one), for a new response of this URL or another one.
        key, used, head = entry.key
        now = time.time()
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM brisk_cache WHERE id = ? AND head = ?", (key, head)
            ).fetchone()
            if row is not None and now - used > TOUCH_EVERY:
                try:
                    self._db.execute("UPDATE brisk_cache SET used = ? WHERE id = ?", (now, key))
                except sqlite3.OperationalError:  # busy past the timeout: the hit is still good
                    pass
        return None if row is None else bytes(row[0])

    def writer(self, entry: Entry) -> BodyWriter:
        return _SQLiteWriter(self, entry)

    def put(self, entry: Entry, spool: Any, size: int) -> None:
        vary = json.dumps(entry.vary)
        head = _head(entry)
        with self._lock, self._transaction():
            db = self._db
            db.execute("DELETE FROM brisk_cache WHERE url = ? AND vary = ?", (entry.url, vary))
            cursor = db.execute(
                "INSERT INTO brisk_cache (url, vary, head, body, size, used) "
                "VALUES (?, ?, ?, zeroblob(?), ?, ?)",
                (entry.url, vary, head, size, size, time.time()),
            )
            key = cursor.lastrowid
            assert key is not None
            if size:
                spool.seek(0)
                with db.blobopen("brisk_cache", "body", key) as blob:
                    while piece := spool.read(PIECE):
                        blob.write(piece)
            self._evict(db)

    def _evict(self, db: sqlite3.Connection) -> None:
        (total,) = db.execute("SELECT COALESCE(SUM(size), 0) FROM brisk_cache").fetchone()
        if total <= self.max_size:
            return
        for key, size in db.execute("SELECT id, size FROM brisk_cache ORDER BY used").fetchall():
            db.execute("DELETE FROM brisk_cache WHERE id = ?", (key,))
            total -= size
            if total <= self.max_size:
                break

    def refresh(self, entry: Entry, stored: Entry) -> bool:
        key, _, old_head = stored.key
        head = _head(entry)
        now = time.time()
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "UPDATE brisk_cache SET head = ?, used = ? WHERE id = ? AND head = ?",
                (head, now, key, old_head),
            )
        if cursor.rowcount != 1:
            return False  # evicted, or another response in its row now
        entry.key = (key, now, head)
        return True

    def invalidate(self, urls: list[str]) -> None:
        with self._lock, self._transaction():
            self._db.executemany("DELETE FROM brisk_cache WHERE url = ?", [(url,) for url in urls])

    def clear(self) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM brisk_cache")

    def close(self) -> None:
        with self._lock:
            db, self._connection = self._connection, None
            if db is not None:
                db.close()

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM brisk_cache").fetchone()
        return int(count)


def _statements() -> list[str]:
    return [statement for statement in SCHEMA.split(";") if statement.strip()]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): writers take the file's write lock up
    front, waiting up to the busy timeout, so two processes never interleave an entry's rows."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")


def _head(entry: Entry) -> str:
    return json.dumps(
        [
            entry.status,
            entry.reason,
            entry.http_version,
            entry.headers,
            entry.request_time,
            entry.response_time,
        ]
    )


def _entry(url: str, key: int, vary: str, head: str, size: int, used: float) -> Entry:
    status, reason, version, headers, request_time, response_time = json.loads(head)
    return Entry(
        url, status, reason, version, [(name, value) for name, value in headers],
        tuple((name, value) for name, value in json.loads(vary)), request_time, response_time, size,
        (key, used, head),
    )  # fmt: skip


class _SQLiteWriter:
    __slots__ = ("_backend", "_entry", "_size", "_spool")

    def __init__(self, backend: SQLiteBackend, entry: Entry) -> None:
        self._backend = backend
        self._entry = entry
        self._spool: Any = None
        self._size = 0

    def write(self, chunk: bytes) -> None:
        if self._size < 0:
            return
        self._size += len(chunk)
        if self._size > self._backend.max_size:
            self.abort()
            self._size = -1
            return
        if self._spool is None:
            self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 (closed by abort)
        self._spool.write(chunk)

    def commit(self) -> None:
        if self._size < 0:
            return
        try:
            self._backend.put(self._entry, self._spool, self._size)
        except sqlite3.Error:
            pass  # a cache that cannot store (disk full, locked past the timeout) still served the response
        finally:
            self.abort()

    def abort(self) -> None:
        spool, self._spool = self._spool, None
        if spool is not None:
            spool.close()
