"""PSI benchmark: our align protocols against OpenMined PSI on the same sets, same run.

    .venv/bin/python -m benchmarks.psi                 # 2^16 and 2^20 IDs per side
    .venv/bin/python -m benchmarks.psi --large         # 10^7 per side, ours only
    .venv/bin/python -m benchmarks.psi --sizes 65536 --no-openmined
    .venv/bin/python -m benchmarks.psi --protocols ecdh rsa rr22   # several of ours

Each side has n IDs, half of them shared (50 % overlap), in shuffled order, written as CSV.
Ours: `psi.local_run` (each party in its own process, streaming its CSV, group operations
on all cores); both parties end with the aligned IDs. OpenMined (`openmined-psi`, the
baseline; it pins protobuf==6.30.2 but runs with ours, so install it with
`pip install --no-deps "openmined-psi>=2.0.6"`): server and client each in their own
process, GCS setup message, intersection revealed to the client only; and again with both
sides in one process, as MEASURED.md timed it. Every result is checked against the known
intersection. Writes benchmarks/results/psi.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from parties.align_programs import align_program_for
from psi.local_run import Side, run_two_party
from vfl.config.job_spec import AlignSpec

RESULTS = Path(__file__).resolve().parent / "results"
_MIX = 0x9E3779B97F4A7C15  # odd, so k -> k * MIX mod 2^64 is a bijection: unique IDs


def _ids(keys: np.ndarray) -> list[str]:
    mixed = keys.astype(np.uint64) * np.uint64(_MIX)
    return [f"{int(v):016x}" for v in mixed]


def make_sets(n: int, folder: Path, seed: int = 0) -> tuple[Path, Path, int]:
    """Two CSVs of n IDs each sharing n // 2; returns their paths and the shared count."""
    rng = np.random.default_rng(seed)
    shared = n // 2
    left = np.concatenate([np.arange(shared), np.arange(n, 2 * n - shared)])
    right = np.concatenate([np.arange(shared), np.arange(2 * n, 3 * n - shared)])
    paths = []
    for name, keys in (("left", left), ("right", right)):
        path = folder / f"{name}_{n}.csv"
        with path.open("w") as fh:
            fh.write("id\n")
            ids = _ids(rng.permutation(keys))
            fh.write("\n".join(ids))
            fh.write("\n")
        paths.append(path)
    return paths[0], paths[1], shared


def run_ours(
    left: Path, right: Path, shared: int, out: Path, protocol: str = "ecdh"
) -> dict[str, Any]:
    align = AlignSpec.model_validate({"protocol": protocol})
    lh, fh, wall = run_two_party(
        Side(left, "id"), Side(right, "id"), align, out, programs=align_program_for
    )
    for side in (lh, fh):
        if side.intersection_size != shared:
            raise SystemExit(
                f"ours ({protocol}): {side.party} found {side.intersection_size}, not {shared}"
            )
    n = lh.rows
    return {
        "wall_s": wall,
        "ids_per_s": 2 * n / wall,
        "bytes_left_to_right": lh.bytes_sent,
        "bytes_right_to_left": fh.bytes_sent,
        "peak_rss_mb": {
            "left": lh.peak_rss_bytes / 2**20,
            "right": fh.peak_rss_bytes / 2**20,
            "left_workers": lh.workers_peak_rss_bytes / 2**20,  # rr22: the spu child
            "right_workers": fh.workers_peak_rss_bytes / 2**20,
        },
        # CPU seconds of each party and of its children (workers, spu): unlike wall time
        # they barely move with the load of other jobs on the machine
        "cpu_s": {
            "left": lh.cpu_seconds,
            "right": fh.cpu_seconds,
            "left_workers": lh.workers_cpu_seconds,
            "right_workers": fh.workers_cpu_seconds,
        },
        "party_seconds": {"left": lh.seconds, "right": fh.seconds},
        "both_sides_learn_intersection": True,
    }


def _read(path: Path) -> list[str]:
    return path.read_text().split("\n")[1:-1]


def _om_server(path: str, n_client: int, conn: Connection, report: Connection) -> None:
    import private_set_intersection.python as om  # noqa: PLC0415 (optional extra)

    items = _read(Path(path))
    server = om.server.CreateWithNewKey(True)
    conn.send_bytes(
        server.CreateSetupMessage(1e-9, n_client, items, om.DataStructure.GCS).SerializeToString()
    )
    request = om.Request()
    request.ParseFromString(conn.recv_bytes())
    conn.send_bytes(server.ProcessRequest(request).SerializeToString())
    report.send_bytes(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024).encode())


def _om_client(path: str, conn: Connection, report: Connection) -> None:
    import private_set_intersection.python as om  # noqa: PLC0415 (optional extra)

    items = _read(Path(path))
    client = om.client.CreateWithNewKey(True)
    request = client.CreateRequest(items).SerializeToString()
    setup_bytes = conn.recv_bytes()
    conn.send_bytes(request)
    response_bytes = conn.recv_bytes()
    setup, response = om.ServerSetup(), om.Response()
    setup.ParseFromString(setup_bytes)
    response.ParseFromString(response_bytes)
    found = len(client.GetIntersection(setup, response))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sizes = [len(setup_bytes), len(request), len(response_bytes)]
    report.send_bytes(json.dumps([found, peak, *sizes]).encode())


