"""DESIGN.md §3: who may import whom. Checked on the source, so a violation fails CI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# package (or module prefix) -> top-level names it must never import
FORBIDDEN: dict[str, set[str]] = {
    "vfl": {"parties", "psi", "coordinator", "dashboard"},
    "psi": {"parties", "coordinator", "dashboard"},
    "parties": {"coordinator", "dashboard"},
    "coordinator": {
        "torch",
        "pandas",
        "parties",
        "psi",
        "dashboard",
        "vfl.algorithms",
        "vfl.crypto",
        "phe",
    },
    # the job spec, the phase plans and the enums: the coordinator imports them
    "vfl/config": {"torch", "pandas", "vfl.runtime", "vfl.algorithms", "vfl.privacy"},
}
# the layers above the core that wire everything together
ENTRY_POINTS = ("vfl/api.py", "vfl/cli/")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "_pb2" in rel or rel.startswith(ENTRY_POINTS):
            continue
        for name in _imports(path):
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{rel} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_import_direction(package: str) -> None:
    assert _violations(package) == []


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("from parties.data import load_dataset\nimport torch.nn\n")
    assert {"parties.data", "torch.nn"} <= _imports(bad)
