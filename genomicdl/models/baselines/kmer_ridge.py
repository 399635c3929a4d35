"""k-mer ridge regression: standardised k-mer frequencies and a ridge regression per
task on the rows where the task has a value -- the linear baseline for regression
targets (Hoerl & Kennard 1970; k-mer spectra as in Lee et al. 2011).

On a signal target with a count loss (bins of bigWig tracks; loss log1p_mse, poisson or
multinomial) it fits one ridge per track on the log1p window total -- the scale the
signal metrics score -- and predicts that total spread evenly over the track's bins (a
flat profile); with ``alpha`` None the penalty is chosen among 10^-2..10^7 by
leave-one-out cross-validation on the training windows."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import RidgeCV

from genomicdl.kinds.signal_layout import layout
from genomicdl.kinds.targets import Target
from genomicdl.models.baselines.linear import LinearKmerBaseline, ridge

LOG_LOSSES = ("log1p_mse", "poisson", "multinomial")


class KmerRidge(LinearKmerBaseline):
    """k-mer frequencies, standardised, with ridge regression (L2 penalty ``alpha``; None,
    the default, chooses it by leave-one-out cross-validation on the training rows).
    ``k`` defaults to 5 (nucleotides) or 2 (protein)."""

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
        tracks, bins = layout(target.tasks)
        self.bins = bins if target.loss in LOG_LOSSES and bins > 1 else 0  # 0: one ridge per output

    def _estimator(self) -> Any:
        if self.bins and self.alpha is None:
            return RidgeCV(alphas=np.logspace(-2, 7, 19))
        return ridge(self.alpha)

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> KmerRidge:
        """Fit per output, or (signal target, count loss) per track on log1p window totals."""
        if self.bins:
            totals = np.asarray(y, np.float64).reshape(len(y), -1, self.bins).sum(-1)  # a NaN bin: a NaN total
            y = np.log1p(np.clip(totals, 0, None))
        super().fit(x, y, weights)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Per-output values, or each track's expm1(predicted log total) / bins in every bin."""
        out = super().predict(x)
        if not self.bins:
            return out
        return np.repeat(np.expm1(out) / self.bins, self.bins, axis=1).astype(np.float32)
