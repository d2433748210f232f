"""Where spu's native PSI modules are, and loading them without spu's Python package.

`spu` cannot be an ordinary extra: it pins numpy<2 and jax, which would downgrade the
environment. Its wheel is instead unpacked `--no-deps` into a folder of its own
(`make fastpsi`, default `<venv>/fastpsi`, or the folder named by `VFL_FASTPSI_DIR`), and
only its two native modules are imported, under an empty `spu` package that points at the
wheel's folder, so spu's `__init__` (which imports jax) never runs. This relies on the
wheel's private layout (`spu/libspu*.so`, `spu/libpsi*.so`), checked for 0.9.5.
Only the child process (psi/rr22/child.py) imports them; the party checks the files.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

from vfl.errors import ConfigError

SPU_VERSION = "0.9.5"
ENV_DIR = "VFL_FASTPSI_DIR"
INSTALL_HINT = (
    f"align.protocol = 'rr22' needs SecretFlow's spu {SPU_VERSION} native modules; run "
    f"`make fastpsi` (or `pip install --no-deps --target <dir> spu=={SPU_VERSION}` and set "
    f"{ENV_DIR}=<dir>)"
)


def fastpsi_dir() -> Path:
    """The folder holding the unpacked `spu` wheel."""
    named = os.environ.get(ENV_DIR)
    return Path(named) if named else Path(sys.prefix) / "fastpsi"


def _module(folder: Path, name: str) -> Path | None:
    found = sorted((folder / "spu").glob(f"{name}*.so"))
    return found[0] if found else None


def require_fastpsi() -> Path:
    """The fastpsi folder, or ConfigError naming how to install it."""
    folder = fastpsi_dir()
    missing = [m for m in ("libspu", "libpsi") if _module(folder, m) is None]
    if missing:
        raise ConfigError(f"{INSTALL_HINT}; not found in {folder}: {', '.join(missing)}")
    return folder


def load(folder: Path) -> tuple[types.ModuleType, types.ModuleType]:
    """spu's `libspu` (its link) and `libpsi`, imported from `folder` (child process only)."""
    package = types.ModuleType("spu")
    package.__path__ = [str(folder / "spu")]
    sys.modules["spu"] = package
    return importlib.import_module("spu.libspu"), importlib.import_module("spu.libpsi")
