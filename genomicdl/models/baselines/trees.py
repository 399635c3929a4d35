"""Boosted trees as plain arrays: the fitted trees of scikit-learn's
HistGradientBoostingClassifier, read out node by node and evaluated in numpy, so that
a saved model is numbers, never code (no pickle, no private scikit-learn objects at
load time). Numerical splits only (the k-mer features have no categories)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, softmax

NODE_FIELDS = ("value", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right", "is_leaf")


class TreeEnsemble:
    """Boosted trees: raw score = baseline + sum of each round's leaf values; one tree
    per round (two classes: sigmoid) or one per class (softmax)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        missing = [f for f in (*NODE_FIELDS, "tree_start", "baseline", "classes") if f not in arrays]
        if missing:
            raise ValueError(f"boosted trees lack the arrays {', '.join(missing)}")
        self.arrays = {key: np.asarray(value) for key, value in arrays.items()}
        self.classes_ = self.arrays["classes"].astype(np.int64)
        self.baseline = self.arrays["baseline"].astype(np.float64).ravel()
        self.starts = self.arrays["tree_start"].astype(np.int64)  # first node of each tree, then the end
        n_nodes = len(self.arrays["value"])
        children = np.concatenate([self.arrays["left"], self.arrays["right"]]).astype(np.int64)
        if len(self.starts) < 2 or self.starts[-1] != n_nodes or (len(self.starts) - 1) % len(self.baseline):
            raise ValueError("boosted trees: node offsets do not match the nodes")
        if children.size and (children.min() < 0 or children.max() >= n_nodes):
            raise ValueError("boosted trees: a child index points outside the nodes")

    @classmethod
    def from_sklearn(cls, est: Any) -> TreeEnsemble:
        """The trees of a fitted HistGradientBoostingClassifier."""
        trees = [tree for round_ in est._predictors for tree in round_]
        if any(tree.nodes["is_categorical"].any() for tree in trees):
            raise ValueError("boosted trees with categorical splits cannot be saved as arrays")
        sizes = [len(tree.nodes) for tree in trees]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        arrays = {f: np.concatenate([tree.nodes[f] for tree in trees]) for f in NODE_FIELDS}
        arrays["left"] = np.concatenate([tree.nodes["left"].astype(np.int64) + s for tree, s in zip(trees, starts)])
        arrays["right"] = np.concatenate([tree.nodes["right"].astype(np.int64) + s for tree, s in zip(trees, starts)])
        arrays |= {"tree_start": starts, "baseline": np.asarray(est._baseline_prediction, np.float64).ravel()}
        arrays["classes"] = np.asarray(est.classes_, np.int64)
        return cls(arrays)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """(n, per_round) raw scores, summed round by round as scikit-learn does."""
        a = self.arrays
        x = np.asarray(x, np.float64)
        per_round = len(self.baseline)
        out = np.tile(self.baseline, (len(x), 1))
        rows = np.arange(len(x))
        for i in range(len(self.starts) - 1):
            node = np.full(len(x), self.starts[i], np.int64)
            for _ in range(self.starts[i + 1] - self.starts[i] + 1):  # a path visits each node once
                inner = ~a["is_leaf"][node].astype(bool)
                if not inner.any():
                    break
                at = node[inner]
                value = x[rows[inner], a["feature_idx"][at]]
                missing = a["missing_go_to_left"][at].astype(bool)
                left = np.where(np.isnan(value), missing, value <= a["num_threshold"][at])
                node[inner] = np.where(left, a["left"][at], a["right"][at])
            else:
                raise ValueError(f"boosted trees: tree {i} has a cycle")
            out[:, i % per_round] += a["value"][node]
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        raw = self.raw(x)
        if raw.shape[1] == 1:
            p = expit(raw[:, 0])
            return np.stack([1 - p, p], axis=1)
        return softmax(raw, axis=1)

    @property
    def n_nodes(self) -> int:
        return len(self.arrays["value"])
