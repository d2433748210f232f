"""A party's "what left my silo": its ledger, read from the node's own SQLite.

Every envelope the node sent is a ledger row (kind, peer, bytes, protection, sealing). A
message re-sent after a restart carries the same sequence number and counts once, as
`NodeStore.totals` counts it. Rows are grouped in SQL; a page reads one page of jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.queries.page import Page, bounded
from dashboard.queries.source import NodeDb

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


def ledger_jobs(db: NodeDb, offset: int = 0, limit: int = 25) -> Page[LedgerJob]:
    """Jobs this party sent anything in, the latest first."""
    offset, limit = bounded(offset, limit)
    with db.connect() as conn:
        total = conn.execute(
            "SELECT COUNT(DISTINCT job_id) FROM ledger WHERE direction = 'sent'"
        ).fetchone()
        rows = conn.execute(
            _JOBS,
            (limit, offset),
        ).fetchall()
    items = tuple(
        LedgerJob(
            str(job),
            int(n),
            int(size or 0),
            tuple(sorted(str(peers or "").split(","))),
            float(first),
            float(last),
        )
        for job, n, size, peers, first, last in rows
    )
    return Page(items, offset, limit, int(total[0] if total else 0))


def ledger_lines(db: NodeDb, job_id: str) -> list[LedgerLine]:
    """Every (kind, peer, protection, sealing) this party sent in the job, biggest first
    (a job has a few dozen kinds at most, whatever its length)."""
    with db.connect() as conn:
        rows = conn.execute(
            _LINES,
            (job_id,),
        ).fetchall()
    return [
        LedgerLine(str(k), str(p), str(prot), str(seal), int(n), int(b or 0))
        for k, p, prot, seal, n, b in rows
    ]


def node_phases(db: NodeDb, job_id: str) -> list[tuple[str, str, str | None]]:
    """(phase, status, error) of the phases this node ran for the job."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT phase, status, error FROM phases WHERE job_id = ? ORDER BY at", (job_id,)
        ).fetchall()
    return [(str(p), str(s), None if e is None else str(e)) for p, s, e in rows]
