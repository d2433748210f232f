"""One federation for every probe: starting its three processes costs more than a probe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adversarial.federation import start_federation
from vfl.cli.local_federation import LocalFederation


@pytest.fixture(scope="package")  # stopped before the rest of the suite runs
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalFederation]:
    federation = start_federation(tmp_path_factory.mktemp("adversarial") / "fed")
    yield federation
    federation.stop()
