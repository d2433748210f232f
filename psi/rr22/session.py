"""One pairwise RR22 run: spu in a child process, its traffic over a `PeerLink`.

The party process starts the shim (psi/rr22/shim.py) and the child, then moves messages
both ways: each push becomes a `Frame` to the peer, each frame from the peer waits in a
`FrameBuffer` for spu's pop. When its child has finished, each side sends an end frame
and waits for the peer's, so neither leaves frames behind on the channel. The child's
files (input, output, spu's temp and trace files, `sort`'s spill) live in a folder of the
job's workspace that is removed afterwards; only a failed child's log is kept.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from psi.rr22.child import RESULT_PREFIX, ChildConfig
from psi.rr22.frames import FrameBuffer
from psi.rr22.keys import read_keys, sorted_keys, write_keys
from psi.rr22.messages import Frame
from psi.rr22.shim import Shim
from vfl.errors import PeerUnavailableError, ProtocolError, VflError
from vfl.runtime.context import PartyContext

LINK_IDS = ("p0", "p1")
"""spu's party ids: rank 0 (L, spu's receiver) and rank 1 (F), never our party names."""
MAX_PAYLOAD = 2 << 20
POLL_S = 0.2


class PeerLink(Protocol):
    """Frames to and from one peer (the party channel, or a test's fake relay)."""

    def send(self, frame: Frame) -> None: ...

    def recv(self, timeout: float) -> Frame:
        """The next frame; PeerUnavailableError after `timeout` seconds (JobAbortedError
        once the job is aborted)."""
        ...


class ChannelLink:
    """Frames over the party's channel, numbered in a scope of their own (`rr22=<F>`), so
    the align messages after them keep their sequence numbers."""

    def __init__(self, ctx: PartyContext, peer: str, feature_holder: str) -> None:
        self._ctx = ctx.scoped(rr22=feature_holder)
        self._peer = peer

    def send(self, frame: Frame) -> None:
        self._ctx.send(self._peer, frame)

    def recv(self, timeout: float) -> Frame:
        return self._ctx.recv(self._peer, Frame, timeout)


@dataclass(frozen=True)
class Session:
    """Where and how one pairwise run happens."""

    link: PeerLink
    peer: str
    rank: int
    fastpsi: Path
    workspace: Path
    timeout_s: float


def run_session(session: Session, keys: NDArray[np.uint8], limit: int) -> NDArray[np.uint8]:
    """The pairwise intersection as keys sorted bytewise (each key one of `keys`); at most
    `limit` (the smaller set), and none without spu when a side is empty (spu fails then:
    both sides know both sizes from `rr22.SetSize`)."""
    if limit == 0:
        return np.zeros((0, keys.shape[1]), dtype=np.uint8)
    work = Path(tempfile.mkdtemp(prefix="rr22-", dir=session.workspace))
    try:
        write_keys(work / "input.csv", keys)
        _exchange(session, work)
        found = read_keys(work / "output.csv", limit)
        _check_count(session, work / "child.out", len(found))
        return sorted_keys(found)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_count(session: Session, out: Path, rows: int) -> None:
    """spu's own count must match the rows of its output file."""
    lines = out.read_text(encoding="utf-8", errors="replace").splitlines()
    reports = [json.loads(x[len(RESULT_PREFIX) :]) for x in lines if x.startswith(RESULT_PREFIX)]
    if not reports or reports[-1].get("intersection") != rows:
        raise ProtocolError(
            f"rr22 with {session.peer}: spu reported {reports[-1:] or 'no result'} but its "
            f"output holds {rows} rows"
        )


def _exchange(session: Session, work: Path) -> None:
    me, peer = LINK_IDS[session.rank], LINK_IDS[1 - session.rank]
    inbound = FrameBuffer(session.peer)
    pushed: queue.Queue[bytes] = queue.Queue(maxsize=64)  # spu waits when the relay lags
    receiver = _Receiver(session.link, inbound, session.timeout_s)
    outbox = _Outbox(session.link)
    with Shim(me, peer, pushed.put, inbound) as shim:
        child = _start_child(session, work, shim.url, shim.token)
        receiver.start()
        try:
            _pump(session, child, pushed, receiver, outbox)
        except BaseException:
            child.kill()
            child.wait()
            receiver.stop()
            outbox.end(failed=True)  # so the peer stops its child now, not at its timeout
            raise
        if child.returncode != 0:
            receiver.stop()
            outbox.end(failed=True)
            _fail(session, child.returncode, work / "child.log")
        outbox.end(failed=False)
        deadline = time.monotonic() + session.timeout_s
        while not inbound.wait_done(POLL_S):  # in slices: an abort must end the wait too
            receiver.raise_error()
            if time.monotonic() > deadline:
                raise PeerUnavailableError(
                    f"rr22 with {session.peer}: its side did not finish within "
                    f"{session.timeout_s:.0f} s of ours; raise train.timeout_s or check the peer"
                )
        receiver.stop()
        receiver.raise_error()


class _Outbox:
    """Numbers the frames this side sends; the end frame carries their count."""

    def __init__(self, link: PeerLink) -> None:
        self._link = link
        self._sent = 0
        self._ended = False

    def send(self, data: bytes) -> None:
        self._link.send(Frame(self._sent, data, end=False))
        self._sent += 1

    def end(self, failed: bool) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            self._link.send(Frame(self._sent, b"", end=True, failed=failed))
        except VflError:
            if not failed:
                raise  # on a failure the first error is the one to report


def _start_child(session: Session, work: Path, url: str, token: str) -> subprocess.Popen[bytes]:
    config = ChildConfig(
        fastpsi=str(session.fastpsi),
        rank=session.rank,
        parties=LINK_IDS,
        input_csv=str(work / "input.csv"),
        output_csv=str(work / "output.csv"),
        recv_timeout_ms=int(session.timeout_s * 1000),
        max_payload=MAX_PAYLOAD,
    )
    (work / "child.json").write_text(config.to_json(), encoding="utf-8")
    env = {
        **os.environ,
        "TMPDIR": str(work),  # spu's temp dirs, perfetto traces and `sort`'s spill files
        "system.transport": url,
        "config.trace_id": work.name,
        "config.token": token,
        "config.session_id": work.name,
        **{f"config.inst_id.{p}": p for p in LINK_IDS},
    }
    with (work / "child.log").open("wb") as log, (work / "child.out").open("wb") as out:
        return subprocess.Popen(  # noqa: S603  # our own module, our own interpreter
            [sys.executable, "-m", "psi.rr22.child", str(work / "child.json")],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=log,
        )


def _pump(
    session: Session,
    child: subprocess.Popen[bytes],
    pushed: queue.Queue[bytes],
    receiver: _Receiver,
    outbox: _Outbox,
) -> None:
    """Send what spu pushes until the child exits."""
    while True:
        try:
            data = pushed.get(timeout=0.05)
        except queue.Empty:
            receiver.raise_error()
            if receiver.peer_failed():
                raise PeerUnavailableError(
                    f"rr22 with {session.peer}: its spu child process failed; see its log"
                ) from None
            if child.poll() is not None and pushed.empty():
                return
            continue
        outbox.send(data)


def _fail(session: Session, code: int, log: Path) -> None:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    ours = [line for line in lines if line.startswith("spu PSI failed:")]
    why = ours[-1] if ours else f"killed by signal {-code}" if code < 0 else "no reason given"
    kept = session.workspace / f"rr22-child-{session.peer}.log"
    shutil.copyfile(log, kept)
    raise ProtocolError(
        f"rr22 with {session.peer}: the spu child process exited with code {code} ({why}); "
        f"its log is kept in {kept}"
    )


class _Receiver:
    """A thread taking the peer's frames off the link into the buffer while spu has room,
    until the peer's end frame. It blocks in `recv` (an abort of the job wakes it, which a
    poll would not report); after a failure on our side it is left to that timeout or
    abort, as a daemon, since nothing reads the scope's later numbers."""

    def __init__(self, link: PeerLink, inbound: FrameBuffer, timeout: float) -> None:
        self._link = link
        self._inbound = inbound
        self._timeout = timeout
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and not self._inbound.done:
                if not self._inbound.wait_room(POLL_S):
                    continue
                self._inbound.put(self._link.recv(self._timeout))
        except BaseException as exc:  # handed to the party's thread by raise_error
            self._error = exc

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * POLL_S)

    def peer_failed(self) -> bool:
        return self._inbound.done and self._inbound.peer_failed

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error
