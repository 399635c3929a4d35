"""k-mer logistic regression: standardised k-mer frequencies and an L2-regularised
logistic regression per task (scikit-learn), the linear baseline of sequence models
(cf. Lee et al. 2011, gkm-SVM; Ghandi et al. 2014)."""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genomicdl.models.kmer import KmerBaseline


class KmerLogReg(KmerBaseline):
    """k-mer frequencies, standardised, with L2-regularised logistic regression."""

    def __init__(
        self, double_stranded: bool, seed: int, k: int = 5, C: float = 0.1, max_iter: int = 2000  # noqa: N803
    ) -> None:
        super().__init__(double_stranded, seed, k)
        self.C, self.max_iter = C, max_iter

    def _estimator(self) -> Any:
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed)
        )

    @staticmethod
    def _estimator_parameters(est: Any) -> int:
        model = est.steps[-1][1]
        return int(model.coef_.size + model.intercept_.size)
