"""The k-mer spectrum shared by the classical baselines (kmer_logreg, kmer_gbm), so that
every deep model is measured against something simple (cf. Lee et al. 2011; gkm-SVM,
Ghandi et al. 2014): k-mer frequencies, strand-collapsed for double-stranded data, and
one scikit-learn estimator per task.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def kmer_columns(k: int, double_stranded: bool) -> np.ndarray:
    """Column of each of the 4**k k-mers (reverse complements share one when double-stranded)."""
    ids = np.arange(4**k)
    if not double_stranded:
        return ids
    digits = (ids[:, None] // 4 ** np.arange(k)[::-1]) % 4
    rc = ((3 - digits[:, ::-1]) * 4 ** np.arange(k)[::-1]).sum(axis=1)
    canonical = np.minimum(ids, rc)
    _, column = np.unique(canonical, return_inverse=True)
    return column


def kmer_frequencies(codes: np.ndarray, k: int, double_stranded: bool) -> np.ndarray:
    """(n, L) base codes -> (n, n_kmers) float32 frequencies; k-mers with N are skipped."""
    n, length = codes.shape
    span = length - k + 1
    if span <= 0:
        raise ValueError(f"k={k} is longer than the window ({length} bp)")
    idx = np.zeros((n, span), dtype=np.int64)
    valid = np.ones((n, span), dtype=bool)
    for j in range(k):
        c = codes[:, j : j + span]
        idx = idx * 4 + np.minimum(c, 3)
        valid &= c < 4
    columns = kmer_columns(k, double_stranded)
    width = int(columns.max()) + 1
    flat = (np.arange(n)[:, None] * width + columns[idx])[valid]
    counts = np.bincount(flat, minlength=n * width).reshape(n, width).astype(np.float32)
    return counts / np.maximum(valid.sum(axis=1, keepdims=True), 1)


class KmerBaseline:
    """Shared fit/predict over tasks; subclasses make the per-task estimator."""

    def __init__(self, double_stranded: bool, seed: int, k: int) -> None:
        self.k, self.double_stranded, self.seed = k, double_stranded, seed
        self.estimators: list[Any] = []
        self.constant: list[float | None] = []

    def features(self, codes: np.ndarray) -> np.ndarray:
        return kmer_frequencies(codes, self.k, self.double_stranded)

    def _estimator(self) -> Any:
        raise NotImplementedError

    def fit(self, x: np.ndarray, y: np.ndarray, pos_weight: np.ndarray | None = None) -> KmerBaseline:
        """Fit one estimator per task; ``pos_weight`` scales positive rows' weight."""
        self.estimators, self.constant = [], []
        for t in range(y.shape[1]):
            yt = y[:, t]
            if yt.min() == yt.max():  # one class only: predict it
                self.estimators.append(None)
                self.constant.append(float(yt[0]))
                continue
            weight = np.where(yt == 1, pos_weight[t] if pos_weight is not None else 1.0, 1.0)
            est = self._estimator()
            if hasattr(est, "steps"):  # a pipeline routes the weight to its last step
                est.fit(x, yt, **{f"{est.steps[-1][0]}__sample_weight": weight})
            else:
                est.fit(x, yt, sample_weight=weight)
            self.estimators.append(est)
            self.constant.append(None)
        return self

    def parameter_count(self) -> int:
        """Fitted numbers of all tasks' estimators (coefficients and intercepts, or tree nodes)."""
        return sum(self._estimator_parameters(est) for est in self.estimators if est is not None)

    @staticmethod
    def _estimator_parameters(est: Any) -> int:
        raise NotImplementedError

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, n_tasks) probabilities of the positive class."""
        out = np.empty((len(x), len(self.estimators)), dtype=np.float32)
        for t, est in enumerate(self.estimators):
            out[:, t] = self.constant[t] if est is None else est.predict_proba(x)[:, 1]
        return out
