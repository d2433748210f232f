"""`vfl party ledger`: what left this party's silo, per job, as plain text lines.

The same numbers as the party dashboard's "What left this silo" page (both read
`vfl/runtime/ledger_summary.py`): each kind of message sent, to which peer, how many, how
many bytes and under which protection and sealing. Never a body, a row ID or a key.
Per kind, `readable` is what the recipient can read of it (`vfl/protocol/content.py`:
plain, public-key, paillier, masked, shares, blinded), and `job` the protection the job ran
under (`train.protection`), recorded on every envelope of the job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from vfl.cli.message_catalog import content
from vfl.errors import ConfigError
from vfl.registry.locations import NODE_MARKER
from vfl.runtime.ledger_summary import LedgerLine, open_read_only, sent_jobs, sent_lines
from vfl.units import size

LEGEND = (
    "readable: what the recipient can read of the message (plain, public-key, paillier = "
    "ciphertexts under the sender's key, masked, shares, blinded = PSI-blinded IDs); "
    "job: the job's train.protection; sealed with: the end-to-end sealing between the "
    "parties (the coordinator relays what it cannot read)"
)
_HEAD = (
    f"{'message':<40} {'to':<14} {'count':>6} {'bytes':>10}  {'readable':<10}  {'job':<10}  "
    "sealed with"
)


def ledger_report(state_dir: Path, job_id: str | None = None, limit: int = 10) -> Iterator[str]:
    """Lines describing what this node sent in `job_id`, or in its `limit` latest jobs."""
    with contextlib.closing(open_read_only(state_dir / NODE_MARKER)) as conn:
        jobs = [job_id] if job_id else [j.job_id for j in sent_jobs(conn, 0, limit)]
        if not jobs:
            yield "this party has sent nothing yet"
        for job in jobs:
            lines = sent_lines(conn, job)
            if not lines and job_id:
                raise ConfigError(
                    f"--job {job_id}: this party sent nothing in that job; "
                    "`vfl party ledger --config party.toml` lists the jobs it took part in"
                )
            yield from job_lines(job, lines)


def job_lines(job_id: str, lines: list[LedgerLine]) -> Iterator[str]:
    peers = sorted({x.peer for x in lines})
    total = sum(x.bytes for x in lines)
    count = sum(x.count for x in lines)
    yield f"job {job_id}: {count} messages, {size(total)} sent to {', '.join(peers)}"
    yield f"  {_HEAD}"
    for x in lines:
        yield (
            f"  {x.kind:<40} {x.peer:<14} {x.count:>6} {size(x.bytes):>10}  "
            f"{content(x.kind):<10}  {x.protection:<10}  {x.sealing}"
        )
