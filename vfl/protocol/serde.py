"""Typed messages <-> protobuf bytes. The only module that touches the `_pb2` body types.

Every message is a frozen dataclass registered with `@message("algorithm.Name", Content.X)`,
which also says what its recipient can read of it (vfl/protocol/content.py). Encoding
walks its fields; decoding checks, for every field a peer sent, that it is expected, of the
declared variant, and that tensors have the declared dtype and rank, a byte length that
matches their shape and a size under the limit. Nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from vfl.errors import ProtocolError
from vfl.protocol.content import Content
from vfl.protocol.types import EncryptedTensor, TensorSpec
from vfl.protocol.v1 import envelope_pb2, tensor_pb2

MAX_TENSOR_BYTES = 1 << 30
"""Largest tensor or ciphertext block a peer may send in one field (1 GiB)."""

_T = TypeVar("_T")
_REGISTRY: dict[str, type[Any]] = {}
_KIND_OF: dict[type[Any], str] = {}
_CONTENT: dict[str, Content] = {}


def message(kind: str, content: Content) -> Callable[[type[_T]], type[_T]]:
    """Register a frozen dataclass as a wire message under a globally unique kind, with
    what its recipient can read of it (`content`, shown per message in the ledger)."""

    def register(cls: type[_T]) -> type[_T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass to be a message")
        if kind in _REGISTRY and _REGISTRY[kind] is not cls:
            raise TypeError(f"message kind {kind!r} registered twice")
        _REGISTRY[kind] = cls
        _KIND_OF[cls] = kind
        _CONTENT[kind] = content
        return cls

    return register


def kind_of(cls: type[Any]) -> str:
    """The wire kind of a registered message class."""
    try:
        return _KIND_OF[cls]
    except KeyError:
        raise TypeError(f"{cls.__name__} is not a registered message") from None


def registered_kinds() -> list[str]:
    """Every kind registered in this process, sorted."""
    return sorted(_REGISTRY)


def content_of(kind: str) -> Content | None:
    """What the recipient of a `kind` message can read; None for a kind this code does
    not know (a ledger row written by another version)."""
    return _CONTENT.get(kind)


def message_class(kind: str) -> type[Any]:
    """The registered class of a wire kind (a message a peer may send)."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ProtocolError(f"unknown message kind {kind!r}") from None


def encode(msg: object) -> bytes:
    """Serialise a registered message to Body bytes."""
    cls = type(msg)
    body = envelope_pb2.Body(kind=kind_of(cls))
    for f in dataclasses.fields(msg):  # type: ignore[arg-type]
        _encode_field(body.fields.add(), f.name, getattr(msg, f.name))
    return body.SerializeToString()


def decode(data: bytes, expected: type[_T]) -> _T:
    """Parse Body bytes into `expected`, checking kind, fields, dtypes, ranks and sizes."""
    kind = kind_of(expected)
    body = envelope_pb2.Body()
    try:
        body.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError or RuntimeError
        raise ProtocolError(f"{kind}: body is not a valid protobuf Body ({exc})") from None
    if body.kind != kind:
        raise ProtocolError(f"expected message {kind}, received {body.kind or '(no kind)'}")
    hints = _hints(expected)
    values: dict[str, Any] = {}
    for field in body.fields:
        if field.name not in hints:
            raise ProtocolError(f"{kind}: unexpected field {field.name!r}")
        if field.name in values:
            raise ProtocolError(f"{kind}: field {field.name!r} sent twice")
        values[field.name] = _decode_field(kind, field, hints[field.name])
    missing = [name for name in hints if name not in values]
    if missing:
        raise ProtocolError(f"{kind}: missing field(s) {', '.join(missing)}")
    return expected(**values)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """Field annotations of a message class, resolved once (get_type_hints is slow)."""
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls, include_extras=True)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _tensor_spec(hint: Any) -> TensorSpec | None:
    if typing.get_origin(hint) is typing.Annotated:
        for meta in hint.__metadata__:
            if isinstance(meta, TensorSpec):
                return meta
    return None


