"""k-mer gradient boosting: k-mer frequencies and histogram gradient-boosted trees per
task (scikit-learn's HistGradientBoostingClassifier, after LightGBM; Ke et al. 2017),
the non-linear classical baseline."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier

from genomicdl.models.kmer import KmerBaseline


class KmerGBM(KmerBaseline):
    """k-mer frequencies with histogram gradient boosting."""

    def __init__(
        self,
        double_stranded: bool,
        seed: int,
        k: int = 4,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
    ) -> None:
        super().__init__(double_stranded, seed, k)
        self.max_iter, self.learning_rate, self.max_leaf_nodes = max_iter, learning_rate, max_leaf_nodes

    def _estimator(self) -> Any:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            random_state=self.seed,
        )

    @staticmethod
    def _estimator_parameters(est: Any) -> int:
        """Tree nodes (each a split threshold or a leaf value) over every boosting round."""
        return int(sum(tree.nodes.size for round_ in est._predictors for tree in round_))
