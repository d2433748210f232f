"""How much `Diagnose.Echo` one caller may use: a certificate is enough to call it, so the
echo must not become a free bandwidth sink or a way to starve the relay's workers.

A fixed window per caller: at most `calls` echoes and `bytes` echoed per `window_s`.
`vfl doctor` uses a few dozen small echoes and about 4 MiB, well inside the defaults.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_ECHO_BYTES = 1 << 20
"""Largest payload of one echo (1 MiB), far below the gRPC message limit."""


@dataclass
class _Window:
    start: float
    calls: int = 0
    bytes: int = 0


class EchoQuota:
    """Per-caller budget of echo calls and bytes in a fixed time window."""

    def __init__(
        self,
        calls: int = 64,
        bytes_per_window: int = 16 << 20,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.calls, self.bytes, self.window_s = calls, bytes_per_window, window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def take(self, caller: str, size: int) -> str | None:
        """Charge one echo of `size` bytes to `caller`; a one-line refusal if over budget."""
        now = self._clock()
        with self._lock:
            if len(self._windows) > 4096:  # forget idle callers; the count stays bounded
                self._windows = {
                    k: w for k, w in self._windows.items() if now - w.start < self.window_s
                }
            window = self._windows.get(caller)
            if window is None or now - window.start >= self.window_s:
                window = self._windows[caller] = _Window(now)
            if window.calls + 1 > self.calls or window.bytes + size > self.bytes:
                return (
                    f"echo quota of {caller} spent ({self.calls} calls, {self.bytes} bytes per "
                    f"{self.window_s:g} s); run `vfl doctor` again later"
                )
            window.calls += 1
            window.bytes += size
            return None
