"""One contract for every model registry: the SQLite + files one party nodes and the
simulator keep, and its in-memory twin."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from vfl.errors import ConfigError
from vfl.registry.memory_registry import MemoryModelRegistry
from vfl.registry.model_registry import META, WEIGHTS, ModelRegistry
from vfl.registry.part import RegisteredPart
from vfl.registry.sqlite_registry import SqliteModelRegistry


@pytest.fixture(params=["memory", "sqlite"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ModelRegistry]:
    if request.param == "memory":
        yield MemoryModelRegistry()
    else:
        store = SqliteModelRegistry(tmp_path / "models")
        yield store
        store.close()


def _part(job_id: str, at: float = 0.0, **metrics: float) -> RegisteredPart:
    return RegisteredPart(
        job_id=job_id,
        party="hospital",
        role="label_holder",
        mode="vertical",
        spec_digest="a" * 64,
        model_digest="b" * 64,
        protection="none",
        created_at=at or time.time(),
        peers=(("lab", "feature_holder"),),
        metrics={"validation": dict(metrics)} if metrics else {},
    )


def _files(state: object) -> dict[str, bytes]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return {WEIGHTS: buffer.getvalue(), META: b'{"role": "label_holder"}'}


def test_registered_part_comes_back_with_its_record_and_weights(registry: ModelRegistry) -> None:
    registry.register(_part("job-1", auc=0.9), _files({"w": torch.ones(2)}))
    part = registry.require("job-1", "test")
    assert part == _part("job-1", part.created_at, auc=0.9)
    assert part.peers == (("lab", "feature_holder"),)
    state, meta = registry.load("job-1", "test")
    assert torch.equal(state["w"], torch.ones(2))
    assert meta == {"role": "label_holder"}


def test_parts_are_listed_oldest_first(registry: ModelRegistry) -> None:
    registry.register(_part("job-b", 2.0), _files({}))
    registry.register(_part("job-a", 1.0), _files({}))
    assert [p.job_id for p in registry.parts()] == ["job-a", "job-b"]


def test_registering_a_job_again_replaces_its_part(registry: ModelRegistry) -> None:
    registry.register(_part("job-1", 1.0), _files({"w": torch.zeros(1)}))
    registry.register(_part("job-1", 2.0, auc=0.5), _files({"w": torch.ones(1)}))
    assert len(registry.parts()) == 1
    assert registry.require("job-1", "test").metrics == {"validation": {"auc": 0.5}}
    assert torch.equal(registry.load("job-1", "test")[0]["w"], torch.ones(1))


def test_delete_forgets_the_part_and_its_files(registry: ModelRegistry) -> None:
    registry.register(_part("job-1"), _files({}))
    assert registry.delete("job-1")
    assert registry.get("job-1") is None
    assert registry.read_file("job-1", WEIGHTS) is None
    assert not registry.delete("job-1")


def test_unknown_job_is_one_line_naming_the_fix(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigError) as raised:
        registry.require("nope-123", "job J: predict.model")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("job J: predict.model: no model part of job 'nope-123'")
    assert "vfl model list" in message


@pytest.mark.parametrize("job_id", ["../etc", "a/b", "", ".hidden"])
def test_job_ids_that_could_name_another_folder_are_refused(
    registry: ModelRegistry, job_id: str
) -> None:
    with pytest.raises(ConfigError, match="is not a job id"):
        registry.require(job_id, "predict.model")


class _Pickled:
    """Not a tensor: `weights_only=True` must refuse to rebuild it."""


def test_parts_load_with_weights_only(registry: ModelRegistry) -> None:
    registry.register(_part("job-1"), _files({"payload": _Pickled()}))
    with pytest.raises(Exception, match=r"[Ww]eights only load failed"):
        registry.load("job-1", "test")


def test_sqlite_registry_survives_reopening(tmp_path: Path) -> None:
    first = SqliteModelRegistry(tmp_path / "models")
    first.register(_part("job-1", auc=0.7), _files({"w": torch.ones(3)}))
    first.close()
    again = SqliteModelRegistry(tmp_path / "models")
    assert again.require("job-1", "test").metrics == {"validation": {"auc": 0.7}}
    assert torch.equal(again.load("job-1", "test")[0]["w"], torch.ones(3))
    weights = tmp_path / "models" / "parts" / "job-1" / WEIGHTS
    assert weights.stat().st_mode & 0o777 == 0o600
    again.close()
