"""vfl: train one model across organizations while every row stays at home.

The public API is re-exported here lazily, so `import vfl` stays light and the core
modules never import the party-side packages at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["JobResult", "JobSpec", "audit", "load_job", "predict", "simulate"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from vfl.api import audit, predict, simulate
    from vfl.config.job_spec import JobSpec
    from vfl.config.loading import load_job
    from vfl.result import JobResult


def __getattr__(name: str) -> Any:
    if name == "simulate":
        from vfl.api import simulate

        return simulate
    if name == "predict":
        from vfl.api import predict

        return predict
    if name == "audit":
        from vfl.api import audit

        return audit
    if name == "JobSpec":
        from vfl.config.job_spec import JobSpec

        return JobSpec
    if name == "load_job":
        from vfl.config.loading import load_job

        return load_job
    if name == "JobResult":
        from vfl.result import JobResult

        return JobResult
    raise AttributeError(f"module 'vfl' has no attribute {name!r}")
