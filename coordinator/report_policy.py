"""Who may report what, and when: the one table the coordinator checks every report against.

A report becomes part of a job's result, which operators and every party read. Membership
alone is not enough: a feature holder never computes the loss or the metrics, so a metrics
report from it can only be a forgery, and nothing a party sends after the job ended can be
news about that job. Each kind of event is accepted only from the roles whose programs
produce it (see `vfl/algorithms/split/label_holder.py`, the `psi/` programs and the
horizontal aggregator the coordinator hosts), and only while the job runs.
"""

from __future__ import annotations

from coordinator.errors import AccessDeniedError, StateError
from coordinator.store import Job
from vfl.config.phase_plan import (
    COORDINATOR,
    PREDICT_PLANS,
    TERMINAL,
    JobState,
    Role,
    job_plan,
)
from vfl.protocol.reports import EventKind

VERTICAL = frozenset({Role.LABEL_HOLDER, Role.FEATURE_HOLDER})
TRANSFER = frozenset({Role.SOURCE, Role.TARGET})
# the vertical label holder, the transfer source and the horizontal aggregator (the
# coordinator's hosted program) hold the loss and the metrics
RESULTS = frozenset({Role.LABEL_HOLDER, Role.SOURCE, Role.AGGREGATOR})

ALLOWED_ROLES: dict[EventKind, frozenset[Role]] = {
    EventKind.PROGRESS: VERTICAL | TRANSFER | {Role.AGGREGATOR},
    # every aligning party learns its own row count and the intersection (ecdh, join, star)
    EventKind.ALIGN: VERTICAL | TRANSFER,
    EventKind.EPOCH: RESULTS,
    EventKind.STEP: frozenset({Role.LABEL_HOLDER, Role.SOURCE}),
    EventKind.METRICS: RESULTS,
    # the programs that compute ROC/KS points over labels they hold: the vertical label holder
    # and the transfer source (the horizontal aggregator gets scalar metrics only)
    EventKind.CURVES: frozenset({Role.LABEL_HOLDER, Role.SOURCE}),
    EventKind.PRIVACY: frozenset({Role.LABEL_HOLDER, Role.AGGREGATOR}),
    # the party that writes scores at its own site: the transfer target, or the vertical
    # prediction job's `deliver_to` (either vertical role)
    EventKind.OUTPUT: frozenset({Role.TARGET, Role.LABEL_HOLDER, Role.FEATURE_HOLDER}),
}
"""Event kind → the roles that may report it. The one place this rule lives."""

NOT_LIVE = frozenset({*TERMINAL, JobState.PENDING})
"""States in which no program runs, so no report can be news."""

ONLY_IN: dict[EventKind, frozenset[JobState]] = {
    # only the evaluate programs draw curves, from the published model
    EventKind.CURVES: frozenset({JobState.EVALUATE}),
}
"""Event kind → the only states it may be reported in, for kinds one phase produces."""

ONLY_IN_PREDICTION_JOBS: dict[EventKind, frozenset[JobState]] = {
    # a prediction job evaluates new labelled rows in its predict phase (docs/predict.md)
    EventKind.CURVES: frozenset({JobState.PREDICT}),
}
"""The same rule for prediction jobs (a vertical spec with `[predict]`)."""


def admit(job: Job, party: str, kind: EventKind) -> None:
    """Raise unless `party` (or `coordinator`, for its hosted program) may report an event
    of `kind` for `job` now. No party is named `coordinator`: the relay refuses the name."""
    member = job.party(party)
    plan = job_plan(job.mode, job.spec_json)
    hosted = plan.hosted
    if member is not None:
        role: str = member.role
    elif party == COORDINATOR and hosted:
        role = hosted[0]
    else:
        raise AccessDeniedError(f"party {party} is not part of job {job.id!r}")
    allowed = ALLOWED_ROLES[kind]
    if role not in allowed:
        # the roles of this job's mode
        roles = ", ".join(sorted(r for r in allowed if r in (*plan.roles, *plan.hosted)))
        raise AccessDeniedError(
            f"party {party} is {role} in job {job.id}; only {roles} may report {kind}"
        )
    if job.state in NOT_LIVE:
        raise StateError(
            f"job {job.id} is {job.state}, not running; party {party}'s {kind} report is refused"
        )
    predicting = plan is PREDICT_PLANS.get(job.mode)  # type: ignore[call-overload]
    states = (ONLY_IN_PREDICTION_JOBS if predicting else ONLY_IN).get(kind)
    if states is not None and job.state not in states:
        raise StateError(
            f"job {job.id} is {job.state}; party {party}'s {kind} report is refused outside "
            + ", ".join(sorted(states))
        )
