"""The child process that runs spu's PSI: `python -m psi.rr22.child <config.json>`.

A child of its own because spu's native code owns threads, a brpc runtime and global
logging, cannot be cancelled from Python, and may crash; the party process only watches
it. Its link traffic goes to the party's shim (environment `system.transport`); it reads
and writes CSV files in the folder it was started in and prints one JSON line (counts
only) on success. On failure it prints one line naming the exception type, exit code 1.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from psi.rr22.native import load

RESULT_PREFIX = "rr22-result "


@dataclass(frozen=True)
class ChildConfig:
    """What one child runs: its rank among `parties` (spu's link ids), files, limits."""

    fastpsi: str
    rank: int
    parties: tuple[str, str]
    input_csv: str
    output_csv: str
    recv_timeout_ms: int
    max_payload: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ChildConfig:
        raw = json.loads(text)
        raw["parties"] = tuple(raw["parties"])
        return cls(**raw)


def run(config: ChildConfig) -> dict[str, int]:
    libspu, libpsi = load(Path(config.fastpsi))
    desc = libspu.link.Desc()
    desc.link_type = "blackbox"  # yacl's FactoryBrpc hands it to FactoryBrpcBlackBox
    desc.brpc_channel_protocol = "http"
    desc.recv_timeout_ms = config.recv_timeout_ms
    desc.http_timeout_ms = config.recv_timeout_ms
    desc.http_max_payload_size = config.max_payload
    for party in config.parties:
        desc.add_party(party, party)
    link = libspu.link.create_brpc(desc, config.rank)
    protocol = libpsi.PsiProtocolConfig(
        protocol=libpsi.PsiProtocol.PROTOCOL_RR22, receiver_rank=0, broadcast_result=True
    )
    execute = libpsi.PsiExecuteConfig(
        protocol_conf=protocol,
        input_params=libpsi.InputParams(
            path=config.input_csv, selected_keys=["id"], keys_unique=True
        ),
        output_params=libpsi.OutputParams(path=config.output_csv, disable_alignment=False),
    )
    try:
        report = libpsi.psi_execute(execute, link)
    finally:
        link.stop_link()
    return {"intersection": report.intersection_count, "rows": report.original_count}


def main(argv: list[str]) -> int:
    config = ChildConfig.from_json(Path(argv[1]).read_text(encoding="utf-8"))
    try:
        counts = run(config)
    except Exception as exc:  # spu raises its own types; the party reports this line
        print(f"spu PSI failed: {type(exc).__name__}", file=sys.stderr, flush=True)
        return 1
    print(RESULT_PREFIX + json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
