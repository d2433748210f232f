"""`make test`'s pytest run in two lanes at once: the end-to-end tests (real processes,
one federation at a time) beside everything else, so a 2-core CI machine finishes in
about the time of the longer lane instead of the sum. The other lane's output is shown
as it comes; the e2e lane's is written to a file and printed when it ends. Fails if either
lane fails or collects nothing (pytest's exit 5)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
E2E = "tests/e2e"


def main() -> int:
    pytest = [sys.executable, "-m", "pytest", "-q", *sys.argv[1:]]
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "e2e.log"
        with log_path.open("w") as log:
            e2e = subprocess.Popen([*pytest, E2E], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            rest = subprocess.run([*pytest, "tests", "--ignore", E2E], cwd=ROOT, check=False)
            e2e_code = e2e.wait()
        print(f"\n===== {E2E} (run beside the rest) =====", flush=True)
        print(log_path.read_text(), flush=True)
    codes = {"tests (without e2e)": rest.returncode, E2E: e2e_code}
    for lane, code in codes.items():
        if code != 0:
            print(f"test lanes: {lane} exited {code}", file=sys.stderr)
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
