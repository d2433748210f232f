"""Per-operation Paillier rates at 2048 bits: python-paillier baseline vs our kernels vs HEU,
and our own Okamoto–Uchiyama kernels (vfl/crypto/ou.py) at 2048 and 3072 bits.

Run: `.venv/bin/python -m benchmarks.paillier_primitives`
(writes benchmarks/results/paillier_primitives.json).
The baseline (phe encrypt/decrypt/scalar multiply) is measured in the same run, and so are
SecretFlow HEU's ZPaillier and Okamoto–Uchiyama (OU) when `sf-heu` (the `heu` extra) is
installed; without it their rows are skipped with the reason printed.
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

from vfl.crypto import heu_native, kernels, ou
from vfl.crypto.keys import generate_keypair
from vfl.crypto.ou_backend import OuBackend

OUT = Path(__file__).resolve().parent / "results" / "paillier_primitives.json"


def per_second(fn: Callable[[], object], count: int) -> float:
    start = time.process_time()
    fn()
    return count / max(time.process_time() - start, 1e-9)


def heu_rates(schema: str, key_bits: int) -> tuple[dict[str, float], int]:
    """HEU's rates for one scheme under a key it generates, and its plaintext bits."""
    he = heu_native.HeuScheme.generate(schema, key_bits)
    small = [secrets.randbits(16) - (1 << 15) for _ in range(2000)]
    cts = [he.encrypt(m) for m in small[:400]]
    k16 = [secrets.randbits(16) | 1 << 15 for _ in range(400)]
    k64 = [secrets.randbits(62) | 1 << 62 for _ in range(400)]  # HEU: int64 scalars only
    ints = [he.to_int(c) for c in cts]
    enc_n, dec_n = (400, 60) if schema == "ZPaillier" else (2000, 400)
    x = f"heu_{schema.lower()}_"
    r = {
        x + "encrypt_per_s": per_second(lambda: [he.encrypt(m) for m in small[:enc_n]], enc_n),
        x + "decrypt_per_s": per_second(lambda: [he.decrypt(c) for c in cts[:dec_n]], dec_n),
        x + "add_ct_ct_per_s": per_second(
            lambda: [he.add(a, b) for a, b in itertools.pairwise(cts)], 399
        ),
        x + "mul_int16_per_s": per_second(
            lambda: [he.mul(c, k) for c, k in zip(cts, k16, strict=True)], 400
        ),
        x + "mul_int64_per_s": per_second(
            lambda: [he.mul(c, k) for c, k in zip(cts, k64, strict=True)], 400
        ),
        x + "rerandomize_per_s": per_second(
            lambda: [he.rerandomize(c) for c in cts[:enc_n]], enc_n
        ),
        x + "to_int_per_s": per_second(lambda: [he.to_int(c) for c in cts], 400),
        x + "from_int_per_s": per_second(lambda: [he.from_int(v) for v in ints], 400),
        # Replay-deterministic encryption: our obfuscator (an Enc(0)) loaded, plus m.
        x + "encrypt_with_own_obfuscator_per_s": per_second(
            lambda: [he.add_plain(he.from_int(o), m) for o, m in zip(ints, small, strict=False)],
            400,
        ),
    }
    if schema == "OU":
        # Our own OU obfuscators H^r with r of 256 bits (HEU's encryptor draws 110).
        h, nn = gmpy2.mpz(he.ou_h()), gmpy2.mpz(he.modulus)
        rs = [secrets.randbits(ou.SHORT_RANDOMNESS_BITS) for _ in range(400)]
        table = kernels.comb_table(h, ou.SHORT_RANDOMNESS_BITS, nn)
        r[x + "own_obfuscator_powmod_r256_per_s"] = per_second(
            lambda: [gmpy2.powmod(h, e, nn) for e in rs], 400
        )
        r[x + "own_obfuscator_comb_r256_per_s"] = per_second(
            lambda: kernels.djn_obfuscators(table, rs, nn), 400
        )
    return r, he.plaintext_bits


def ou_rates(key_bits: int) -> tuple[dict[str, float], int]:
    """Our gmpy2 OU (vfl/crypto/ou.py) at one key size, and its signed plaintext bits."""
    start = time.process_time()
    keys = ou.generate_ou_keypair(key_bits)
    x = f"ours_ou{key_bits}_"
    r = {x + "keygen_s": time.process_time() - start}
    short = OuBackend(keys)
    owner = OuBackend(keys, keys.public.owner_randomness_bits)
    rs = [secrets.randbits(short.randomness_bits) for _ in range(400)]
    ro = [secrets.randbits(owner.randomness_bits) for _ in range(100)]
    obf = short.obfuscators(rs)
    big = [secrets.randbits(keys.public.plaintext_bits - 2) for _ in range(400)]
    cts = short.encrypt(big, obf)
    k16 = [[(i, secrets.randbits(16) - (1 << 15)) for i in range(256)] for _ in range(4)]
    r[x + "short_obfuscator_r256_per_s"] = per_second(lambda: short.obfuscators(rs), 400)
    r[x + "owner_obfuscator_per_s"] = per_second(lambda: owner.obfuscators(ro), 100)
    r[x + "encrypt_with_ready_obfuscator_per_s"] = per_second(lambda: short.encrypt(big, obf), 400)
    r[x + "decrypt_per_s"] = per_second(lambda: short.decrypt(cts), 400)
    r[x + "multi_exp_terms_int16_per_s"] = per_second(lambda: short.linear(cts, k16), 4 * 256)
    r[x + "add_ct_ct_per_s"] = per_second(lambda: short.add(cts[1:], cts[:-1]), 399)
    return r, keys.public.plaintext_bits


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
    k64 = [secrets.randbits(62) | 1 << 62 for _ in range(400)]  # 63 bits, as HEU's rows
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
        "powmod_int64_per_s": per_second(
            lambda: [gmpy2.powmod(c, k, n2) for c, k in zip(cts, k64, strict=True)], 400
        ),
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
    plain_bits = {"phe": int(n.bit_length()), "gmpy2_kernels": int(n.bit_length())}
    for ou_bits in (2048, 3072):
        rates, bits = ou_rates(ou_bits)
        r.update(rates)
        plain_bits[f"ours_ou{ou_bits}"] = bits
        # Decrypted plaintext bits per CPU-second against Paillier's CRT decryption.
        r[f"ours_ou{ou_bits}_decrypted_bits_speedup_over_crt"] = (
            r[f"ours_ou{ou_bits}_decrypt_per_s"] * bits / (r["decrypt_crt_per_s"] * 2047)
        )
    if heu_native.UNAVAILABLE is not None:
        print(f"HEU rows skipped: {heu_native.UNAVAILABLE}")
    else:
        for schema in heu_native.SCHEMES:
            rates, bits = heu_rates(schema, 2048)
            r.update(rates)
            plain_bits[f"heu_{schema.lower()}"] = bits
        r["heu_zpaillier_decrypt_speedup_over_crt"] = (
            r["heu_zpaillier_decrypt_per_s"] / r["decrypt_crt_per_s"]
        )
        r["heu_ou_decrypt_speedup_over_crt"] = r["heu_ou_decrypt_per_s"] / r["decrypt_crt_per_s"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps({"key_bits": 2048, "cpu_rates": r, "plaintext_bits": plain_bits}, indent=2)
        + "\n"
    )
    for k, v in r.items():
        print(f"{k:40s} {v:12.1f}")
    for k, b in plain_bits.items():
        print(f"plaintext bits {k:25s} {b:12d}")


if __name__ == "__main__":
    main()
