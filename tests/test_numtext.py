"""genomicdl.core.numtext writes what Python's "%.4e" writes, for whole matrices."""

from __future__ import annotations

import numpy as np
import pytest

from genomicdl.core.numtext import format_rows


def python_text(x: float, na: str = "nan") -> str:
    if np.isnan(x):
        return na
    return "0" if x == 0 else ("inf" if x == np.inf else "-inf" if x == -np.inf else f"{x:.4e}")


def test_matches_python_over_every_magnitude() -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((200, 64)) * 10.0 ** rng.integers(-320, 300, (200, 64))
    v[0, :12] = [0, np.nan, np.inf, -np.inf, 5e-324, 2.2250738585072014e-308, 1.7e308, 9.99995, 1.0, 0.1, 1e-5, -0.5]
    v[1] = rng.random(64).astype(np.float32)  # model probabilities
    rows = format_rows(v)
    assert [r.decode().split("\t") for r in rows] == [[python_text(x) for x in row] for row in v.tolist()]
    parsed = np.array([[float(w) for w in r.split(b"\t")] for r in rows])
    finite = np.isfinite(v) & (v != 0)
    assert np.allclose(parsed[finite], v[finite], rtol=5e-5, atol=0)


def test_prefixes_separator_and_missing_values() -> None:
    rows = format_rows(np.array([[0.5, -2.0], [np.nan, 3e-7]]), sep=b";", prefixes=[b"A=", b"LONGER_KEY="], na=b".")
    assert rows == [b"A=5.0000e-01;LONGER_KEY=-2.0000e+00", b"A=.;LONGER_KEY=3.0000e-07"]
    assert format_rows(np.zeros((0, 3))) == []
    assert format_rows(np.zeros((2, 0))) == [b"", b""]
    with pytest.raises(ValueError, match="2 prefixes for 3 columns"):
        format_rows(np.zeros((1, 3)), prefixes=[b"a", b"b"])
