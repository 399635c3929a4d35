"""k-mer gradient boosting: k-mer frequencies and histogram gradient-boosted trees per
output (binary, multilabel) or one multiclass model (scikit-learn's
HistGradientBoostingClassifier, after LightGBM; Ke et al. 2017), the non-linear
classical baseline. The fitted trees are kept as arrays (``trees.TreeEnsemble``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from genomicdl.models.baselines.classical import ClassicalBaseline
from genomicdl.models.baselines.kmer import KmerSpectrum
from genomicdl.models.baselines.trees import TreeEnsemble
from genomicdl.kinds.targets import Target


class KmerGBM(ClassicalBaseline):
    """k-mer frequencies with histogram gradient boosting. ``k`` defaults to 4
    (nucleotides) or 2 (protein: amino-acid + dipeptide composition)."""

    KINDS = ("binary", "multilabel", "multiclass")

    def __init__(
        self,
        *,
        target: Target,
        alphabet: str = "dna",
        double_stranded: bool = False,
        seed: int = 0,
        k: int | None = None,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
    ) -> None:
        super().__init__(target=target, alphabet=alphabet, double_stranded=double_stranded, seed=seed, k=k,
                         max_iter=max_iter, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes)  # fmt: skip
        self.k = k if k is not None else (4 if alphabet != "protein" else 2)
        self.spectrum = KmerSpectrum(self.k, alphabet, double_stranded)
        self.max_iter, self.learning_rate, self.max_leaf_nodes = max_iter, learning_rate, max_leaf_nodes

    def features(self, codes: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """(n, L) codes -> (n, columns) k-mer frequencies over each row's valid positions."""
        return self.spectrum(codes, lengths)

    def _estimator(self) -> Any:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            random_state=self.seed,
        )

    def _fitted(self, est: Any) -> TreeEnsemble:
        return TreeEnsemble.from_sklearn(est)

    def _estimator_arrays(self, est: TreeEnsemble) -> dict[str, np.ndarray]:
        return est.arrays

    def _estimator_from(self, arrays: dict[str, np.ndarray]) -> TreeEnsemble:
        return TreeEnsemble(arrays)

    def _estimator_parameters(self, est: TreeEnsemble) -> int:
        """Tree nodes (each a split threshold or a leaf value) over every boosting round."""
        return est.n_nodes
