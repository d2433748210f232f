"""The `[metrics]` table of coordinator.toml and party.toml: the Prometheus endpoint.

    [metrics]
    enabled = true
    listen = "127.0.0.1:9464"

Off unless enabled. When on, it listens on loopback unless told otherwise: the endpoint
has no TLS and no authentication (prometheus_client's plain HTTP server), so an operator
who wants it scraped from another host names that interface on purpose and firewalls it.
What it serves holds counts, bytes, durations and closed-set labels only (docs/operations.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_LISTEN = "127.0.0.1:9464"


class MetricsConfig(BaseModel):
    """The `[metrics]` table: whether and where this process serves /metrics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    """Serve Prometheus metrics over plain HTTP (default off)."""
    listen: str = Field(default=DEFAULT_LISTEN)
    """host:port of the endpoint (default 127.0.0.1:9464); port 0 picks a free one."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"listen = {value!r}: expected host:port, e.g. {DEFAULT_LISTEN!r}")
        return value

    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)
