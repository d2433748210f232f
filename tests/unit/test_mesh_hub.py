"""What only the process simulator's pipe mesh must refuse: a peer posting in another
party's name down its own pipe. Its own channel refuses that (the contract suite checks
it); a broken or hostile peer process writes the pipe directly, so the receiver checks
which pipe an envelope came up."""

from __future__ import annotations

import multiprocessing

import pytest

from vfl.errors import JobAbortedError
from vfl.protocol.envelope import Envelope
from vfl.runtime.mesh_hub import MeshHub, send_whole

JOB = "job-mesh"


def test_an_envelope_in_another_partys_name_fails_the_job_instead_of_being_filed() -> None:
    from_a, to_b = multiprocessing.Pipe()  # a's end, written raw as a broken peer would
    _, to_b_c = multiprocessing.Pipe()
    control = multiprocessing.Pipe()
    hub_b = MeshHub("b", {"a": to_b, "c": to_b_c}, control[1], lambda frame: None)

    send_whole(from_a, Envelope(JOB, "c", "b", "test.Message", "1", b"forged").to_bytes())

    with pytest.raises(JobAbortedError, match="a sent an envelope from c to b"):
        hub_b.channel().recv(JOB, "c", "1", timeout=30)


def test_an_envelope_from_its_own_pipe_is_filed() -> None:
    from_a, to_b = multiprocessing.Pipe()
    control = multiprocessing.Pipe()
    hub_b = MeshHub("b", {"a": to_b}, control[1], lambda frame: None)

    send_whole(from_a, Envelope(JOB, "a", "b", "test.Message", "1", b"x" * 20_000).to_bytes())

    assert hub_b.channel().recv(JOB, "a", "1", timeout=30).body == b"x" * 20_000
