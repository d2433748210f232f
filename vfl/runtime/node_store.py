"""A participant's own SQLite: its ledger, its inbox journal, the phases it finished and
its sealing counters. Each party node keeps one beside its workspaces, and so does the
coordinator for the programs it hosts (the horizontal aggregator), which is why it lives
in the core and not in `parties/`.

The ledger keeps one row per envelope sent or received (kind, peer, bytes, protection, and
how the body was sealed between the parties), and the SHA-256 of each plaintext body
sent, per (job, receiver, seq): a restarted program may re-send only the same bodies.
The inbox journal keeps every envelope delivered to this party until its job ends: a
program restarted after kill -9 replays its epoch from the checkpoint and must see the
very messages its peers already sent, which the relay deleted once this party confirmed
them. A (job, src, seq) seen twice is stored once, so duplicates never reach a program.
The sealing counters are the nonces this party has handed out per (job, receiver); they
are never deleted, so no restart and no reused job id can make a nonce repeat.
Ended jobs are recorded with when this node learned of the end, so a failed job's journal
(kept for `vfl job resume`) is purged on time even across restarts.
The file is 0600 in a 0700 state folder (SQLite gives its -wal and -shm files the same
mode): it holds what peers sent this party.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from vfl.runtime.ledger import LedgerEntry
from vfl.runtime.workspace import FILE_MODE, private_dir

PURGED = "purged"
"""The state of an ended job whose journal is gone."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, direction TEXT NOT NULL,
  peer TEXT NOT NULL, kind TEXT NOT NULL, seq TEXT NOT NULL, nbytes INTEGER NOT NULL,
  protection TEXT NOT NULL, at REAL NOT NULL, sealing TEXT NOT NULL DEFAULT 'none');
CREATE INDEX IF NOT EXISTS ledger_job ON ledger (job_id, direction);
CREATE TABLE IF NOT EXISTS inbox (
  job_id TEXT NOT NULL, src TEXT NOT NULL, seq TEXT NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (job_id, src, seq));
CREATE TABLE IF NOT EXISTS phases (
  job_id TEXT NOT NULL, phase TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
  model_path TEXT, at REAL NOT NULL, PRIMARY KEY (job_id, phase));
CREATE TABLE IF NOT EXISTS sent_digests (
  job_id TEXT NOT NULL, dst TEXT NOT NULL, seq TEXT NOT NULL, digest BLOB NOT NULL,
  PRIMARY KEY (job_id, dst, seq));
