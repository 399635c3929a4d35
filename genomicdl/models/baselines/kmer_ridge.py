"""k-mer ridge regression: standardised k-mer frequencies and a ridge regression per
task on the rows where the task has a value -- the linear baseline for regression
targets (Hoerl & Kennard 1970; k-mer spectra as in Lee et al. 2011).

On a signal target with a count loss (bins of bigWig tracks; loss log1p_mse, poisson or
multinomial) it fits one ridge per track on the log1p window total -- the scale the
signal metrics score -- and predicts that total spread evenly over the track's bins (a
flat profile); with ``alpha`` None each track's penalty is chosen among 10^-2..10^7 by
the Pearson r of its log totals on the validation windows (``validation``, set by the
training stage): leave-one-out on the training windows would see overlapping inputs of
neighbouring tiles and choose too little penalty."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.linear_model import Ridge

from genomicdl.kinds.signal_layout import layout
from genomicdl.kinds.targets import Target
from genomicdl.models.baselines.linear import LinearKmerBaseline, ridge

log = logging.getLogger(__name__)
LOG_LOSSES = ("log1p_mse", "poisson", "multinomial")
ALPHAS = tuple(float(a) for a in np.logspace(-2, 7, 10))


class KmerRidge(LinearKmerBaseline):
    """k-mer frequencies, standardised, with ridge regression (L2 penalty ``alpha``; None,
    the default, chooses it by leave-one-out cross-validation on the training rows, or on a
    signal target on the validation rows: see the module doc). ``k`` defaults to 5
    (nucleotides) or 2 (protein)."""

    KINDS = ("regression",)

    def __init__(
        self,
        *,
        target: Target,
        alphabet: str = "dna",
        double_stranded: bool = False,
        seed: int = 0,
        k: int | None = None,
        alpha: float | None = None,
    ) -> None:
        super().__init__(target=target, alphabet=alphabet, double_stranded=double_stranded, seed=seed, k=k,
                         alpha=alpha)  # fmt: skip
        self.alpha = alpha
        _, bins = layout(target.tasks)
        self.bins = bins if target.loss in LOG_LOSSES and bins > 1 else 0  # 0: one ridge per output
        self.chooses_on_validation = bool(self.bins) and alpha is None
        self.validation: tuple[np.ndarray, np.ndarray] | None = None  # (features, labels) of validation rows
        self.chosen: list[float] = []  # each track's alpha

    def _estimator(self) -> Any:
        if self.chooses_on_validation:
            return Ridge()  # its penalty is chosen in fit
        return ridge(self.alpha)

    def _log_totals(self, y: np.ndarray) -> np.ndarray:
        totals = np.asarray(y, np.float64).reshape(len(y), -1, self.bins).sum(-1)  # a NaN bin: a NaN total
        return np.log1p(np.clip(totals, 0, None))

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> KmerRidge:
        """Fit per output, or (signal target, count loss) per track on log1p window totals,
        each track's alpha chosen on ``validation`` when no alpha is given."""
        if not self.bins:
            return super().fit(x, y, weights)  # type: ignore[return-value]
        y = self._log_totals(y)
        if not self.chooses_on_validation:
            return super().fit(x, y, weights)  # type: ignore[return-value]
        if self.validation is None:
            raise ValueError("kmer_ridge (alpha null, signal target) chooses alpha on validation rows: none given")
        xt, xv = self._prepare(x, fit=True), self._prepare(self.validation[0], fit=False)
        yv = self._log_totals(self.validation[1])
        self.estimators, self.constant, self.chosen = [], [], []
        for t in range(y.shape[1]):
            rows, vrows = np.flatnonzero(~np.isnan(y[:, t])), np.flatnonzero(~np.isnan(yv[:, t]))
            fits = {a: Ridge(alpha=a).fit(xt[rows], y[rows, t]) for a in ALPHAS}
            best = max(ALPHAS, key=lambda a: _pearson(fits[a].predict(xv[vrows]), yv[vrows, t]))
            self.estimators.append(self._fitted(fits[best]))
            self.constant.append(None)
            self.chosen.append(best)
        log.info("kmer_ridge: alpha per track chosen on %d validation windows: %s", len(yv), self.chosen)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Per-output values, or each track's expm1(predicted log total) / bins in every bin."""
        out = super().predict(x)
        if not self.bins:
            return out
        return np.repeat(np.expm1(out) / self.bins, self.bins, axis=1).astype(np.float32)


def _pearson(p: np.ndarray, y: np.ndarray) -> float:
    """Pearson r (-inf when either side is constant or too short)."""
    if len(y) < 3 or np.std(p) == 0 or np.std(y) == 0:
        return -np.inf
    return float(np.corrcoef(p, y)[0, 1])
