"""Per-operation Paillier rates at 2048 bits: python-paillier baseline vs our kernels.

Run: `.venv/bin/python -m benchmarks.paillier_primitives`
(writes benchmarks/results/paillier_primitives.json).
The baseline (phe encrypt/decrypt/scalar multiply) is measured in the same run.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import gmpy2
from phe import paillier

from vfl.crypto import kernels
from vfl.crypto.keys import generate_keypair

OUT = Path(__file__).resolve().parent / "results" / "paillier_primitives.json"


def per_second(fn: Callable[[], object], count: int) -> float:
    start = time.process_time()
    fn()
    return count / max(time.process_time() - start, 1e-9)


def main() -> None:
    keys = generate_keypair(2048)
    n, n2, p, q = keys.public.n, keys.public.n2, keys.private.p, keys.private.q
    pub = paillier.PaillierPublicKey(int(n))
    priv = paillier.PaillierPrivateKey(pub, int(p), int(q))
    phe_cts = [pub.encrypt(i) for i in range(10)]
    table = kernels.comb_table(keys.public.hs, keys.public.alpha_bits, n2)
    alphas = [secrets.randbits(keys.public.alpha_bits) for _ in range(400)]
    obf = kernels.djn_obfuscators(table, alphas, n2)
    cts = kernels.encrypt_with(list(range(400)), obf, n)
    kernels.djn_chunk_crt(p, q, keys.public.hs, keys.public.alpha_bits, alphas[:1])  # tables
    exps16 = [[(i, secrets.randbits(16) - (1 << 15)) for i in range(256)] for _ in range(4)]
    r: dict[str, float] = {
        "phe_encrypt_per_s": per_second(lambda: [pub.encrypt(i) for i in range(20)], 20),
        "phe_decrypt_per_s": per_second(lambda: [priv.decrypt(c) for c in phe_cts], 10),
        "phe_mul_int16_per_s": per_second(lambda: [c * 40000 for c in phe_cts * 20], 200),
        "classic_rn_crt_per_s": per_second(lambda: kernels.classic_obfuscators_crt(20, p, q), 20),
        "djn_comb_obfuscator_per_s": per_second(
            lambda: kernels.djn_obfuscators(table, alphas[:200], n2), 200
        ),
        "djn_crt_obfuscator_key_owner_per_s": per_second(
            lambda: kernels.djn_chunk_crt(
                p, q, keys.public.hs, keys.public.alpha_bits, alphas[:200]
            ),
            200,
        ),
        "encrypt_with_pooled_obfuscator_per_s": per_second(
            lambda: kernels.encrypt_with(list(range(400)), obf, n), 400
        ),
        "decrypt_crt_per_s": per_second(lambda: kernels.decrypt_crt(cts[:60], p, q), 60),
        "powmod_int16_per_s": per_second(lambda: [gmpy2.powmod(c, 40000, n2) for c in cts], 400),
        "multi_exp_terms_int16_per_s": per_second(
            lambda: kernels.multi_exp(cts[:256], exps16, n2), 4 * 256
        ),
        "add_ct_ct_per_s": per_second(
            lambda: [a * b % n2 for a, b in itertools.pairwise(cts)], 399
        ),
    }
    r["djn_speedup_over_classic_crt"] = r["djn_comb_obfuscator_per_s"] / r["classic_rn_crt_per_s"]
    r["djn_crt_speedup_over_djn"] = (
        r["djn_crt_obfuscator_key_owner_per_s"] / r["djn_comb_obfuscator_per_s"]
    )
    r["encrypt_speedup_over_phe"] = (
        r["encrypt_with_pooled_obfuscator_per_s"] / r["phe_encrypt_per_s"]
    )
    r["multi_exp_speedup_over_powmod"] = r["multi_exp_terms_int16_per_s"] / r["powmod_int16_per_s"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"key_bits": 2048, "cpu_rates": r}, indent=2) + "\n")
    for k, v in r.items():
        print(f"{k:40s} {v:12.1f}")


if __name__ == "__main__":
    main()
