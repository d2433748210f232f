"""A leftover `table =` in a deployment spec and the node's approval hint say what to do."""

from __future__ import annotations

import pytest

from parties.node import approval_hint
from tests.factories import job_spec
from vfl.errors import ConfigError


def test_a_leftover_table_on_a_dataset_name_says_how_to_fix_it() -> None:
    spec = {
        "job": {"name": "j"},
        "parties": [
            {"name": "bank", "role": "label_holder", "data": "breast", "id_column": "id",
             "label_column": "y", "table": "results"},
            {"name": "shop", "role": "feature_holder", "data": "s.csv", "id_column": "id"},
        ],
    }  # fmt: skip
    with pytest.raises(ConfigError) as info:
        job_spec(spec)
    message = str(info.value)
    assert "\n" not in message
    assert "data 'breast' is a file path or a registered dataset name" in message
    assert "remove `table`/`query`" in message and "or set data to a SQL URL" in message


def test_the_approval_hint_names_the_required_config_flag() -> None:
    assert approval_hint("job-1").startswith("vfl party approve job-1 --config ")
