"""Regenerate the committed protobuf code from vfl/protocol/v1/*.proto.

`--check` regenerates into a temporary folder and fails if the committed files differ, so
a .proto edit without regenerated code cannot land. Lines that only record the generator's
version are ignored: the code is the same whichever patch release of grpcio-tools ran.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "vfl" / "protocol" / "v1"
_VERSION_LINE = re.compile(
    r"(Protobuf Python Version|_runtime_version\.ValidateProtobufRuntimeVersion|"
    r"GRPC_GENERATED_VERSION|^\s*\d+,\s*$|^\s*'',\s*$|^\s*'[\w./-]+'\s*$|^\s*\)\s*$|"
    r"mypy-protobuf)"
)


def generate(out_root: Path) -> list[Path]:
    protos = sorted(PROTO_DIR.glob("*.proto"))
    plugin = Path(sys.executable).parent / "protoc-gen-mypy"
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--python_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--plugin=protoc-gen-mypy={plugin}",
        f"--mypy_out={out_root}",
        *[str(p.relative_to(ROOT)) for p in protos],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted((out_root / "vfl" / "protocol" / "v1").glob("*_pb2*"))


def _normalised(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if not _VERSION_LINE.search(ln)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail on drift, write nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(Path(tmp))
        if not args.check:
            for path in generated:
                shutil.copy(path, PROTO_DIR / path.name)
            print(f"wrote {len(generated)} files to {PROTO_DIR.relative_to(ROOT)}")
            return 0
        drift = [
            p.name
            for p in generated
            if not (PROTO_DIR / p.name).exists()
            or _normalised(p) != _normalised(PROTO_DIR / p.name)
        ]
        committed = {p.name for p in PROTO_DIR.glob("*_pb2*")}
        drift += sorted(committed - {p.name for p in generated})
    if drift:
        print(f"generated protobuf code is stale: {', '.join(drift)}; run `make proto`")
        return 1
    print("generated protobuf code is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
