"""A party's registered datasets: what it tells the coordinator, and how a job's
dataset name becomes the local table the programs read.

Only names, columns and row counts leave the machine; paths and URLs stay here.
"""

from __future__ import annotations

from pathlib import Path

from parties.data import load_dataset
from parties.data.readers import read_table
from vfl.config.job_spec import JobSpec, PartySpec
from vfl.config.party_config import DatasetConfig, PartyConfig
from vfl.dataset import PartyDataset
from vfl.errors import ConfigError
from vfl.protocol.v1 import coordinator_pb2 as pb


def describe(config: PartyConfig) -> list[pb.Dataset]:
    return [describe_dataset(config.name, d) for d in config.datasets]


def describe_dataset(party: str, d: DatasetConfig) -> pb.Dataset:
    """Read the whole source once: its columns and row count (DataValidationError if not)."""
    frame = read_table(_spec_for(party, d, id_column="", role="feature_holder"), Path())
    return pb.Dataset(name=d.name, columns=[str(c) for c in frame.columns], rows=len(frame))


def load_for_job(config: PartyConfig, spec: JobSpec) -> PartyDataset:
    me = spec.party(config.name)
    dataset = config.dataset(me.data)
    if dataset is None:
        raise ConfigError(
            f"job names dataset {me.data!r} for party {config.name}, which this node does not "
            f"register (datasets: {', '.join(d.name for d in config.datasets) or 'none'})"
        )
    local = me.model_copy(
        update={"data": dataset.source, "table": dataset.table, "query": dataset.query}
    )
    return load_dataset(spec, local, Path())


def _spec_for(party: str, d: DatasetConfig, id_column: str, role: str) -> PartySpec:
    return PartySpec.model_validate(
        {
            "name": party,
            "role": role,
            "data": d.source,
            "id_column": id_column or "_",
            "table": d.table,
            "query": d.query,
        }
    )
