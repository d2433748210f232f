"""What `vfl dashboard ...` hands the Streamlit script: the config file and how to reach
the coordinator, as JSON in one environment variable (Streamlit owns the command line).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from vfl.errors import ConfigError

ENV = "VFL_DASHBOARD"


@dataclass(frozen=True)
class DashboardSettings:
    """Both dashboards: the config they read and, for the admin view, who it acts as."""

    config: str
    """coordinator.toml (admin view) or party.toml (party view)."""
    coordinator: str = ""
    """Admin view: host:port of the admin API (default: the config's listen address)."""
    certs: str = ""
    """Admin view: the folder holding ca.pem and IDENTITY.pem/.key (default: tls.ca's)."""
    identity: str = "operator"
    """Admin view: whose certificate the admin API calls use (an OU=operator one)."""

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_env() -> DashboardSettings:
        raw = os.environ.get(ENV)
        if not raw:
            raise ConfigError(f"{ENV} is not set; start the dashboard with `vfl dashboard`")
        return DashboardSettings(**json.loads(raw))

    @property
    def config_path(self) -> Path:
        return Path(self.config)