def _encode_field(out: envelope_pb2.Field, name: str, value: object) -> None:
    out.name = name
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        out.tensor.CopyFrom(
            tensor_pb2.Tensor(dtype=arr.dtype.name, shape=arr.shape, data=arr.tobytes())
        )
    elif isinstance(value, EncryptedTensor):
        out.encrypted.CopyFrom(
            tensor_pb2.EncryptedTensor(
                key_fingerprint=value.key_fingerprint,
                exponent=value.exponent,
                shape=value.shape,
                packing=value.packing,
                slots=value.slots,
                slot_bits=value.slot_bits,
                width=value.width,
                ciphertexts=value.ciphertexts,
            )
        )
    elif isinstance(value, bool):
        out.flag = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.float_value = value
    elif isinstance(value, str):
        out.text = value
    elif isinstance(value, bytes):
        out.raw = value
    elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        out.strings.values.extend(value)
    else:
        raise TypeError(f"field {name!r}: cannot encode {type(value).__name__}")


def _decode_field(kind: str, field: envelope_pb2.Field, hint: Any) -> object:
    variant = field.WhichOneof("value")
    where = f"{kind}.{field.name}"
    spec = _tensor_spec(hint)
    if spec is not None:
        if variant != "tensor":
            raise ProtocolError(f"{where}: expected a tensor, received {variant}")
        return _decode_tensor(where, field.tensor, spec)
    expected_variant = _VARIANT_OF.get(hint)
    if expected_variant is None:
        raise TypeError(f"{where}: unsupported field type {hint!r}")
    if variant != expected_variant:
        raise ProtocolError(f"{where}: expected {expected_variant}, received {variant}")
    if variant == "encrypted":
        return _decode_encrypted(where, field.encrypted)
    if variant == "strings":
        return tuple(field.strings.values)
    return getattr(field, variant)


_VARIANT_OF: dict[Any, str] = {
    bool: "flag",
    int: "int_value",
    float: "float_value",
    str: "text",
    bytes: "raw",
    tuple[str, ...]: "strings",
    EncryptedTensor: "encrypted",
}


def _decode_tensor(where: str, t: tensor_pb2.Tensor, spec: TensorSpec) -> np.ndarray:
    if t.dtype != spec.dtype:
        raise ProtocolError(f"{where}: expected dtype {spec.dtype}, received {t.dtype!r}")
    shape = tuple(int(s) for s in t.shape)
    if len(shape) != spec.ndim or any(s < 0 for s in shape):
        raise ProtocolError(f"{where}: expected {spec.ndim} dimensions, received shape {shape}")
    nbytes = math.prod(shape) * spec.numpy_dtype().itemsize
    if nbytes > MAX_TENSOR_BYTES:
        raise ProtocolError(f"{where}: tensor of {nbytes} bytes exceeds {MAX_TENSOR_BYTES}")
    if len(t.data) != nbytes:
        raise ProtocolError(f"{where}: shape {shape} needs {nbytes} bytes, received {len(t.data)}")
    # frombuffer is zero-copy over the protobuf bytes; copy so the array is writable.
    return np.frombuffer(t.data, dtype=spec.numpy_dtype()).reshape(shape).copy()


def _decode_encrypted(where: str, t: tensor_pb2.EncryptedTensor) -> EncryptedTensor:
    shape = tuple(int(s) for s in t.shape)
    if t.width <= 0 or t.slots <= 0 or any(s < 0 for s in shape):
        raise ProtocolError(
            f"{where}: invalid layout (width {t.width}, slots {t.slots}, shape {shape})"
        )
    if len(t.ciphertexts) > MAX_TENSOR_BYTES or len(t.ciphertexts) % t.width:
        raise ProtocolError(
            f"{where}: {len(t.ciphertexts)} ciphertext bytes is not a multiple of width "
            f"{t.width} or exceeds {MAX_TENSOR_BYTES}"
        )
    return EncryptedTensor(
        key_fingerprint=t.key_fingerprint,
        exponent=t.exponent,
        shape=shape,
        packing=t.packing,
        slots=t.slots,
        slot_bits=t.slot_bits,
        width=t.width,
        ciphertexts=t.ciphertexts,
    )
