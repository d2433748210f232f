"""The party view's handles: its config, its own SQLite (read-only) and, for approvals
and results, the coordinator as this party (its own certificate)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.queries import NodeDb
from dashboard.settings import DashboardSettings
from parties.approval import party_client
from vfl.config.party_config import PartyConfig, load_party_config
from vfl.remote import CoordinatorClient


@dataclass(frozen=True)
class Party:
    settings: DashboardSettings
    config: PartyConfig

    @property
    def db(self) -> NodeDb:
        """Opened on use: the node makes its SQLite when it first starts."""
        return NodeDb(self.config.state_dir / "party.db")

    def client(self) -> CoordinatorClient:
        return make_client(self)


def make_client(party: Party) -> CoordinatorClient:
    """Replaced in the page tests by a fake; the real one is the node's approval path."""
    return party_client(party.config)


@st.cache_resource
def party() -> Party:
    settings = DashboardSettings.from_env()
    return Party(settings, load_party_config(settings.config_path))
