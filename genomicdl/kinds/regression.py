"""regression: real values per task (NaN missing): values, bins or base-resolution
profiles (signal layouts: genomicdl.kinds.signal_layout); the head's outputs go through
the regression loss's inverse link; Pearson headline. No class to rebalance."""

from __future__ import annotations

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


KIND = Regression()
