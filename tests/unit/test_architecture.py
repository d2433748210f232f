"""DESIGN.md §3: who may import whom. Checked on the source, so a violation fails CI."""

from __future__ import annotations

import ast
import subprocess
import sys
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
# package -> modules it may import although FORBIDDEN bans their parent: the coordinator
# hosts the horizontal aggregator (numpy only) and seals its bodies like a party
ALLOWED: dict[str, set[str]] = {
    "coordinator": {
        "vfl.algorithms.hosted",
        "vfl.algorithms.horizontal",
        "vfl.crypto.sealing",
        "vfl.crypto.secagg",
    },
}
# the layers above the core that wire everything together
ENTRY_POINTS = (
    "vfl/api.py",
    "vfl/ray_simulation.py",
    "vfl/process_simulation.py",
    "vfl/process_participant.py",
    "vfl/cli/",
)


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
            if any(_within(name, allowed) for allowed in ALLOWED.get(package, ())):
                continue
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{rel} imports {name}")
    return found


def _within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_import_direction(package: str) -> None:
    assert _violations(package) == []


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("from parties.data import load_dataset\nimport torch.nn\n")
    assert {"parties.data", "torch.nn"} <= _imports(bad)


def test_coordinator_with_its_hosted_programs_loads_no_torch_or_pandas() -> None:
    # the source check above sees direct imports only; this one follows every import
    code = (
        "import coordinator.server, vfl.algorithms.hosted, "
        "vfl.algorithms.horizontal.aggregator, sys; "
        "assert 'torch' not in sys.modules and 'pandas' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'pandas'))[:5]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_allowed_modules_are_checked_as_modules_not_prefixes() -> None:
    assert _within("vfl.crypto.sealing.key_statement", "vfl.crypto.sealing")
    assert not _within("vfl.crypto.sealing_extra", "vfl.crypto.sealing")
    assert not _within("vfl.crypto.engine", "vfl.crypto.sealing")
