"""The federation as the coordinator's store knows it: parties and their datasets.

A party is online when it was seen (its heartbeat touches the store) within the
coordinator's session silence; the admin view can refine this with the live sessions the
admin API reports. Datasets carry names, columns and row counts only: the store holds
nothing else. Certificate expiry comes from the party's certificate file when the
operator's certificate folder holds it (`vfl certs init` writes them all there).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509

from coordinator.store import DatasetInfo
from coordinator.tables import DatasetRow, PartyRow
from dashboard.queries.source import CoordinatorDb


@dataclass(frozen=True)
class PartyView:
    """One party: whether it is online, when it was last seen and what it registered."""

    name: str
    online: bool
    first_seen: float
    last_seen: float
    certificate_expires: datetime | None
    datasets: tuple[DatasetInfo, ...]


def federation(
    db: CoordinatorDb,
    now: float,
    silence_s: float = 30.0,
    connected: Collection[str] | None = None,
    certs: Path | None = None,
) -> list[PartyView]:
    """Every registered party by name (a federation has tens, not thousands)."""
    with db.engine.connect() as conn:
        parties = conn.execute(
            sa.select(PartyRow.name, PartyRow.first_seen, PartyRow.last_seen).order_by(
                PartyRow.name
            )
        ).all()
        datasets = conn.execute(
            sa.select(
                DatasetRow.party, DatasetRow.name, DatasetRow.columns_json, DatasetRow.rows
            ).order_by(DatasetRow.party, DatasetRow.name)
        ).all()
    by_party: dict[str, list[DatasetInfo]] = {}
    for party, name, columns, rows in datasets:
        by_party.setdefault(party, []).append(
            DatasetInfo(name, tuple(str(c) for c in json.loads(columns)), int(rows))
        )
    return [
        PartyView(
            name=name,
            online=(name in connected) if connected is not None else now - last <= silence_s,
            first_seen=float(first),
            last_seen=float(last),
            certificate_expires=_expiry(certs, name),
            datasets=tuple(by_party.get(name, [])),
        )
        for name, first, last in parties
    ]


def _expiry(certs: Path | None, name: str) -> datetime | None:
    if certs is None:
        return None
    path = certs / f"{name}.pem"
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None
    return cert.not_valid_after_utc.astimezone(UTC)
