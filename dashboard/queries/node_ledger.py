"""A party's "what left my silo": its ledger, read from the node's own SQLite.

The grouping itself is `vfl/runtime/ledger_summary.py`, which `vfl party ledger` and
`vfl demo` print from too; here it is read through the dashboard's read-only `NodeDb` and
one `Page` of jobs at a time.
"""

from __future__ import annotations

from dashboard.queries.page import Page, bounded
from dashboard.queries.source import NodeDb
from vfl.runtime.ledger_summary import LedgerJob, LedgerLine, count_jobs, sent_jobs, sent_lines

__all__ = ["LedgerJob", "LedgerLine", "ledger_jobs", "ledger_lines", "node_phases"]


def ledger_jobs(db: NodeDb, offset: int = 0, limit: int = 25) -> Page[LedgerJob]:
    """Jobs this party sent anything in, the latest first."""
    offset, limit = bounded(offset, limit)
    with db.connect() as conn:
        total = count_jobs(conn)
        items = tuple(sent_jobs(conn, offset, limit))
    return Page(items, offset, limit, total)


def ledger_lines(db: NodeDb, job_id: str) -> list[LedgerLine]:
    """Every (kind, peer, protection, sealing) this party sent in the job, biggest first."""
    with db.connect() as conn:
        return sent_lines(conn, job_id)


def node_phases(db: NodeDb, job_id: str) -> list[tuple[str, str, str | None]]:
    """(phase, status, error) of the phases this node ran for the job."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT phase, status, error FROM phases WHERE job_id = ? ORDER BY at", (job_id,)
        ).fetchall()
    return [(str(p), str(s), None if e is None else str(e)) for p, s, e in rows]
