"""Linear k-mer baselines' shared parts: standardised k-mer spectra, and scikit-learn's
linear estimators rebuilt from their fitted parameters (coef_, intercept_, classes_;
the scaler's mean_ and scale_), so that a saved model is numbers, never code."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.preprocessing import StandardScaler

from genomicdl.models.baselines.classical import ClassicalBaseline
from genomicdl.models.baselines.kmer import KmerSpectrum
from genomicdl.kinds.targets import Target


def linear_arrays(est: Any) -> dict[str, np.ndarray]:
    """The fitted parameters of a LogisticRegression or Ridge."""
    arrays = {"coef": np.ascontiguousarray(est.coef_), "intercept": np.ascontiguousarray(np.atleast_1d(est.intercept_))}
    if hasattr(est, "classes_"):
        arrays["classes"] = np.asarray(est.classes_, np.int64)
    return arrays


def rebuild_linear(est: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``est`` (an unfitted LogisticRegression or Ridge) given fitted parameters (in the
    dtype they were fitted in, so that predictions are bit for bit the same)."""
    coef, intercept = np.asarray(arrays["coef"]), np.asarray(arrays["intercept"])
    if coef.dtype.kind != "f" or intercept.dtype.kind != "f":
        raise ValueError(f"linear coefficients must be floats, got {coef.dtype} and {intercept.dtype}")
    if isinstance(est, LogisticRegression):
        est.classes_ = np.asarray(arrays["classes"], np.int64)
        if coef.ndim != 2 or len(coef) != (1 if len(est.classes_) == 2 else len(est.classes_)):
            raise ValueError(f"logistic regression coefficients of shape {coef.shape} for {len(est.classes_)} classes")
    elif coef.ndim != 1 or intercept.shape != (1,):
        raise ValueError(f"ridge coefficients of shape {coef.shape}, intercept {intercept.shape}")
    est.coef_ = coef
    est.intercept_ = intercept if isinstance(est, LogisticRegression) else intercept[0]
    est.n_features_in_ = coef.shape[-1]
    return est


def rebuild_scaler(mean: np.ndarray, scale: np.ndarray) -> StandardScaler:
    """A fitted StandardScaler from its mean_ and scale_."""
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = np.asarray(mean), np.asarray(scale)
    scaler.var_ = scaler.scale_**2
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = 0
    return scaler


class LinearEstimator:
    """The state of a baseline whose estimators are linear (LogisticRegression or Ridge):
    saved as coefficients and intercepts, rebuilt from them (with the class's own
    unfitted ``_estimator``)."""

    def _estimator_arrays(self, est: Any) -> dict[str, np.ndarray]:
        return linear_arrays(est)

    def _estimator_from(self, arrays: dict[str, np.ndarray]) -> Any:
        return rebuild_linear(self._estimator(), arrays)

    def _estimator_parameters(self, est: Any) -> int:
        return int(np.size(est.coef_) + np.size(est.intercept_))


class LinearKmerBaseline(LinearEstimator, ClassicalBaseline):
    """k-mer spectra, standardised (one scaler for every output), and a linear estimator."""

    DEFAULT_K = 5
    PROTEIN_K = 2

    def __init__(
        self, *, target: Target, alphabet: str, double_stranded: bool, seed: int, k: int | None, **params: Any
    ) -> None:
        super().__init__(target=target, alphabet=alphabet, double_stranded=double_stranded, seed=seed, k=k, **params)
        self.k = k if k is not None else (self.DEFAULT_K if alphabet != "protein" else self.PROTEIN_K)
        self.spectrum = KmerSpectrum(self.k, alphabet, double_stranded)
        self.scaler: StandardScaler | None = None

    def features(self, codes: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """(n, L) codes -> (n, columns) k-mer frequencies over each row's valid positions."""
        return self.spectrum(codes, lengths)

    def _prepare(self, x: np.ndarray, fit: bool) -> np.ndarray:
        if fit:
            self.scaler = StandardScaler().fit(x)
        if self.scaler is None:
            raise ValueError(f"{type(self).__name__} is not fitted")
        return self.scaler.transform(x)

    def _extra_state(self) -> dict[str, np.ndarray]:
        if self.scaler is None:
            raise ValueError(f"{type(self).__name__} is not fitted: nothing to save")
        return {"scaler_mean": self.scaler.mean_, "scaler_scale": self.scaler.scale_}

    def _restore_extra(self, arrays: dict[str, np.ndarray]) -> None:
        self.scaler = rebuild_scaler(arrays["scaler_mean"], arrays["scaler_scale"])


def logistic(C: float, max_iter: int, seed: int) -> LogisticRegression:  # noqa: N803
    """L2-regularised logistic regression (multinomial when there are more than two classes)."""
    return LogisticRegression(C=C, max_iter=max_iter, random_state=seed)


def ridge(alpha: float | None) -> Ridge | RidgeCV:
    """Ridge with a given penalty, or (None) the penalty chosen among 10^-2..10^5 by
    efficient leave-one-out cross-validation on the training rows (RidgeCV)."""
    if alpha is None:
        return RidgeCV(alphas=np.logspace(-2, 5, 15))
    return Ridge(alpha=alpha)
