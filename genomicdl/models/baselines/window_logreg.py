"""Per-position baseline: the one-hot letters of a window of +-flank residues around each
position and a multinomial logistic regression over the position's classes -- the
classical sliding-window predictor of protein secondary structure (Qian & Sejnowski
1988; Rost & Sander 1993 used such windows with a network)."""

from __future__ import annotations

from typing import Any

import numpy as np

from genomicdl.models.baselines.classical import ClassicalBaseline
from genomicdl.models.baselines.linear import LinearEstimator, logistic
from genomicdl.core.sequence import PAD, get
from genomicdl.kinds.targets import Target


def window_one_hot(codes: np.ndarray, lengths: np.ndarray | None, flank: int, size: int) -> np.ndarray:
    """(n, L) codes -> (sum(lengths), (2 * flank + 1) * size) float32: for each valid
    position (row-major order) the one-hot letters at offsets -flank..flank; positions
    outside the sequence and unknown letters are all zeros."""
    codes = np.asarray(codes)
    n, width = codes.shape
    lengths = np.full(n, width) if lengths is None else np.asarray(lengths, np.int64)
    inside = np.arange(width)[None, :] < lengths[:, None]
    padded = np.full((n, width + 2 * flank), PAD, np.uint8)
    padded[:, flank : flank + width] = np.where(inside, codes, PAD)
    row, pos = np.nonzero(inside)
    eye = np.zeros((256, size), np.float32)
    eye[np.arange(size), np.arange(size)] = 1
    cols = [eye[padded[row, pos + offset]] for offset in range(2 * flank + 1)]
    return np.concatenate(cols, axis=1) if cols else np.zeros((0, 0), np.float32)


class WindowLogReg(LinearEstimator, ClassicalBaseline):
    """One row per valid position: the one-hot window of +-``flank`` letters; one
    multinomial logistic regression (L2, ``C``) over the classes, fitted on at most
    ``max_positions`` labelled positions (a seeded sample). ``features`` returns the
    rows of all valid positions in row-major order, ``predict`` (positions, classes)."""

    KINDS = ("per_position",)
    per_position = True

    def __init__(
        self,
        *,
        target: Target,
        alphabet: str = "protein",
        double_stranded: bool = False,
        seed: int = 0,
        flank: int = 7,
        C: float = 1.0,  # noqa: N803
        max_iter: int = 500,
        max_positions: int = 200_000,
    ) -> None:
        super().__init__(target=target, alphabet=alphabet, double_stranded=double_stranded, seed=seed, flank=flank,
                         C=C, max_iter=max_iter, max_positions=max_positions)  # fmt: skip
        if flank < 0 or max_positions < 1:
            raise ValueError(f"window_logreg needs flank >= 0 and max_positions >= 1, got {flank}, {max_positions}")
        self.flank, self.C, self.max_iter, self.max_positions = flank, C, max_iter, max_positions
        self.size = get(alphabet).channels

    def features(self, codes: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        return window_one_hot(codes, lengths, self.flank, self.size)

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> WindowLogReg:
        """``y``: (positions,) class per position, -1 = masked (ignored)."""
        y = np.asarray(y).ravel()
        labelled = np.flatnonzero(y >= 0)
        if len(labelled) > self.max_positions:
            keep = np.random.default_rng(self.seed).choice(labelled, self.max_positions, replace=False)
            y = np.where(np.isin(np.arange(len(y)), keep), y, -1)
        return super().fit(x, y, weights)

    def _estimator(self) -> Any:
        return logistic(self.C, self.max_iter, self.seed)
