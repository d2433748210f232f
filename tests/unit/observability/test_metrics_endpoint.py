"""The [metrics] table and the endpoint it starts: off by default, loopback by default
when on, a real HTTP scrape of this process's own registry, a clear error on a taken port."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from vfl.config.coordinator_config import CoordinatorConfig
from vfl.config.metrics_config import MetricsConfig
from vfl.config.party_config import PartyConfig
from vfl.errors import ConfigError
from vfl.observability.endpoint import MetricsEndpoint


def test_metrics_are_off_by_default_and_loopback_when_on() -> None:
    coordinator = CoordinatorConfig(insecure=True)
    party = PartyConfig(name="bank", coordinator="127.0.0.1:1", insecure=True)
    for config in (coordinator.metrics, party.metrics):
        assert not config.enabled
        assert config.host_port() == ("127.0.0.1", 9464)
    on = CoordinatorConfig.model_validate(
        {"insecure": True, "metrics": {"enabled": True, "listen": "127.0.0.1:0"}}
    )
    assert on.metrics.enabled


@pytest.mark.parametrize("listen", ["9464", "host:", "host:port", ":9464", "h:70000"])
def test_a_bad_listen_address_is_refused(listen: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        MetricsConfig(enabled=True, listen=listen)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        MetricsConfig.model_validate({"enabled": True, "port": 1})


def test_a_disabled_endpoint_serves_nothing() -> None:
    endpoint = MetricsEndpoint(MetricsConfig(), CollectorRegistry())
    endpoint.start()
    assert endpoint.port == 0
    endpoint.stop()


def test_the_endpoint_serves_its_own_registry_over_http() -> None:
    registry = CollectorRegistry()
    Counter("vfl_test_things", "things", registry=registry).inc(3)
    endpoint = MetricsEndpoint(MetricsConfig(enabled=True, listen="127.0.0.1:0"), registry)
    endpoint.start()
    try:
        with urllib.request.urlopen(endpoint.url, timeout=10) as response:
            text = response.read().decode()
    finally:
        endpoint.stop()
    assert "vfl_test_things_total 3.0" in text
    assert "python_gc" not in text  # not the global default registry


def test_a_taken_port_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = MetricsConfig(enabled=True, listen=f"127.0.0.1:{port}")
        with pytest.raises(ConfigError, match=r"metrics\.listen"):
            MetricsEndpoint(config, CollectorRegistry()).start()
