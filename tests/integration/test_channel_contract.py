"""One contract, three channels: what programs may rely on, whichever transport runs them.

Every test runs against the in-memory hub (simulation), the pipe mesh of the process
simulator (`simulate --backend processes`; both ends in this process, the hubs cannot tell),
the Ray hub on a local Ray instance (`simulate --backend ray`; skipped without the `ray`
extra) and the gRPC channel
through a real coordinator on 127.0.0.1 (deployment), each without and with end-to-end
sealing: sealing must not change anything a program sees.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.harness import add_running_job, connect_party, start_coordinator
from tests.sealing_harness import federation
from vfl.errors import JobAbortedError, PeerUnavailableError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.channel import Channel
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.mesh_hub import MeshHub

JOB = "job-contract"


@dataclass
class Net:
    a: Channel
    b: Channel
    abort: Callable[[], object]


_RAY = [pytest.param(p, marks=pytest.mark.ray) for p in ("ray", "ray_sealed")]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance for the module's Ray cases, started only if one runs."""
    ray = pytest.importorskip("ray", reason="the `ray` extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture(
    params=["in_memory", "in_memory_sealed", "mesh", "mesh_sealed", "grpc", "grpc_sealed", *_RAY]
)
def net(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Net]:
    transport = str(request.param).removesuffix("_sealed")
    seal = "_sealed" in str(request.param)
    fed = federation(tmp_path, ("a", "b")) if seal else None
    sa = fed.admitted("a", (JOB,)) if fed else None
    sb = fed.admitted("b", (JOB,)) if fed else None
    if transport == "in_memory":
        hub = InMemoryHub()
        yield Net(hub.channel("a", sa), hub.channel("b", sb), lambda: hub.abort(JOB, "test abort"))
        return
    if transport == "mesh":
        ab, ba = multiprocessing.Pipe()
        control = [multiprocessing.Pipe() for _ in "ab"]  # the parent's ends stay open
        hub_a = MeshHub("a", {"b": ab}, control[0][1], lambda frame: None)
        hub_b = MeshHub("b", {"a": ba}, control[1][1], lambda frame: None)

        def abort_both() -> None:  # as the parent does: an ABORT frame to each process
            hub_a.abort(JOB, "test abort")
            hub_b.abort(JOB, "test abort")

        yield Net(hub_a.channel(sa), hub_b.channel(sb), abort_both)
        return
    if transport == "ray":
        request.getfixturevalue("local_ray")
        from vfl.runtime.ray_hub import RayHub  # noqa: PLC0415 (only with the ray extra)

        ray_hub = RayHub.start(participants=2)
        via_ray = (ray_hub.channel("a", sa), ray_hub.channel("b", sb))
        yield Net(*via_ray, lambda: ray_hub.abort(JOB, "test abort"))
        ray_hub.stop()
        return
    server = start_coordinator(tmp_path)
    add_running_job(server, ("a", "b"), JOB)
    a = connect_party(server.address, "a", tmp_path, sealer=sa)
    b = connect_party(server.address, "b", tmp_path, sealer=sb)
    yield Net(a.channel, b.channel, lambda: server.lifecycle.cancel(JOB, "test"))
    a.close()
    b.close()
    server.stop(0)


def _env(seq: str, body: bytes = b"body", src: str = "a", dst: str = "b") -> Envelope:
    return Envelope(JOB, src, dst, "test.Message", seq, body)


def test_envelope_arrives_intact(net: Net) -> None:
    net.a.send(_env("s#0", b"\x00\x01hello"))
    assert net.b.recv(JOB, "a", "s#0", timeout=30) == _env("s#0", b"\x00\x01hello")


def test_envelopes_are_matched_by_seq_not_arrival_order(net: Net) -> None:
    net.a.send(_env("s#0", b"first"))
    net.a.send(_env("s#1", b"second"))
    assert net.b.recv(JOB, "a", "s#1", timeout=30).body == b"second"
    assert net.b.recv(JOB, "a", "s#0", timeout=30).body == b"first"


def test_duplicate_delivery_is_received_once(net: Net) -> None:
    net.a.send(_env("s#0", b"once"))
    net.a.send(_env("s#0", b"once"))
    assert net.b.recv(JOB, "a", "s#0", timeout=30).body == b"once"
    net.a.send(_env("s#0", b"once"))  # a resend after it was received
    net.a.send(_env("s#1", b"next"))
    assert net.b.recv(JOB, "a", "s#1", timeout=30).body == b"next"
    with pytest.raises(PeerUnavailableError):
        net.b.recv(JOB, "a", "s#0", timeout=0.5)


def test_both_directions_carry_traffic(net: Net) -> None:
    net.b.send(_env("r#0", b"reply", src="b", dst="a"))
    assert net.a.recv(JOB, "b", "r#0", timeout=30).body == b"reply"


def test_body_larger_than_a_grpc_message_arrives_whole(net: Net) -> None:
    body = bytes(range(256)) * (6 * 4096 + 7)  # ~6 MiB, over gRPC's 4 MiB default
    net.a.send(_env("big#0", body))
    assert net.b.recv(JOB, "a", "big#0", timeout=60).body == body


def test_missing_message_times_out_with_peer_unavailable(net: Net) -> None:
    with pytest.raises(PeerUnavailableError, match="no message s#9 from a"):
        net.b.recv(JOB, "a", "s#9", timeout=0.3)


def test_abort_wakes_a_waiting_recv(net: Net) -> None:
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            net.b.recv(JOB, "a", "never#0", timeout=120)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    net.abort()
    thread.join(60)
    assert len(errors) == 1 and isinstance(errors[0], JobAbortedError)


def test_sending_as_another_party_is_refused(net: Net) -> None:
    with pytest.raises(ProtocolError, match="cannot send as b"):
        net.a.send(_env("s#0", src="b", dst="a"))
