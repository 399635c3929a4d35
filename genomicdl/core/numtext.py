"""Float matrices as delimited text, fast: ``"%.4e" % value`` for whole arrays at once.

Writing the scores of a many-task model is dominated by number formatting when Python
formats each value (DeepSEA's 919 tasks x 4 scores per variant: 3,676 numbers a line).
A compiled loop (numba) writes the same text into one byte buffer, an order of
magnitude faster. Zero is written ``0``; the last digit may differ from Python's in
the rare case where a value lies within float rounding of a tie.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

_POW10 = 10.0 ** np.arange(-300, 309, dtype=np.float64)  # 10**k at index k + 300


@numba.njit(cache=True, nogil=True)
def _write(values, prefixes, prefix_len, sep, na, out, row_end):  # pragma: no cover - compiled
    pos = 0
    n, m = values.shape
    for i in range(n):
        for j in range(m):
            if j > 0:
                out[pos] = sep
                pos += 1
            for k in range(prefix_len[j]):
                out[pos] = prefixes[j, k]
                pos += 1
            x = values[i, j]
            if x != x:  # NaN
                for k in range(len(na)):
                    out[pos] = na[k]
                    pos += 1
                continue
            if x < 0:
                out[pos] = 45  # -
                pos += 1
                x = -x
            if x == np.inf:
                out[pos], out[pos + 1], out[pos + 2] = 105, 110, 102  # inf
                pos += 3
                continue
            if x == 0:
                out[pos] = 48
                pos += 1
                continue
            shift = 0
            if x < 1e-290:  # subnormal range: scale up so that 10**(e - 4) stays a normal float
                x *= 1e300
                shift = -300
            e = int(np.floor(np.log10(x)))
            mant = int(np.rint(x / _POW10[e - 4 + 300]))
            if mant >= 100000:
                e += 1
                mant = int(np.rint(x / _POW10[e - 4 + 300]))
            elif mant < 10000:
                e -= 1
                mant = int(np.rint(x / _POW10[e - 4 + 300]))
            if mant >= 100000:  # a carry from the corrected exponent's rounding
                mant //= 10
                e += 1
            e += shift
            d = 10000
            out[pos] = 48 + mant // d
            pos += 1
            out[pos] = 46  # .
            pos += 1
            mant %= d
            for _ in range(4):
                d //= 10
                out[pos] = 48 + mant // d
                mant %= d
                pos += 1
            out[pos] = 101  # e
            pos += 1
            out[pos] = 45 if e < 0 else 43
            pos += 1
            e = -e if e < 0 else e
            if e >= 100:
                out[pos] = 48 + e // 100
                pos += 1
            out[pos] = 48 + (e // 10) % 10
            out[pos + 1] = 48 + e % 10
            pos += 2
        row_end[i] = pos
    return pos


def format_rows(
    values: np.ndarray, sep: bytes = b"\t", prefixes: Sequence[bytes] | None = None, na: bytes = b"nan"
) -> list[bytes]:
    """Each row of a (n, m) float matrix as text: ``prefix + "%.4e" % value`` per column,
    joined by ``sep`` (no trailing separator). Zero is ``0``, NaN ``na``, infinities
    ``inf`` and ``-inf``."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {v.shape}")
    n, m = v.shape
    if len(sep) != 1:
        raise ValueError("the separator must be one byte")
    words = list(prefixes) if prefixes is not None else [b""] * m
    if len(words) != m:
        raise ValueError(f"{len(words)} prefixes for {m} columns")
    width = max([len(w) for w in words] + [1])
    table = np.zeros((m, width), np.uint8)
    for j, w in enumerate(words):
        table[j, : len(w)] = np.frombuffer(w, np.uint8)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    per_value = max(13, len(na) + 1)  # sign, d.dddd, e-ddd, separator
    out = np.empty(n * (int(lengths.sum()) + m * per_value) + 1, np.uint8)
    ends = np.zeros(n, np.int64)
    _write(v, table, lengths, sep[0], np.frombuffer(na, np.uint8), out, ends)
    data = out[: int(ends[-1]) if n else 0].tobytes()
    starts = [0, *ends[:-1].tolist()]
    return [data[s:e] for s, e in zip(starts, ends.tolist())]