CREATE TABLE IF NOT EXISTS ended (
  job_id TEXT PRIMARY KEY, state TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS seal_counters (
  job_id TEXT NOT NULL, dst TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (job_id, dst));
"""


class NodeStore:
    """Thread-safe; also the `Ledger` programs write to in deployment."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
        path.chmod(FILE_MODE)  # also a store made before this rule, or under a loose umask
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(ledger)")}
        if "sealing" not in columns:  # a node store from before sealing existed
            self._db.execute("ALTER TABLE ledger ADD COLUMN sealing TEXT NOT NULL DEFAULT 'none'")

    # -- ledger ------------------------------------------------------------------------
    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO ledger (job_id, direction, peer, kind, seq, nbytes, protection, "
                "sealing, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.job_id,
                    entry.direction,
                    entry.peer,
                    entry.kind,
                    entry.seq,
                    entry.nbytes,
                    entry.protection,
                    entry.sealing,
                    time.time(),
                ),
            )

    def totals(self, job_id: str) -> dict[str, int]:
        """Bytes per direction; a replayed message counts once (by its sequence number)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT direction, SUM(nbytes) FROM (SELECT direction, MAX(nbytes) AS nbytes "
                "FROM ledger WHERE job_id = ? GROUP BY direction, peer, seq) GROUP BY direction",
                (job_id,),
            ).fetchall()
        out = {"sent": 0, "received": 0}
        out.update({str(d): int(n) for d, n in rows})
        return out

    def remember_sent(self, job_id: str, dst: str, seq: str, digest: bytes) -> bytes:
        """`Ledger.remember_sent`: kept across restarts (kill -9 safe; like the ledger rows,
        a power cut may lose the last few, which are then simply taken again)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO sent_digests (job_id, dst, seq, digest) VALUES (?, ?, ?, ?)",
                (job_id, dst, seq, digest),
            )
            row = self._db.execute(
                "SELECT digest FROM sent_digests WHERE job_id = ? AND dst = ? AND seq = ?",
                (job_id, dst, seq),
            ).fetchone()
        return bytes(row[0])

    def ledger(self, job_id: str) -> list[LedgerEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, direction, peer, kind, seq, nbytes, protection, sealing "
                "FROM ledger WHERE job_id = ? ORDER BY id",
                (job_id,),
            ).fetchall()
        return [LedgerEntry(*row) for row in rows]

    # -- inbox journal -----------------------------------------------------------------
    def journal_put(self, job_id: str, src: str, seq: str, data: bytes) -> bool:
        """Store a delivered envelope; False if this (job, src, seq) was already stored."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO inbox (job_id, src, seq, data) VALUES (?, ?, ?, ?)",
                (job_id, src, seq, data),
            )
            return cur.rowcount == 1

    def journal_get(self, job_id: str, src: str, seq: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM inbox WHERE job_id = ? AND src = ? AND seq = ?",
                (job_id, src, seq),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def journal_jobs(self) -> set[str]:
        """The jobs that have envelopes in the journal."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT job_id FROM inbox").fetchall()
        return {str(r[0]) for r in rows}

    def journal_drop(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM inbox WHERE job_id = ?", (job_id,))

    # -- ended jobs --------------------------------------------------------------------
    def mark_ended(self, job_id: str, state: str) -> float:
        """Record that `job_id` ended in `state`; when this node first learned it."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO ended (job_id, state, at) VALUES (?, ?, ?)",
                (job_id, state, time.time()),
            )
            row = self._db.execute("SELECT at FROM ended WHERE job_id = ?", (job_id,)).fetchone()
        return float(row[0])

    def ended(self) -> dict[str, tuple[str, float]]:
        """{job: (state, when this node learned it ended)} of ended jobs not purged yet."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, state, at FROM ended WHERE state != ?", (PURGED,)
            ).fetchall()
        return {r[0]: (r[1], float(r[2])) for r in rows}

    def mark_purged(self, job_id: str) -> None:
        """The ended job's journal is gone; nothing is left to sweep."""
        with self._lock:
            self._db.execute("UPDATE ended SET state = ? WHERE job_id = ?", (PURGED, job_id))

    def reopen(self, job_id: str) -> None:
        """A failed job was resumed: it is live again."""
        with self._lock:
            self._db.execute("DELETE FROM ended WHERE job_id = ?", (job_id,))

    # -- sealing counters --------------------------------------------------------------
    def reserve(self, job_id: str, dst: str, count: int) -> int:
        """`NonceCounters`: the first of `count` counters for (job, dst), stored before use."""
        with self._lock:
            # fsync this one: a reservation lost to a power cut could hand a nonce out twice
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT next FROM seal_counters WHERE job_id = ? AND dst = ?", (job_id, dst)
                ).fetchone()
                first = 0 if row is None else int(row[0])
                self._db.execute(
                    "INSERT OR REPLACE INTO seal_counters (job_id, dst, next) VALUES (?, ?, ?)",
                    (job_id, dst, first + count),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")
        return first

    # -- phases ------------------------------------------------------------------------
    def set_phase(
        self, job_id: str, phase: str, status: str, error: str | None, model_path: str | None
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO phases (job_id, phase, status, error, model_path, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, phase, status, error, model_path, time.time()),
            )

    def phase(self, job_id: str, phase: str) -> tuple[str, str | None, str | None] | None:
        """(status, error, model_path) of a phase this node ran, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT status, error, model_path FROM phases WHERE job_id = ? AND phase = ?",
                (job_id, phase),
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def close(self) -> None:
        with self._lock:
            self._db.close()
