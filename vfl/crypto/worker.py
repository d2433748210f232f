"""A Paillier worker process: `python -m vfl.crypto.worker`, fed tasks over its stdin.

Started by `WorkerPool` as a plain subprocess rather than by multiprocessing's spawn,
which re-imports the parent's `__main__`: a user script without an
`if __name__ == "__main__":` guard would then start training again inside every worker.
Here nothing but this module and the task's module are imported.

Frames are length-prefixed pickles between the party and its own child process, never
bytes from a peer. A task names its function by module and name; only functions of the
packages named on the command line are accepted (`vfl.crypto` without arguments; the PSI
pool passes `psi.`). A task's VflError comes back as itself, so a peer's malformed input
is still reported as the ProtocolError it is.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import struct
import sys
from collections.abc import Callable
from typing import IO, Any

from vfl.errors import VflError

_LEN = struct.Struct(">Q")
ALLOWED_PREFIX = "vfl.crypto."


def write_frame(out: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> Any:
    """The next object, or None at end of stream."""
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (size,) = _LEN.unpack(head)
    data = inp.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # noqa: S301 - our own parent process, see module docstring


def resolve(
    module: str, name: str, allowed: tuple[str, ...] = (ALLOWED_PREFIX,)
) -> Callable[..., Any]:
    if not module.startswith(allowed):
        raise ValueError(f"worker task {module}.{name} is outside {', '.join(allowed)}")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn


def main() -> None:
    # Frames get a private copy of fd 1; fd 1 itself then points at stderr, so anything an
    # imported library prints (from Python or C) cannot corrupt the frame stream.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    allowed = tuple(sys.argv[1:]) or (ALLOWED_PREFIX,)
    while (task := read_frame(inp)) is not None:
        module, name, args, kwargs = task
        try:
            write_frame(out, (True, resolve(module, name, allowed)(*args, **kwargs), None))
        except Exception as exc:  # reported to the parent, which raises it
            _write_failure(out, exc)


def _write_failure(out: IO[bytes], exc: Exception) -> None:
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, VflError):
        with contextlib.suppress(Exception):  # an unpicklable error travels as its message
            write_frame(out, (False, message, exc))
            return
    write_frame(out, (False, message, None))


if __name__ == "__main__":
    main()
