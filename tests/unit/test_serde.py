"""Messages survive the wire exactly, and anything a peer could send wrong is refused."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vfl.errors import ProtocolError
from vfl.protocol import serde
from vfl.protocol.content import Content
from vfl.protocol.envelope import Envelope
from vfl.protocol.types import EncryptedTensor, TensorSpec
from vfl.protocol.v1 import envelope_pb2, tensor_pb2


@serde.message("test.Everything", Content.PLAIN)
@dataclass(frozen=True)
class Everything:
    matrix: Annotated[np.ndarray, TensorSpec("float32", ndim=2)]
    count: int
    ratio: float
    name: str
    blob: bytes
    flag: bool
    ids: tuple[str, ...]
    sealed: EncryptedTensor


@serde.message("test.Small", Content.PLAIN)
@dataclass(frozen=True)
class Small:
    values: Annotated[np.ndarray, TensorSpec("float32", ndim=2)]


matrices = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=6),
    elements=st.floats(-1e6, 1e6, width=32),
)
encrypted = st.builds(
    lambda n, w: EncryptedTensor(b"f" * 32, 40, (n,), "batch", 3, 42, w, bytes(range(w)) * n),
    st.integers(0, 5),
    st.integers(1, 64),
)


@given(
    matrix=matrices,
    count=st.integers(-(2**62), 2**62),
    ratio=st.floats(allow_nan=False),
    name=st.text(),
    blob=st.binary(),
    flag=st.booleans(),
    ids=st.lists(st.text()).map(tuple),
    sealed=encrypted,
)
def test_every_field_type_round_trips(
    matrix: np.ndarray,
    count: int,
    ratio: float,
    name: str,
    blob: bytes,
    flag: bool,
    ids: tuple[str, ...],
    sealed: EncryptedTensor,
) -> None:
    msg = Everything(matrix, count, ratio, name, blob, flag, ids, sealed)
    back = serde.decode(serde.encode(msg), Everything)
    np.testing.assert_array_equal(back.matrix, matrix)
    assert back.matrix.dtype == np.float32
    assert (back.count, back.ratio, back.name, back.blob, back.flag, back.ids) == (
        count,
        ratio,
        name,
        blob,
        flag,
        ids,
    )
    assert back.sealed == sealed


def _body(*fields: envelope_pb2.Field, kind: str = "test.Small") -> bytes:
    body = envelope_pb2.Body(kind=kind)
    body.fields.extend(fields)
    return body.SerializeToString()


def _tensor(
    dtype: str = "float32", shape: tuple[int, ...] = (2, 2), data: bytes | None = None
) -> envelope_pb2.Field:
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize if data is None else 0
    return envelope_pb2.Field(
        name="values",
        tensor=tensor_pb2.Tensor(
            dtype=dtype, shape=shape, data=data if data is not None else bytes(nbytes)
        ),
    )


def test_wrong_kind_is_refused() -> None:
    with pytest.raises(ProtocolError, match=r"expected message test\.Small, received test\.Other"):
        serde.decode(_body(_tensor(), kind="test.Other"), Small)


def test_wrong_dtype_is_refused() -> None:
    with pytest.raises(ProtocolError, match=r"test\.Small\.values: expected dtype float32"):
        serde.decode(_body(_tensor("float64")), Small)


def test_wrong_rank_is_refused() -> None:
    with pytest.raises(ProtocolError, match="expected 2 dimensions, received shape"):
        serde.decode(_body(_tensor(shape=(4,))), Small)


def test_byte_length_must_match_shape() -> None:
    with pytest.raises(ProtocolError, match=r"shape \(2, 2\) needs 16 bytes, received 3"):
        serde.decode(_body(_tensor(data=b"abc")), Small)


def test_oversized_tensor_is_refused_before_allocation() -> None:
    with pytest.raises(ProtocolError, match="exceeds"):
        serde.decode(_body(_tensor(shape=(1 << 20, 1 << 20), data=b"")), Small)


def test_unexpected_missing_and_repeated_fields() -> None:
    extra = envelope_pb2.Field(name="secret", int_value=1)
    with pytest.raises(ProtocolError, match="unexpected field 'secret'"):
        serde.decode(_body(_tensor(), extra), Small)
    with pytest.raises(ProtocolError, match="missing field"):
        serde.decode(_body(), Small)
    with pytest.raises(ProtocolError, match="sent twice"):
        serde.decode(_body(_tensor(), _tensor()), Small)


def test_wrong_variant_is_refused() -> None:
    with pytest.raises(ProtocolError, match="expected a tensor, received int_value"):
        serde.decode(_body(envelope_pb2.Field(name="values", int_value=3)), Small)


@given(st.binary(max_size=200))
def test_garbage_bytes_raise_protocol_error_or_decode_cleanly(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        serde.decode(data, Small)


def test_envelope_round_trip_and_header() -> None:
    env = Envelope("job-1", "bank", "shop", "test.Small", "train/epoch=0#3", b"\x00\x01")
    assert Envelope.from_bytes(env.to_bytes()) == env
    assert b"job-1" in env.header() and b"\x00\x01" not in env.header()


def test_registering_a_kind_twice_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="registered twice"):

        @serde.message("test.Small", Content.PLAIN)
        @dataclass(frozen=True)
        class Clash:
            x: int
