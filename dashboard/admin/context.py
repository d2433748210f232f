"""The admin view's handles: the read-only store and the admin API client, made once per
server process and shared by every session (Streamlit's resource cache)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard.queries import CoordinatorDb
from dashboard.settings import DashboardSettings
from vfl.config.coordinator_config import CoordinatorConfig, load_coordinator_config
from vfl.remote import CoordinatorClient, connect


@dataclass(frozen=True)
class Admin:
    settings: DashboardSettings
    config: CoordinatorConfig
    db: CoordinatorDb

    @property
    def certs(self) -> Path | None:
        if self.settings.certs:
            return Path(self.settings.certs)
        return self.config.tls.ca.parent if self.config.tls is not None else None

    @property
    def address(self) -> str:
        if self.settings.coordinator:
            return self.settings.coordinator
        host, port = self.config.listen.rsplit(":", 1)
        return f"{'127.0.0.1' if host in ('0.0.0.0', '::', '[::]') else host}:{port}"  # noqa: S104 (a listen-all address, not a bind)

    def client(self) -> CoordinatorClient:
        """The admin API as the operator (certificate from the settings' folder)."""
        return make_client(self)


def make_client(admin: Admin) -> CoordinatorClient:
    """Replaced in the page tests by a recording fake; the real one talks gRPC+mTLS."""
    return connect(
        admin.address,
        admin.certs,
        admin.settings.identity,
        insecure=admin.config.insecure,
    )


@st.cache_resource
def admin() -> Admin:
    settings = DashboardSettings.from_env()
    config = load_coordinator_config(settings.config_path)
    return Admin(settings, config, CoordinatorDb(config.database))
