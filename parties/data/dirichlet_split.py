"""Split one table's rows among sample holders with label skew: for each label value, the
parties' shares of its rows follow Dirichlet(α) (Hsu et al. 2019). Small α gives each party
a few dominant labels (non-IID); large α approaches an even, IID split.

Used by `vfl split` on a user's own CSV and by samples/make_samples.py; seeded, so a split
is reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vfl.errors import ConfigError


def dirichlet_split(
    frame: pd.DataFrame, label: str, parties: int, alpha: float, seed: int, min_rows: int = 10
) -> list[pd.DataFrame]:
    """`parties` frames whose rows partition `frame`'s, label-skewed by Dirichlet(α); each
    party gets at least `min_rows` rows (rows are moved from the largest party if not)."""
    if label not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        raise ConfigError(f"split: label column {label!r} not found (columns: {columns})")
    if parties < 2 or alpha <= 0:
        raise ConfigError(f"split: needs at least 2 parties and alpha > 0 (got {parties}, {alpha})")
    if len(frame) < parties * min_rows:
        raise ConfigError(
            f"split: {len(frame)} rows cannot give {parties} parties {min_rows} rows each"
        )
    rng = np.random.default_rng(seed)
    owner = np.empty(len(frame), dtype=np.int64)
    for value in sorted(frame[label].unique(), key=str):
        rows = rng.permutation(np.flatnonzero((frame[label] == value).to_numpy()))
        shares = rng.dirichlet(np.full(parties, alpha))
        cuts = (np.cumsum(shares)[:-1] * len(rows)).round().astype(int)
        for party, chunk in enumerate(np.split(rows, cuts)):
            owner[chunk] = party
    counts = np.bincount(owner, minlength=parties)
    for party in range(parties):  # top up parties left nearly empty
        while counts[party] < min_rows:
            donor = int(counts.argmax())
            row = rng.choice(np.flatnonzero(owner == donor))
            owner[row], counts[donor], counts[party] = party, counts[donor] - 1, counts[party] + 1
    return [frame.iloc[np.flatnonzero(owner == p)].reset_index(drop=True) for p in range(parties)]
