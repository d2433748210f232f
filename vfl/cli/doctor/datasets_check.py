"""The party's registered datasets: each source readable, with the columns it declares."""

from __future__ import annotations

from parties.registered_data import describe_dataset
from vfl.cli.doctor.check import CheckResult, failed, passed
from vfl.config.party_config import DatasetConfig
from vfl.errors import VflError

NAME = "dataset"


def check_dataset(party: str, index: int, dataset: DatasetConfig, source: str) -> CheckResult:
    name = f"{NAME} {dataset.name}"
    where = f"{source} datasets[{index}]"
    try:
        found = describe_dataset(party, dataset)
    except VflError as exc:
        return failed(name, f"{where}: cannot read it ({exc}); fix datasets[{index}].source")
    except Exception as exc:  # a driver's own error: its type and words, on one line
        text = str(exc).splitlines()[0] if str(exc) else ""
        return failed(
            name,
            f"{where}: cannot read it ({type(exc).__name__}: {text}); fix datasets[{index}].source",
        )
    columns = list(found.columns)
    missing = [c for c in dataset.columns if c not in columns]
    if missing:
        return failed(
            name,
            f"{where}: column {missing[0]!r} declared in columns but not in the source "
            f"(columns: {', '.join(columns)}); fix datasets[{index}].columns or the source",
        )
    declared = f", all {len(dataset.columns)} declared present" if dataset.columns else ""
    return passed(name, f"{found.rows} rows, {len(columns)} columns{declared}")
