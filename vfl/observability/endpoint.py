"""The /metrics endpoint: prometheus_client's HTTP server over one process's own registry.

Each coordinator and party node owns a `CollectorRegistry` (never the global default), so
two of them in one test process, or a library that registers its own metrics, never mix.
"""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from vfl.config.metrics_config import MetricsConfig
from vfl.errors import ConfigError

log = logging.getLogger(__name__)


class MetricsEndpoint:
    """Serves one registry on [metrics] listen while started; `port` is the bound port."""

    def __init__(self, config: MetricsConfig, registry: CollectorRegistry) -> None:
        self.config = config
        self.registry = registry
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> None:
        if not self.config.enabled or self._server is not None:
            return
        host, port = self.config.host_port()
        try:
            self._server, self._thread = start_http_server(port, host, self.registry)
        except OSError as exc:
            raise ConfigError(
                f"metrics.listen: cannot serve on {self.config.listen!r} ({exc.strerror}); "
                "pick another port or set metrics.enabled = false"
            ) from None
        self.port = int(self._server.server_port)
        log.info("metrics on http://%s:%d/metrics", host, self.port)

    @property
    def url(self) -> str:
        host, _ = self.config.host_port()
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._server = self._thread = None
