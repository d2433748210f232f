"""The transport spu's blackbox link talks to: HTTP push/pop on 127.0.0.1.

spu's link (yacl `BrpcBlackBoxLink`) POSTs each message to `/v1/interconn/chan/push` with
its topic `<self>-<peer>` in the header `x-ptp-topic`, and long-polls
`/v1/interconn/chan/pop?timeout=N` for the topic `<peer>-<self>`; every reply is a
`TransportOutbound` (psi/rr22/wire.py). Pushes go to `send` (the session turns them into
frames on the party channel); pops are served from the peer's `FrameBuffer`. The shim
listens on loopback only and serves one spu child talking to one peer; it answers only
requests carrying the session's random token (spu sends `config.token` as `x-ptp-token`),
so another local process can neither inject nor take frames.

spu gives up on a pop one second after the wait it asked for (brpc's RPC timeout) and
closes the connection; it then pops again. A reply written after that is lost with the
frame in it, and spu's link waits forever for a message it will never see (seen in
deployment: a party node stalled for seconds, there by SIGSTOP, on a loaded host by the
scheduler). So a frame taken for a pop whose client has gone is given back to the buffer
for the next pop, and a push whose client has gone is not forwarded (spu sends it again).
"""

from __future__ import annotations

import hmac
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from psi.rr22.frames import FrameBuffer
from psi.rr22.messages import MAX_FRAME_BYTES
from psi.rr22.wire import TransportCode, TransportOutbound

PREFIX = "/v1/interconn/chan/"
MAX_POP_WAIT_S = 10.0
"""Longest a pop is held open; spu asks for its own timeout and polls again."""


def _never() -> bool:
    return False


class Shim:
    """A loopback HTTP server for one spu child: pushes to `send`, pops from `inbound`."""

    def __init__(
        self,
        me: str,
        peer: str,
        send: Callable[[bytes], None],
        inbound: FrameBuffer,
        token: str | None = None,
    ) -> None:
        self.token = token or secrets.token_hex(16)
        self.push_topic = f"{me}-{peer}"
        self.pop_topic = f"{peer}-{me}"
        self.send = send
        self.inbound = inbound
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.shim = self  # type: ignore[attr-defined]  # read back by _Handler
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Shim:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def handle(
        self, path: str, topic: str, token: str, body: bytes, gone: Callable[[], bool] = _never
    ) -> TransportOutbound | None:
        """One request of the link: what to answer, or None when `gone()` says its client
        stopped waiting (no I/O here, so tests call it too)."""
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return _bad("wrong or missing x-ptp-token")
        url = urlsplit(path)
        if url.path == PREFIX + "push":
            return self._push(topic, body, gone)
        if url.path == PREFIX + "pop":
            return self._pop(topic, url.query, gone)
        return _bad(f"unknown path {url.path!r}")

    def _push(self, topic: str, body: bytes, gone: Callable[[], bool]) -> TransportOutbound | None:
        if topic != self.push_topic:
            return _bad(f"push to topic {topic!r}, expected {self.push_topic!r}")
        if gone():
            return None
        self.send(body)
        return TransportOutbound(TransportCode.OK)

    def _pop(self, topic: str, query: str, gone: Callable[[], bool]) -> TransportOutbound | None:
        if topic != self.pop_topic:
            return _bad(f"pop of topic {topic!r}, expected {self.pop_topic!r}")
        wait = _seconds(parse_qs(query).get("timeout", ["1"])[0])
        data = self.inbound.take(min(wait, MAX_POP_WAIT_S))
        if data is None:
            return TransportOutbound(TransportCode.NOT_FOUND)
        if gone():
            self.inbound.give_back(data)
            return None
        return TransportOutbound(TransportCode.OK, data)


def _bad(why: str) -> TransportOutbound:
    return TransportOutbound(TransportCode.BAD_REQUEST, message=why)


def _seconds(text: str) -> float:
    try:
        return max(float(text), 0.0)
    except ValueError:
        return 1.0


class _Server(ThreadingHTTPServer):
    """Threads per connection; a child that dies mid-request is not an error to print."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    """Keeps connections open (spu's brpc channel reuses one) and answers each POST."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Without it every small reply waits for the peer's delayed ACK (~40 ms a round).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        shim: Shim = self.server.shim  # type: ignore[attr-defined]
        size = int(self.headers.get("Content-Length") or 0)
        reply: TransportOutbound | None
        if size > MAX_FRAME_BYTES:
            reply = TransportOutbound(
                TransportCode.TOO_LARGE, message=f"{size} bytes, at most {MAX_FRAME_BYTES}"
            )
            self.close_connection = True
        else:
            body = self.rfile.read(size)
            reply = shim.handle(
                self.path,
                self.headers.get("x-ptp-topic", ""),
                self.headers.get("x-ptp-token", ""),
                body,
                self._client_gone,
            )
        if reply is None:
            self.close_connection = True
            return
        data = reply.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _client_gone(self) -> bool:
        """Whether spu closed this connection (it does when it gives up on a request):
        the request was read whole, so an end of stream now means the client left."""
        connection: socket.socket = self.connection
        try:
            return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the default writes every request to stderr."""
