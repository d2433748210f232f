"""The one explicit channel from a party's programs to the coordinator: reported events.

Envelope bodies between parties are sealed; what a party wants the coordinator (and so the
operators and the dashboard) to see travels here instead, as typed events, and only the
kinds the party lists in `report` (party.toml). An event of any other kind stays on the
party's machine.
"""

from __future__ import annotations

from collections.abc import Collection

from parties.coordinator_link import CoordinatorLink
from vfl.protocol import reports
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.events import Event


def report_kind(event: Event) -> str:
    return str(reports.kind_of(event))


class CoordinatorReporter:
    """Forwards the chosen program events, in order, without blocking the program."""

    def __init__(self, link: CoordinatorLink, job_id: str, kinds: Collection[str]) -> None:
        self._link, self._job_id, self._kinds = link, job_id, frozenset(kinds)

    def report(self, party: str, event: Event) -> None:
        if report_kind(event) not in self._kinds:
            return
        msg = pb.Report(job_id=self._job_id, event=reports.to_proto(event))
        self._link.submit(pb.PartyMessage(report=msg), wait=False)
