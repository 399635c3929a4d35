"""k-mer ridge regression: standardised k-mer frequencies and a ridge regression per
task on the rows where the task has a value -- the linear baseline for regression
targets (Hoerl & Kennard 1970; k-mer spectra as in Lee et al. 2011)."""

from __future__ import annotations

from typing import Any

from genomicdl.models.baselines.linear import LinearKmerBaseline, ridge
from genomicdl.kinds.targets import Target


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

    def _estimator(self) -> Any:
        return ridge(self.alpha)
