"""`align.normalize = ["strip", "strip_leading_zeros"]`: ` 00123` on one side meets `123`
on the other, the same through a loaded dataset and through a streamed CSV column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from parties.data import load_dataset
from psi.ids import CsvIds
from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import simulate

RULES = ["strip", "strip_leading_zeros"]


def test_the_loader_and_a_streamed_csv_normalise_alike(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    raw = [" 00123", "000", "0a7", "120", "5"]
    pd.DataFrame({"id": raw, "age": range(5), "y": [0, 1, 0, 1, 0]}).to_csv(path, index=False)
    spec = job_spec(job_dict({"bank": path, "shop": path}, align={"normalize": RULES}))
    expected = ["123", "0", "a7", "120", "5"]
    assert list(load_dataset(spec, spec.parties[0]).ids) == expected
    assert [i for chunk in CsvIds(path, "id", RULES).chunks() for i in chunk] == expected


def test_ids_with_padding_zeros_align_with_plain_ones(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=40)
    for party, pad in (("bank", " 000"), ("shop", "")):
        frame = pd.read_csv(paths[party], dtype={"id": str})
        frame["id"] = pad + frame["id"].str.removeprefix("id-").str.lstrip("0").replace("", "0")
        frame.to_csv(paths[party], index=False)
    spec = job_spec(job_dict(paths, align={"normalize": RULES}, train={"epochs": 1}))
    result = simulate(spec, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    assert result.align["intersection_size"] == 40


def test_the_rule_names_in_the_spec_json_are_unchanged(tmp_path: Path) -> None:
    paths = {"a": tmp_path / "a.csv", "b": tmp_path / "b.csv"}
    strip = job_spec(job_dict(paths, align={"normalize": ["strip"]}))
    assert '"normalize":["strip"]' in strip.model_dump_json()
