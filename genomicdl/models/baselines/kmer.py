"""k-mer spectra, the features of the k-mer baselines (kmer_logreg, kmer_ridge,
kmer_gbm), so that every deep model is measured against something simple (cf. Lee et
al. 2011; gkm-SVM, Ghandi et al. 2014).

Frequencies count the valid positions only (a k-mer with an unknown letter or padding is
skipped). Reverse complements share a column when the data are double-stranded and
the alphabet has a complement. Nucleotide alphabets use the k-mers of one order k;
protein uses every order 1..k (k = 2: amino-acid and dipeptide composition), since
20**k columns grow fast and the short orders carry most of the signal.
"""

from __future__ import annotations

import numpy as np

from genomicdl.core.sequence import complement_table, get

#: Largest spectrum (columns) a baseline will build.
MAX_COLUMNS = 1 << 18


def kmer_columns(k: int, size: int = 4, complement: np.ndarray | None = None) -> np.ndarray:
    """Column of each of the size**k k-mers (reverse complements share one when
    ``complement``, a code -> complementary code table, is given)."""
    ids = np.arange(size**k)
    if complement is None:
        return ids
    place = size ** np.arange(k)[::-1]
    digits = (ids[:, None] // place) % size
    rc = (complement[digits[:, ::-1]].astype(np.int64) * place).sum(axis=1)
    _, column = np.unique(np.minimum(ids, rc), return_inverse=True)
    return column.ravel()


def kmer_frequencies(
    codes: np.ndarray,
    lengths: np.ndarray | None,
    k: int,
    size: int = 4,
    complement: np.ndarray | None = None,
) -> np.ndarray:
    """(n, L) codes -> (n, columns) float32 frequencies of the k-mers within each row's
    length; k-mers with an unknown letter or padding are skipped."""
    n, width = codes.shape
    columns = kmer_columns(k, size, complement)
    n_columns = int(columns.max()) + 1
    span = width - k + 1
    if span <= 0:
        return np.zeros((n, n_columns), np.float32)
    idx = np.zeros((n, span), dtype=np.int64)
    valid = np.ones((n, span), dtype=bool)
    for j in range(k):
        c = codes[:, j : j + span]
        idx = idx * size + np.minimum(c, size - 1)
        valid &= c < size
    if lengths is not None:
        valid &= np.arange(span)[None, :] + k <= np.asarray(lengths)[:, None]
    flat = (np.arange(n)[:, None] * n_columns + columns[idx])[valid]
    counts = np.bincount(flat, minlength=n * n_columns).reshape(n, n_columns).astype(np.float32)
    return counts / np.maximum(valid.sum(axis=1, keepdims=True), 1)


class KmerSpectrum:
    """The k-mer features of one alphabet: order k (nucleotides) or orders 1..k (protein)."""

    def __init__(self, k: int, alphabet: str, double_stranded: bool) -> None:
        a = get(alphabet)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.size = a.channels
        self.orders = tuple(range(1, k + 1)) if a.complement is None else (k,)
        self.complement = complement_table(a)[: self.size] if double_stranded and a.has_complement else None
        if sum(self.size**order for order in self.orders) > MAX_COLUMNS:
            raise ValueError(f"k={k} gives more than {MAX_COLUMNS} k-mer columns for the {a.name} alphabet")

    def __call__(self, codes: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        parts = [kmer_frequencies(codes, lengths, k, self.size, self.complement) for k in self.orders]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
