"""End-to-end tests start real processes (a coordinator, party nodes, a browser) and wait
on them. Under pytest-xdist (`make test` runs two workers) they all go to one worker, in
order, so two federations never compete for the two cores of a CI machine while the other
worker runs the in-process tests."""

from __future__ import annotations

import pytest

E2E_GROUP = "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith("tests/e2e/"):
            item.add_marker(pytest.mark.xdist_group(E2E_GROUP))
