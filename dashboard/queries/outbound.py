"""What will leave this silo if the party approves a job: derived from the job spec alone.

For each phase the spec's mode runs, the messages this party's role sends, to whom (by
party name), what they carry and under which protection, with the leakage each algorithm's
`messages.py` writes beside the message. The party decides before anything runs; the
ledger page shows afterwards what did leave. Every body also travels sealed end to end
between the parties (party.toml `seal`), so the coordinator sees kinds and sizes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl.config.job_spec import HorizontalJobSpec, JobSpec, TransferJobSpec, VerticalJobSpec
from vfl.config.phase_plan import Phase

COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Outbound:
    """One kind of message this party would send."""

    phase: str
    kind: str
    to: tuple[str, ...]
    carries: str
    protection: str


def outbound(spec: JobSpec, party: str) -> list[Outbound]:
    """The messages `party` sends in `spec`'s job; empty if it is not in the job or the
    mode has no programs in this version."""
    me = next((p for p in spec.parties if p.name == party), None)
    if me is None:
        return []
    if isinstance(spec, VerticalJobSpec):
        return _vertical(spec, party, me.role)
    if isinstance(spec, HorizontalJobSpec):
        return _horizontal(spec)
    if isinstance(spec, TransferJobSpec):
        return _transfer(spec, me.role)
    return []


def _vertical(spec: VerticalJobSpec, party: str, role: str) -> list[Outbound]:
    label = next(p.name for p in spec.parties if p.role == "label_holder")
    features = tuple(p.name for p in spec.parties if p.role == "feature_holder")
    peers = (label,) if role == "feature_holder" else features
    out = _align(spec, role, peers)
    if spec.align.cardinality_only:
        return out
    protection = spec.train.protection
    # a prediction job runs training's evaluate exchange once, in its predict phase
    phases = (Phase.PREDICT,) if spec.predict is not None else (Phase.TRAIN, Phase.EVALUATE)
    for phase in phases:
        if role == "feature_holder":
            out.append(
                Outbound(
                    phase,
                    "split.TrainHello",
                    peers,
                    "aligned row count and cut-layer width",
                    "none (counts only)",
                )
            )
            if protection == "paillier":
                out += [
                    Outbound(
                        phase,
                        "split_paillier.PaillierKey",
                        peers,
                        "this party's Paillier public key",
                        f"{spec.train.key_bits}-bit key",
                    ),
                    Outbound(
                        phase,
                        "split_paillier.EncryptedActivations",
                        peers,
                        "bottom-model outputs per batch",
                        "Paillier encrypted under this party's key, re-randomised",
                    ),
                    Outbound(
                        phase,
                        "split_paillier.UnmaskedProduct",
                        peers,
                        "the peer's masked product, decrypted",
                        "masked by the peer's noise",
                    ),
                ]
            else:
                out.append(
                    Outbound(
                        phase,
                        "split.Activations",
                        peers,
                        "bottom-model outputs per batch (cut layer)",
                        "none: plaintext activations",
                    )
                )
        elif protection == "paillier":
            out += [
                Outbound(
                    phase,
                    "split_paillier.MaskedProduct",
                    peers,
                    "encrypted activations times this party's weight share",
                    "Paillier (peer's key) plus this party's noise",
                ),
                Outbound(
                    phase,
                    "split_paillier.EncryptedGradients",
                    peers,
                    "cut-layer gradients",
                    "Paillier (peer's key) plus noise" + _label_dp(spec),
                ),
            ]
        else:
            out.append(
                Outbound(
                    phase,
                    "split.CutGradient",
                    peers,
                    "gradient of the loss at each peer's cut layer",
                    "none: plaintext gradients" + _label_dp(spec),
                )
            )
    if spec.predict is None:
        out.append(_initial_share(spec, role, peers))
    elif role == "label_holder" and spec.deliver_to != party and spec.predict.output:
        out.append(
            Outbound(
                Phase.PREDICT,
                "split.PredictScores",
                (spec.deliver_to,),
                "the final scores of the rows it holds, and the class values",
                "none: the job's output, to deliver_to only",
            )
        )
    return [o for o in out if o.phase == Phase.TRAIN or "Gradient" not in o.kind]


def _initial_share(spec: VerticalJobSpec, role: str, peers: tuple[str, ...]) -> Outbound:
    """Once per training phase the interactive weights start as two secret halves."""
    if role == "label_holder":
        return Outbound(
            Phase.TRAIN,
            "split.InteractiveShape",
            peers,
            "the interactive layer's width and fan-in",
            "none (shape only)",
        )
    if spec.train.protection == "paillier":
        return Outbound(
            Phase.TRAIN,
            "split_paillier.InitialShare",
            peers,
            "this party's half of the initial interactive weights",
            "masked by this party's secret share",
        )
    return Outbound(
        Phase.TRAIN,
        "split.InteractiveShare",
        peers,
        "this party's half of the initial interactive weights, drawn from its own secret",
        "none: plaintext half (the other half stays with the peer)",
    )


def _align(
    spec: VerticalJobSpec | TransferJobSpec, role: str, peers: tuple[str, ...]
) -> list[Outbound]:
    protocol = spec.align.protocol
    check = Outbound(
        Phase.ALIGN,
        "psi.AlignCheck",
        peers,
        "whether an alignment is stored, and its SHA-256",
        "digest only",
    )
    if protocol == "join":
        ids = Outbound(
            Phase.ALIGN,
            "join.IdList",
            peers,
            "every ID of this party",
            "none: raw IDs (test data only)",
        )
        if role != "label_holder":
            return [check, ids]
        shared = Outbound(
            Phase.ALIGN, "join.Intersection", peers, "the shared IDs", "none: raw IDs"
        )
        return [check, ids, shared]
    if protocol == "rsa":
        carries = (
            "signatures over the peer's blinded IDs and tags of own IDs"
            if role == "label_holder"
            else "this party's IDs, blinded"
        )
        return [
            check,
            Outbound(
                Phase.ALIGN,
                "rsa.Blinded / rsa.Signed / rsa.Tags",
                peers,
                carries,
                f"RSA blind signatures ({spec.align.key_bits}-bit)",
            ),
        ]
    blinded = Outbound(
        Phase.ALIGN,
        "ecdh.Blinded",
        peers,
        "this party's IDs hashed to Curve25519 and blinded; its set size",
        "ECDH blinding with a secret scalar per job",
    )
    if role == "label_holder":
        tail = "psi.Cardinality" if spec.align.cardinality_only else "psi.Selection"
        what = (
            "the count of shared rows"
            if spec.align.cardinality_only
            else "each peer's positions of the shared rows"
        )
        return [check, blinded, Outbound(Phase.ALIGN, tail, peers, what, "counts/positions")]
    return [
        check,
        blinded,
        Outbound(
            Phase.ALIGN,
            "ecdh.Reblinded",
            peers,
            "the peer's blinded IDs, blinded again",
            "ECDH blinding (doubly blinded, 16 bytes)",
        ),
    ]


def _label_dp(spec: VerticalJobSpec) -> str:
    if not spec.privacy.label_dp:
        return ""
    return f"; label-DP (clip {spec.privacy.clip}, Gaussian noise)"


def _horizontal(spec: HorizontalJobSpec) -> list[Outbound]:
    t, privacy = spec.train, spec.privacy
    protection = "secure aggregation (pairwise masks)" if t.secure_aggregation else "none"
    if privacy.client_dp_epsilon is not None:
        protection += f"; client-level DP (ε target {privacy.client_dp_epsilon})"
    if privacy.dp_sgd_epsilon is not None or privacy.dp_sgd_noise_multiplier is not None:
        protection += "; record-level DP-SGD"
    if t.compression != "none":
        protection += f"; {t.compression} compression"
    to = (COORDINATOR,)
    out = [
        Outbound(
            Phase.TRAIN, "horizontal.Schema", to, "column names and row count", "none (schema only)"
        ),
        Outbound(
            Phase.TRAIN,
            "horizontal.Scaling",
            to,
            "column sums for standardisation",
            protection if t.secure_aggregation else "none",
        ),
        Outbound(
            Phase.TRAIN,
            "horizontal.Update",
            to,
            f"model update each of {t.rounds} rounds",
            protection,
        ),
    ]
    if t.secure_aggregation:
        out.append(
            Outbound(
                Phase.TRAIN,
                "horizontal.MaskKey / KeyShares",
                to,
                "mask public keys and encrypted key shares for peers",
                "encrypted to each peer",
            )
        )
    out.append(
        Outbound(
            Phase.EVALUATE,
            "horizontal.LocalMetrics",
            to,
            "local evaluation metrics",
            "aggregates only",
        )
    )
    return out


def _transfer(spec: TransferJobSpec, role: str) -> list[Outbound]:
    """Transfer (FTL): the source plays PSI's label-holder side, the target the other;
    vfl/algorithms/transfer/messages.py and paillier/messages.py write each leakage."""
    source, target = spec.source.name, spec.target.name
    peers = (target,) if role == "source" else (source,)
    out = _align(spec, "label_holder" if role == "source" else "feature_holder", peers)
    if spec.align.cardinality_only:
        return out
    if role == "target":
        out.append(
            Outbound(
                Phase.TRAIN, "transfer.TransferHello", peers, "overlap row count and width", "none"
            )
        )
    if spec.train.protection == "paillier":
        key = f"{spec.train.key_bits}-bit Paillier"
        terms = "SourceTerms" if role == "source" else "TargetTerms"
        masked = "MaskedSourceGradient" if role == "source" else "MaskedTargetGradient"
        opened = "OpenedTargetGradient" if role == "source" else "OpenedSourceGradient"
        out += [
            Outbound(Phase.TRAIN, "transfer_paillier.TransferKey", peers, "public key", key),
            Outbound(
                Phase.TRAIN,
                f"transfer_paillier.{terms}",
                peers,
                "per-row loss terms of this party's representations, per batch",
                f"encrypted under this party's key ({key}), re-randomised",
            ),
            Outbound(
                Phase.TRAIN,
                f"transfer_paillier.{masked}",
                peers,
                "this party's head gradient, computed on the peer's ciphertexts",
                "under the peer's key, masked uniformly before the peer decrypts it",
            ),
            Outbound(
                Phase.TRAIN,
                f"transfer_paillier.{opened}",
                peers,
                "the peer's masked head gradient, decrypted",
                "a uniform residue (the peer's mask)",
            ),
        ]
        if role == "source":
            out.append(
                Outbound(
                    Phase.EVALUATE,
                    "transfer.ScoringSummary",
                    peers,
                    "class summary Φ (label-weighted mean representation)",
                    "none: K×d numbers",
                )
            )
        else:
            out.append(
                Outbound(
                    Phase.EVALUATE,
                    "transfer.Scores",
                    peers,
                    "the model's score of each validation and overlap row",
                    "none: one logit per row",
                )
            )
    elif role == "target":
        out.append(
            Outbound(
                Phase.TRAIN,
                "transfer.Representations",
                peers,
                "representations u_B of every overlap row (train, validation, evaluate)",
                "none: plaintext representations",
            )
        )
    else:
        out.append(
            Outbound(
                Phase.TRAIN,
                "transfer.RepresentationGradient",
                peers,
                "∂L/∂u_B per overlap row (reveals labels and u_A)",
                "none: plaintext gradients",
            )
        )
    if role == "source":
        out.append(
            Outbound(
                Phase.PREDICT,
                "transfer.ClassSummary",
                peers,
                "class summary Φ and the class values, for the target's own scoring",
                "none: K×d numbers",
            )
        )
    return out
