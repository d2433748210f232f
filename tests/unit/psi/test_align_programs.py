"""The align-only program lookup of local PSI runs: the same programs as the full table,
nothing but aligning, and no training code (torch) imported into a party process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from parties.align_programs import align_program_for
from parties.programs import program_for
from tests.unit.psi.harness import job
from vfl.config.job_spec import AlignProtocol
from vfl.config.phase_plan import Phase
from vfl.errors import ConfigError


@pytest.mark.parametrize("protocol", ["ecdh", "rsa", "join"])
def test_local_runs_get_the_align_program_a_job_gets(protocol: AlignProtocol) -> None:
    spec = job(["bank", "shop"], protocol=protocol)
    for party in spec.parties:
        ours = align_program_for(spec, Phase.ALIGN, party)
        assert type(ours) is type(program_for(spec, Phase.ALIGN, party))


def test_local_runs_refuse_any_phase_but_align() -> None:
    spec = job(["bank", "shop"], protocol="ecdh")
    with pytest.raises(ConfigError, match="aligns only"):
        align_program_for(spec, Phase.TRAIN, spec.parties[0])


def test_a_local_psi_party_process_does_not_import_torch() -> None:
    # torch and the training code cost a party process ~2.5 s to start, more than a
    # whole rr22 run at 2^16 IDs
    code = (
        "import sys, parties.align_programs, psi.local_run, psi.pipe_channel, "
        "vfl.runtime.context; print('torch' in sys.modules)"
    )
    found = subprocess.run(  # our interpreter, a fixed snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "False"
