"""The RR22 transport without spu: the reply codec, the frame buffer, and two shims joined
by a relay that delays, duplicates and reorders, driven over real HTTP as spu's link
drives them."""

from __future__ import annotations

import random
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parties.programs import program_for_role
from psi.rr22.frames import FrameBuffer
from psi.rr22.messages import MAX_FRAME_BYTES, Frame
from psi.rr22.native import ENV_DIR
from psi.rr22.shim import PREFIX, Shim
from psi.rr22.wire import TransportCode, TransportOutbound
from tests.unit.psi.harness import job
from vfl.errors import ConfigError, ProtocolError


@given(
    st.sampled_from(list(TransportCode)),
    st.binary(max_size=300),
    st.text(max_size=40),
)
def test_outbound_reply_round_trips(code: TransportCode, payload: bytes, text: str) -> None:
    reply = TransportOutbound(code, payload, text)
    assert TransportOutbound.decode(reply.encode()) == reply


@given(st.lists(st.binary(max_size=8), max_size=30), st.randoms(use_true_random=False))
def test_frame_buffer_releases_each_frame_once_in_order(
    messages: list[bytes], rnd: random.Random
) -> None:
    frames = [Frame(i, m, end=False) for i, m in enumerate(messages)]
    frames.append(Frame(len(messages), b"", end=True))
    delivered = frames + rnd.sample(frames, k=len(frames) // 2)  # duplicates
    rnd.shuffle(delivered)  # reordered, end frame included
    buffer = FrameBuffer("F", max_ahead=len(delivered) + 1)
    for frame in delivered:
        buffer.put(frame)
    out = []
    while (data := buffer.take(0)) is not None:
        out.append(data)
    assert out == messages
    assert buffer.done


def test_frame_buffer_refuses_a_frame_too_far_ahead() -> None:
    buffer = FrameBuffer("F", max_ahead=4)
    with pytest.raises(ProtocolError, match=r"rr22.Frame 4 from F: 4 frames ahead"):
        buffer.put(Frame(4, b"x", end=False))


def test_frame_buffer_refuses_an_oversized_frame() -> None:
    with pytest.raises(ProtocolError, match="more than"):
        FrameBuffer("F").put(Frame(0, bytes(MAX_FRAME_BYTES + 1), end=False))


class _LossyRelay:
    """Carries frames from one shim to the other late, twice and out of order."""

    def __init__(self, into: FrameBuffer, seed: int) -> None:
        self._into = into
        self._rnd = random.Random(seed)
        self._held: list[Frame] = []
        self._sent = 0
        self._lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self._lock:
            self._held.append(Frame(self._sent, data, end=False))
            self._sent += 1
            if self._rnd.random() < 0.3:
                self._held.append(self._held[-1])  # duplicated
            if len(self._held) >= 3 or self._rnd.random() < 0.2:
                self.flush()

    def flush(self) -> None:
        self._rnd.shuffle(self._held)
        for frame in self._held:
            time.sleep(self._rnd.random() * 0.002)  # delayed
            self._into.put(frame)
        self._held = []


TOKEN = "t0k3n"


def _post(url: str, topic: str, body: bytes = b"", token: str = TOKEN) -> TransportOutbound:
    headers = {"x-ptp-topic": topic, "x-ptp-token": token}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:  # loopback only
        return TransportOutbound.decode(reply.read())


def test_shims_carry_spu_messages_in_order_through_a_lossy_relay() -> None:
    into_b = FrameBuffer("A", max_ahead=1000)
    relay = _LossyRelay(into_b, seed=7)
    messages = [bytes([i % 251]) * (1 + i * 37 % 5000) for i in range(120)]
    with (
        Shim("p0", "p1", relay.send, FrameBuffer("B"), TOKEN) as a,
        Shim("p1", "p0", lambda _: None, into_b, TOKEN) as b,
    ):
        for data in messages:
            assert _post(a.url + PREFIX + "push", "p0-p1", data).code is TransportCode.OK
        relay.flush()
        received = []
        while (reply := _post(b.url + PREFIX + "pop?timeout=0", "p0-p1")).payload:
            assert reply.code is TransportCode.OK
            received.append(reply.payload)
        assert reply.code is TransportCode.NOT_FOUND
    assert received == messages


def test_shim_refuses_a_push_on_another_topic() -> None:
    with Shim("p0", "p1", lambda _: None, FrameBuffer("B"), TOKEN) as shim:
        reply = _post(shim.url + PREFIX + "push", "p1-p0", b"x")
    assert reply.code is TransportCode.BAD_REQUEST
    assert "expected 'p0-p1'" in reply.message


def test_shim_answers_no_other_local_process() -> None:
    pushed: list[bytes] = []
    inbound = FrameBuffer("B")
    inbound.put(Frame(0, b"secret frame", end=False))
    with Shim("p0", "p1", pushed.append, inbound, TOKEN) as shim:
        push = _post(shim.url + PREFIX + "push", "p0-p1", b"forged", token="guess")
        pop = _post(shim.url + PREFIX + "pop?timeout=0", "p1-p0", token="")
    assert (push.code, pop.code) == (TransportCode.BAD_REQUEST, TransportCode.BAD_REQUEST)
    assert pushed == [] and pop.payload == b""
    assert inbound.take(0) == b"secret frame"


def test_rr22_spec_is_refused_in_one_line_without_spu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    spec = job(["bank", "shop"], protocol="rr22")
    with pytest.raises(ConfigError, match=r"make fastpsi") as caught:
        program_for_role(spec, "align", "label_holder")
    assert "\n" not in str(caught.value)


def _pop_then_hang_up(url: str, after_s: float) -> None:
    """A pop as spu's link sends it, given up (connection closed) after `after_s`."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(
            f"POST {PREFIX}pop?timeout=5 HTTP/1.1\r\nHost: {host}\r\nx-ptp-topic: p1-p0\r\n"
            f"x-ptp-token: {TOKEN}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        time.sleep(after_s)


def test_a_frame_taken_for_a_pop_spu_gave_up_on_goes_to_the_next_pop() -> None:
    """spu closes a pop it stopped waiting for; a frame arriving then must not go to that
    dead connection (seen in deployment: lost, and both spu children waited forever)."""
    inbound = FrameBuffer("B")
    with Shim("p0", "p1", lambda _: None, inbound, TOKEN) as shim:
        _pop_then_hang_up(shim.url, after_s=0.3)  # the shim now holds the pop open
        time.sleep(0.2)
        inbound.put(Frame(0, b"frame 0", end=False))
        time.sleep(0.3)  # the held pop takes it, finds its client gone
        reply = _post(shim.url + PREFIX + "pop?timeout=1", "p1-p0")
    assert (reply.code, reply.payload) == (TransportCode.OK, b"frame 0")


def test_a_push_spu_gave_up_on_is_not_forwarded() -> None:
    pushed: list[bytes] = []
    with Shim("p0", "p1", pushed.append, FrameBuffer("B"), TOKEN) as shim:
        assert shim.handle(PREFIX + "push", "p0-p1", TOKEN, b"x", lambda: True) is None
        reply = shim.handle(PREFIX + "push", "p0-p1", TOKEN, b"y")
    assert reply == TransportOutbound(TransportCode.OK)
    assert pushed == [b"y"]
