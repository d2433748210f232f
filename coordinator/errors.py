"""The one place that turns platform errors into gRPC status codes with a safe message."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import grpc

from vfl.errors import ConfigError, DataValidationError, ProtocolError, VflError

log = logging.getLogger(__name__)
_F = TypeVar("_F", bound=Callable[..., Any])


class AccessDeniedError(VflError):
    """The caller's certificate does not allow this request."""


class NotFoundError(VflError):
    """The job or party named in a request does not exist (or is not visible to the caller)."""


class StateError(VflError):
    """The request does not fit the job's current state (e.g. approving a finished job)."""


class BusyError(VflError):
    """The coordinator is at a configured limit (party streams); the caller retries later."""


class AlreadyConnectedError(VflError):
    """Another node holds the live party stream of this identity."""


class VersionMismatchError(VflError):
    """The party speaks another protocol version (vfl/protocol/version.py)."""


class HelloTimeoutError(VflError):
    """A party stream sent no Hello within limits.hello_timeout_s."""


_CODES: list[tuple[type[VflError], grpc.StatusCode]] = [
    (AccessDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (BusyError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (AlreadyConnectedError, grpc.StatusCode.ALREADY_EXISTS),
    (HelloTimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (VersionMismatchError, grpc.StatusCode.FAILED_PRECONDITION),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (StateError, grpc.StatusCode.FAILED_PRECONDITION),
    (ConfigError, grpc.StatusCode.INVALID_ARGUMENT),
    (DataValidationError, grpc.StatusCode.INVALID_ARGUMENT),
    (ProtocolError, grpc.StatusCode.INVALID_ARGUMENT),
]


def abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    for cls, code in _CODES:
        if isinstance(exc, cls):
            context.abort(code, str(exc))
    log.exception("internal error while serving a request")
    context.abort(grpc.StatusCode.INTERNAL, "internal error; see the coordinator's log")
    raise AssertionError("unreachable")  # context.abort raises


def rpc(method: _F) -> _F:
    """Wrap a unary servicer method so any failure becomes one status and message."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except Exception as exc:  # methods raise VflErrors; they never call context.abort
            abort(context, exc)

    return wrapper  # type: ignore[return-value]
