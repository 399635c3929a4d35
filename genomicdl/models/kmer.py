"""Classical baselines on the k-mer spectrum, so that every deep model is measured
against something simple (cf. gkm-SVM, Ghandi et al. 2014; Lee et al. 2011).

KmerLogReg: standardised k-mer frequencies + L2 logistic regression (scikit-learn).
KmerGBM: k-mer frequencies + histogram gradient boosting (scikit-learn).
One estimator per task; strand-collapsed k-mers for double-stranded data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


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


class _KmerBaseline:
    """Shared fit/predict over tasks; subclasses make the per-task estimator."""

    def __init__(self, double_stranded: bool, seed: int, k: int) -> None:
        self.k, self.double_stranded, self.seed = k, double_stranded, seed
        self.estimators: list[Any] = []
        self.constant: list[float | None] = []

    def features(self, codes: np.ndarray) -> np.ndarray:
        return kmer_frequencies(codes, self.k, self.double_stranded)

    def _estimator(self) -> Any:
        raise NotImplementedError

    def fit(self, x: np.ndarray, y: np.ndarray, pos_weight: np.ndarray | None = None) -> _KmerBaseline:
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

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, n_tasks) probabilities of the positive class."""
        out = np.empty((len(x), len(self.estimators)), dtype=np.float32)
        for t, est in enumerate(self.estimators):
            out[:, t] = self.constant[t] if est is None else est.predict_proba(x)[:, 1]
        return out


class KmerLogReg(_KmerBaseline):
    """k-mer frequencies, standardised, with L2-regularised logistic regression."""

    def __init__(self, double_stranded: bool, seed: int, k: int = 5, C: float = 0.1,  # noqa: N803
                 max_iter: int = 2000) -> None:
        super().__init__(double_stranded, seed, k)
        self.C, self.max_iter = C, max_iter

    def _estimator(self) -> Any:
        return make_pipeline(StandardScaler(),
                             LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed))


class KmerGBM(_KmerBaseline):
    """k-mer frequencies with histogram gradient boosting."""

    def __init__(self, double_stranded: bool, seed: int, k: int = 4, max_iter: int = 200,
                 learning_rate: float = 0.1, max_leaf_nodes: int = 31) -> None:
        super().__init__(double_stranded, seed, k)
        self.max_iter, self.learning_rate, self.max_leaf_nodes = max_iter, learning_rate, max_leaf_nodes

    def _estimator(self) -> Any:
        return HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                              max_leaf_nodes=self.max_leaf_nodes, random_state=self.seed)
