"""k-mer logistic regression: standardised k-mer frequencies and an L2-regularised
logistic regression per output (binary, multilabel), or one multinomial logistic
regression (multiclass) -- the linear baseline of sequence models (cf. Lee et al. 2011,
gkm-SVM; Ghandi et al. 2014)."""

from __future__ import annotations

from typing import Any

from genomicdl.models.baselines.linear import LinearKmerBaseline, logistic
from genomicdl.kinds.targets import Target


class KmerLogReg(LinearKmerBaseline):
    """k-mer frequencies, standardised, with L2-regularised logistic regression.
    ``k`` defaults to 5 (nucleotides) or 2 (protein: amino-acid + dipeptide composition)."""

    KINDS = ("binary", "multilabel", "multiclass")

    def __init__(
        self,
        *,
        target: Target,
        alphabet: str = "dna",
        double_stranded: bool = False,
        seed: int = 0,
        k: int | None = None,
        C: float = 0.1,  # noqa: N803
        max_iter: int = 2000,
    ) -> None:
        super().__init__(target=target, alphabet=alphabet, double_stranded=double_stranded, seed=seed, k=k,
                         C=C, max_iter=max_iter)  # fmt: skip
        self.C, self.max_iter = C, max_iter

    def _estimator(self) -> Any:
        return logistic(self.C, self.max_iter, self.seed)