def _om_one_process(left: str, right: str, n: int, report: Connection) -> None:
    """Both OpenMined sides in one process, as MEASURED.md timed it (the issue's 230 s)."""
    import private_set_intersection.python as om  # noqa: PLC0415 (optional extra)

    server = om.server.CreateWithNewKey(True)
    client = om.client.CreateWithNewKey(True)
    setup = server.CreateSetupMessage(1e-9, n, _read(Path(left)), om.DataStructure.GCS)
    request = client.CreateRequest(_read(Path(right)))
    response = server.ProcessRequest(request)
    found = len(client.GetIntersection(setup, response))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report.send_bytes(json.dumps([found, peak]).encode())


def run_openmined_one_process(left: Path, right: Path, shared: int, n: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("forkserver")
    reader, writer = ctx.Pipe(duplex=False)
    start = time.perf_counter()
    proc = ctx.Process(target=_om_one_process, args=(str(left), str(right), n, writer))
    proc.start()
    found, peak = json.loads(reader.recv_bytes())
    proc.join()
    wall = time.perf_counter() - start
    if found != shared:
        raise SystemExit(f"openmined: found {found}, not {shared}")
    return {"wall_s": wall, "ids_per_s": 2 * n / wall, "peak_rss_mb": peak / 2**20}


def run_openmined(left: Path, right: Path, shared: int, n: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("forkserver")
    a, b = ctx.Pipe()
    s_report, s_out = ctx.Pipe(duplex=False)
    c_report, c_out = ctx.Pipe(duplex=False)
    start = time.perf_counter()
    server = ctx.Process(target=_om_server, args=(str(left), n, a, s_out))
    client = ctx.Process(target=_om_client, args=(str(right), b, c_out))
    server.start()
    client.start()
    server_peak = int(s_report.recv_bytes())
    found, client_peak, setup, request, response = json.loads(c_report.recv_bytes())
    server.join()
    client.join()
    wall = time.perf_counter() - start
    if found != shared:
        raise SystemExit(f"openmined: found {found}, not {shared}")
    return {
        "wall_s": wall,
        "ids_per_s": 2 * n / wall,
        "bytes_server_to_client": setup + response,
        "bytes_client_to_server": request,
        "peak_rss_mb": {"server": server_peak / 2**20, "client": client_peak / 2**20},
        "both_sides_learn_intersection": False,
    }


def _have_openmined() -> bool:
    try:
        import private_set_intersection.python  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1 << 16, 1 << 20])
    parser.add_argument("--large", action="store_true", help="10^7 IDs per side, ours only")
    parser.add_argument("--no-openmined", action="store_true")
    parser.add_argument(
        "--protocols",
        nargs="*",
        default=["ecdh"],
        help="our align protocols to run besides OpenMined (ecdh, rsa, rr22)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "psi.json")
    args = parser.parse_args()
    sizes = [10**7] if args.large else args.sizes
    openmined = not args.no_openmined and not args.large and _have_openmined()
    runs = []
    with tempfile.TemporaryDirectory(prefix="vfl-psi-bench-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            left, right, shared = make_sets(n, folder)
            row: dict[str, Any] = {"ids_per_side": n, "shared": shared}
            for protocol in args.protocols:
                key = "ours" if protocol == "ecdh" else f"ours_{protocol}"
                row[key] = run_ours(left, right, shared, folder / f"out_{protocol}_{n}", protocol)
                print(f"n={n:>9}  {key:10s} {row[key]['wall_s']:8.1f} s", flush=True)
            if openmined:
                # the ratio is of the first of ours that ran (`ours` is ecdh, the default)
                first = next((k for k in row if k == "ours" or k.startswith("ours_")), None)
                ours = row[first]["wall_s"] if first else float("nan")
                row["ratio_of"] = first
                row["openmined"] = run_openmined(left, right, shared, n)
                row["ratio_ours_to_openmined"] = ours / row["openmined"]["wall_s"]
                print(
                    f"n={n:>9}  openmined, one process per side {row['openmined']['wall_s']:8.1f} s"
                    f"   ratio {row['ratio_ours_to_openmined']:.2f}",
                    flush=True,
                )
                single = run_openmined_one_process(left, right, shared, n)
                row["openmined_one_process"] = single
                row["ratio_ours_to_openmined_one_process"] = ours / single["wall_s"]
                print(
                    f"n={n:>9}  openmined, both sides in one process {single['wall_s']:8.1f} s"
                    f"   ratio {row['ratio_ours_to_openmined_one_process']:.2f}",
                    flush=True,
                )
            print(json.dumps(row, indent=2), flush=True)
            runs.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "psi",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": runs,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
