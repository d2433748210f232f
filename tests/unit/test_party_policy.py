"""party.toml [policy]: the rule checker, one rule at a time, and how the table parses.

Each refusal is checked as the exact line a person reads (job, spec field, rule, fix),
and each rule with a control: the same job passes once the policy lists what it asks for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import job_dict, job_spec
from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.config.job_spec import VerticalJobSpec
from vfl.config.loading import parse_model
from vfl.config.party_config import PartyConfig, load_party_config
from vfl.config.party_policy import PartyPolicy, PolicyRule
from vfl.errors import ConfigError

PATHS = {"bank": Path("bank.csv"), "shop": Path("shop.csv")}


def _job(**sections: dict[str, Any]) -> VerticalJobSpec:
    base: dict[str, dict[str, Any]] = {
        "align": {"protocol": "ecdh"},
        "train": {"protection": "paillier"},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return job_spec(job_dict(PATHS, **base))


def _policy(**values: Any) -> PartyPolicy:
    return parse_model(PartyPolicy, values, source="party.toml [policy]")


def test_the_default_policy_accepts_psi_and_paillier() -> None:
    policy = PartyPolicy()
    assert policy.align_protocols == ("ecdh", "rsa")
    assert policy.protections == ("paillier",)
    assert policy.min_key_bits == 2048
    assert policy.require_label_dp is False
    assert policy.refusal(_job(), "j-1") is None
    assert policy.refusal(_job(align={"protocol": "rsa"}), "j-1") is None


def test_protection_none_is_refused_unless_listed() -> None:
    job = _job(train={"protection": "none"})
    refusal = PartyPolicy().refusal(job, "breast-1a2b")
    assert refusal is not None
    assert refusal.rule is PolicyRule.PROTECTIONS
    assert refusal.line == (
        "job breast-1a2b: train.protection = 'none' is not allowed by party.toml [policy] "
        "protections (allowed: paillier); add it or ask for paillier"
    )
    assert _policy(protections=["paillier", "none"]).refusal(job, "breast-1a2b") is None


def test_join_is_refused_unless_listed() -> None:
    job = _job(align={"protocol": "join"})
    refusal = PartyPolicy().refusal(job, "j-1")
    assert refusal is not None and refusal.rule is PolicyRule.ALIGN_PROTOCOLS
    assert refusal.line == (
        "job j-1: align.protocol = 'join' is not allowed by party.toml [policy] "
        "align_protocols (allowed: ecdh, rsa); add it or ask for ecdh or rsa"
    )
    assert _policy(align_protocols=["join"]).refusal(job, "j-1") is None
    only_rsa = _policy(align_protocols=["rsa"]).refusal(_job(), "j-1")
    assert only_rsa is not None and only_rsa.line.endswith("add it or ask for rsa")


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"train": {"protection": "paillier", "key_bits": 2048}}, "train.key_bits"),
        (
            {"align": {"protocol": "rsa", "key_bits": 2048}, "train": {"key_bits": 3072}},
            "align.key_bits",
        ),
    ],
)
def test_keys_below_min_key_bits_are_refused(sections: dict[str, Any], field: str) -> None:
    policy = _policy(min_key_bits=3072)
    refusal = policy.refusal(_job(**sections), "j-1")
    assert refusal is not None and refusal.rule is PolicyRule.MIN_KEY_BITS
    assert refusal.line == (
        f"job j-1: {field} = 2048 is below party.toml [policy] min_key_bits = 3072; "
        f"lower min_key_bits or ask for {field} >= 3072"
    )
    part, key = field.split(".")
    assert policy.refusal(_job(**{**sections, part: {key: 3072}}), "j-1") is None


def test_key_sizes_of_protocols_the_job_does_not_use_are_not_checked() -> None:
    policy = _policy(min_key_bits=4096, protections=["none"])
    assert policy.refusal(_job(train={"protection": "none"}), "j-1") is None  # ecdh, no keys


def test_require_label_dp_refuses_jobs_without_it() -> None:
    policy = _policy(require_label_dp=True)
    refusal = policy.refusal(_job(), "j-1")
    assert refusal is not None and refusal.rule is PolicyRule.REQUIRE_LABEL_DP
    assert refusal.line == (
        "job j-1: [privacy] turns no label-DP on, but party.toml [policy] require_label_dp "
        "= true; set it to false or ask for [privacy] label_dp_epsilon"
    )
    assert policy.refusal(_job(privacy={"label_dp_epsilon": 2.0}), "j-1") is None
    assert PartyPolicy().refusal(_job(privacy={"label_dp_epsilon": 2.0}), "j-1") is None


def test_party_toml_policy_parses_and_defaults(tmp_path: Path) -> None:
    base = 'name = "lab"\ncoordinator = "127.0.0.1:5"\ninsecure = true\n'
    path = tmp_path / "party.toml"
    path.write_text(base)
    assert load_party_config(path).policy == PartyPolicy()
    path.write_text(
        base + '[policy]\nalign_protocols = ["ecdh", "join"]\nprotections = ["none"]\n'
        "min_key_bits = 3072\nrequire_label_dp = true\n"
    )
    policy = load_party_config(path).policy
    assert policy == PartyPolicy(
        align_protocols=("ecdh", "join"),
        protections=("none",),
        min_key_bits=3072,
        require_label_dp=True,
    )


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('protection = ["none"]', "policy.protection: unknown field (did you mean 'protections'?)"),
        ('protections = ["plain"]', "policy.protections[0]: Input should be 'none' or 'paillier'"),
        ("protections = []", "policy.protections: Tuple should have at least 1 item"),
        ("min_key_bits = 1024", "policy.min_key_bits: Input should be greater than or equal"),
    ],
)
def test_a_bad_policy_table_is_a_one_line_config_error(
    tmp_path: Path, table: str, fragment: str
) -> None:
    path = tmp_path / "party.toml"
    path.write_text(
        f'name = "lab"\ncoordinator = "127.0.0.1:5"\ninsecure = true\n[policy]\n{table}\n'
    )
    with pytest.raises(ConfigError) as exc:
        load_party_config(path)
    assert fragment in str(exc.value) and str(path) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_party_config_carries_the_policy() -> None:
    config = PartyConfig(name="lab", coordinator="127.0.0.1:5", insecure=True)
    assert config.policy == PartyPolicy()


def test_budgets_refuse_what_a_peers_spec_would_make_this_party_do() -> None:
    """The probes: 5,000 epochs and layers of 4096 units, at the default budgets."""
    policy = PartyPolicy()
    assert policy.refusal(_job(), "j", "bank") is None  # the control
    epochs = policy.refusal(_job(train={"epochs": 5000}), "j", "bank")
    assert epochs is not None and epochs.rule is PolicyRule.MAX_EPOCHS
    assert epochs.line == (
        "job j: train.epochs = 5000 is above party.toml [policy] max_epochs = 1000; raise "
        "max_epochs or ask for fewer epochs"
    )
    wide = _job(model={"bottom_hidden": [4096, 4096]})
    big = policy.refusal(wide, "j", "shop")
    assert big is not None and big.rule is PolicyRule.MAX_PARAMETERS
    cut = wide.model.cut_width  # 4096 → 4096 → cut, weights and biases (no features listed)
    assert f"this party's part has {4096 * 4096 + 4096 + 4096 * cut + cut:,} parameters" in big.line
    batch = _job(model={"bottom_hidden": [4096]}, train={"batch_size": 1_000_000})
    memory = PartyPolicy(max_parameters=10**9).refusal(batch, "j", "shop")
    assert memory is not None and memory.rule is PolicyRule.MEMORY_BUDGET_MB
    assert policy.refusal(wide, "j") is None  # without this party's name: rules only


def test_a_paillier_transfer_job_with_a_key_below_min_key_bits_is_refused(
    tmp_path: Path,
) -> None:
    spec = transfer_dict(
        synthetic_transfer(tmp_path),
        align={"protocol": "ecdh"},
        model={"hidden": []},
        train={"protection": "paillier"},
    )
    refusal = _policy(min_key_bits=3072).refusal(transfer_spec(spec), "j-1")
    assert refusal is not None and refusal.rule is PolicyRule.MIN_KEY_BITS
    assert "train.key_bits = 2048 is below" in refusal.line
