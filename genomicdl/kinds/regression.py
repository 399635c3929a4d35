"""regression: real values per task (NaN missing): values, bins or base-resolution
profiles (signal layouts: genomicdl.kinds.signal_layout); the head's outputs go through
the regression loss's inverse link; Pearson headline. No class to rebalance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomicdl.kinds.base import Kind


class Regression(Kind):
    name = "regression"
    primary = "pearson"
    balance = ("none",)
    labels = "values"
    label_dtype = "float32"
    activation = "linear"
    score = "pearson"
    metrics = "regression"

    def report_view(self, labels: Any, classes: Sequence[str]) -> Any:
        import numpy as np

        return (~np.isnan(labels)).astype(np.uint8)


KIND = Regression()
