"""A party's own storage faults, described without its local paths.

What a party reports about its failure reaches the coordinator and its peers; a file
system error's message names the file (`[Errno 28] No space left on device: '/srv/…'`).
The description keeps the kind of fault and drops the path.
"""

from __future__ import annotations

import sqlite3


def describe_local_fault(exc: sqlite3.Error | OSError) -> str:
    """One line: the fault's type and its message, with no file name in it."""
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or 'I/O error'}"
    return f"{type(exc).__name__}: {exc}"
