"""What left a party's silo: its node ledger summed per job and per kind of message.

Every envelope the node sent is a ledger row (kind, peer, bytes, protection, sealing). A
message re-sent after a restart carries the same sequence number and counts once, as
`NodeStore.totals` counts it. Rows are grouped in SQL. The party dashboard's "What left
this silo" page and `vfl party ledger` (and so `vfl demo`) both read these functions; they
return kinds, peers, counts, bytes and protections, never a body, an ID or a key.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from vfl.errors import ConfigError

# One row per message actually sent: a replay (same peer and seq) counts once.
_JOBS = """
SELECT job_id, COUNT(*), SUM(nbytes), GROUP_CONCAT(DISTINCT peer), MIN(at), MAX(at)
FROM (SELECT job_id, peer, seq, MAX(nbytes) AS nbytes, MIN(at) AS at FROM ledger
      WHERE direction = 'sent' GROUP BY job_id, peer, seq)
GROUP BY job_id ORDER BY MAX(at) DESC LIMIT ? OFFSET ?
"""
_LINES = """
SELECT kind, peer, protection, sealing, COUNT(*), SUM(nbytes)
FROM (SELECT kind, peer, protection, sealing, MAX(nbytes) AS nbytes FROM ledger
      WHERE direction = 'sent' AND job_id = ? GROUP BY peer, seq)
GROUP BY kind, peer, protection, sealing ORDER BY SUM(nbytes) DESC, kind
"""


@dataclass(frozen=True)
class LedgerJob:
    """One job's outbound traffic: how many messages, how many bytes, to whom."""

    job_id: str
    messages: int
    bytes: int
    peers: tuple[str, ...]
    first_at: float
    last_at: float


@dataclass(frozen=True)
class LedgerLine:
    """One kind of message sent to one peer under one protection."""

    kind: str
    peer: str
    protection: str
    sealing: str
    count: int
    bytes: int


def open_read_only(path: Path) -> sqlite3.Connection:
    """The node's SQLite (state_dir/party.db) opened so that no statement can write."""
    if not path.exists():
        raise ConfigError(f"{path}: not found; has `vfl party serve` run with this config?")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def count_jobs(conn: sqlite3.Connection) -> int:
    """How many jobs this party sent anything in."""
    row = conn.execute("SELECT COUNT(DISTINCT job_id) FROM ledger WHERE direction = 'sent'")
    found = row.fetchone()
    return int(found[0] if found else 0)


def sent_jobs(conn: sqlite3.Connection, offset: int, limit: int) -> list[LedgerJob]:
    """Jobs this party sent anything in, the latest first: rows offset to offset + limit."""
    rows = conn.execute(_JOBS, (limit, offset)).fetchall()
    return [
        LedgerJob(
            str(job),
            int(n),
            int(size or 0),
            tuple(sorted(str(peers or "").split(","))),
            float(first),
            float(last),
        )
        for job, n, size, peers, first, last in rows
    ]


def sent_lines(conn: sqlite3.Connection, job_id: str) -> list[LedgerLine]:
    """Every (kind, peer, protection, sealing) this party sent in the job, biggest first
    (a job has a few dozen kinds at most, whatever its length)."""
    rows = conn.execute(_LINES, (job_id,)).fetchall()
    return [
        LedgerLine(str(k), str(p), str(prot), str(seal), int(n), int(b or 0))
        for k, p, prot, seal, n, b in rows
    ]
