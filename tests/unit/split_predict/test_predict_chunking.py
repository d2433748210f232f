"""Prediction streams: whatever the number of rows, the forward pass, the scores sent to
`deliver_to` and the writes to the output hold at most `[predict] chunk_rows` rows at a
time. Memory is bounded by the chunk (and the parties' loaded tables), checked here by
what each step is handed, not by timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_predict.harness import predict_dict
from vfl.algorithms.split.label_model import LabelHolderModel
from vfl.algorithms.split.messages import PredictScores
from vfl.algorithms.split.preprocess import Standardizer
from vfl.api import simulate
from vfl.runtime.score_sink import FileSink
from vfl.runtime.transcript import Transcript

CHUNK = 25
ROWS = 130


def test_forward_scores_and_writes_go_chunk_by_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "train").mkdir()
    train = job_dict(synthetic_vertical(tmp_path / "train", {"bank": 3, "shop": 2}, rows=150))
    trained = simulate(job_spec(train), home=tmp_path, workdir=tmp_path / "run")
    assert trained.status == "succeeded", trained.error
    (tmp_path / "new").mkdir()
    new = synthetic_vertical(tmp_path / "new", {"bank": 3, "shop": 2}, rows=ROWS, seed=2)

    scaled: list[int] = []
    forwarded: list[int] = []
    written: list[int] = []
    apply, predict, write = Standardizer.apply, LabelHolderModel.predict, FileSink.write

    def spy_apply(self: Standardizer, x: Any) -> Any:
        scaled.append(len(x))
        return apply(self, x)

    def spy_predict(self: LabelHolderModel, ctx: Any, x: Any, rows: Any) -> Any:
        forwarded.append(len(x))
        return predict(self, ctx, x, rows)

    def spy_write(self: FileSink, chunk: pd.DataFrame) -> None:
        written.append(len(chunk))
        write(self, chunk)

    monkeypatch.setattr(Standardizer, "apply", spy_apply)
    monkeypatch.setattr(LabelHolderModel, "predict", spy_predict)
    monkeypatch.setattr(FileSink, "write", spy_write)
    out = tmp_path / "scores.csv"
    spec = job_spec(
        predict_dict(
            train, new, model=trained.job_id, output=str(out), chunk_rows=CHUNK, deliver_to="shop"
        )
    )
    transcript = Transcript()
    result = simulate(spec, home=tmp_path, workdir=tmp_path / "p", transcript=transcript)
    assert result.status == "succeeded", result.error

    chunks = [CHUNK] * (ROWS // CHUNK) + [ROWS % CHUNK]
    assert forwarded == chunks
    assert written == chunks  # at the shop, which receives the scores
    assert sorted(scaled) == sorted(chunks * 2)  # each party scales a chunk at a time
    sent = [m.values.shape[0] for _, m in transcript.messages("shop", PredictScores)]
    assert sent == chunks
    assert len(pd.read_csv(out)) == ROWS
