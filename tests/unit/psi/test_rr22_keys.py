"""The rr22 key files in numpy against slow, obviously correct oracles: the key of an ID
(pinned to SHA-256 of the domain and the ID), spu's input CSV, its output CSV however it
is quoted or broken, and the bytewise order both parties list the result in."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psi.ids import MemoryIds
from psi.rr22.keys import id_keys, read_keys, sorted_keys, write_keys
from vfl.errors import ProtocolError

keys = st.lists(st.binary(min_size=16, max_size=16), max_size=50).map(
    lambda rows: np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, 16)
)


@settings(max_examples=30)
@given(
    st.lists(st.text(min_size=1, max_size=20), unique=True).map(
        lambda xs: [x for x in xs if x.splitlines() == [x]]
    )
)
def test_id_keys_are_the_first_16_bytes_of_sha256_of_domain_and_id(values: list[str]) -> None:
    expected = b"".join(
        hashlib.sha256(b"vfl/rr22/id\x00" + v.encode()).digest()[:16] for v in values
    )
    assert id_keys(MemoryIds("t", values)).tobytes() == expected


@given(keys)
def test_written_keys_are_one_lowercase_hex_key_a_line_and_read_back(
    tmp_path_factory: pytest.TempPathFactory, rows: np.ndarray
) -> None:
    path = tmp_path_factory.mktemp("k") / "keys.csv"
    write_keys(path, rows)
    assert path.read_text(encoding="ascii") == "id\n" + "".join(
        r.tobytes().hex() + "\n" for r in rows
    )
    assert read_keys(path, len(rows)).tobytes() == rows.tobytes()


@pytest.mark.parametrize(
    "body",
    [
        '"id"\n' + "".join(f'"{k}"\n' for k in ("ab" * 16, "CD" * 16)),  # quoted, upper case
        "id\r\n" + "ab" * 16 + "\r\n" + "CD" * 16 + "\r\n",  # CRLF: the line-by-line path
        "id\n" + "ab" * 16 + "\n" + "CD" * 16,  # no line break at the end
    ],
)
def test_spus_output_is_read_however_it_is_quoted(tmp_path: Path, body: str) -> None:
    (tmp_path / "out.csv").write_text(body, encoding="ascii", newline="")
    found = read_keys(tmp_path / "out.csv", limit=2)
    assert found.tobytes() == bytes.fromhex("ab" * 16 + "cd" * 16)


@pytest.mark.parametrize(
    ("body", "limit", "why"),
    [
        ("key\n" + "ab" * 16 + "\n", 5, "header 'key'"),
        ("id\n" + "ab" * 16 + "\n" + "zz" * 16 + "\n", 5, "line 3 is not hex"),
        ("id\n" + "ab" * 16 + "\nabcd\n", 5, "line 3 is not a 16-byte key"),
        ("id\n" + "ab" * 16 + "\n\n", 5, "line 3 is not a 16-byte key"),
        ("id\n" + ("ab" * 16 + "\n") * 3, 2, "line 4 is more rows than the smaller set"),
    ],
)
def test_a_broken_result_file_names_its_line(
    tmp_path: Path, body: str, limit: int, why: str
) -> None:
    (tmp_path / "out.csv").write_text(body, encoding="ascii")
    with pytest.raises(ProtocolError, match=why):
        read_keys(tmp_path / "out.csv", limit)


@given(keys, st.data())
def test_sorted_keys_are_in_bytewise_order_ties_in_the_first_word_included(
    rows: np.ndarray, data: st.DataObject
) -> None:
    rows = rows.copy()
    if len(rows) >= 2:  # make some keys share their first 8 bytes
        pairs = data.draw(st.lists(st.tuples(*[st.integers(0, len(rows) - 1)] * 2), max_size=4))
        for a, b in pairs:
            rows[a, :8] = rows[b, :8]
    expected = sorted(r.tobytes() for r in rows)
    assert [r.tobytes() for r in sorted_keys(rows)] == expected
