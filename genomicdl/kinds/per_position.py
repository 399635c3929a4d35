"""per_position: one class per residue or base (-1 masked), a position-wise softmax head,
token cross-entropy, per-position accuracy (Q-accuracy) headline. Row resampling
(under/oversampling) does not apply: a row holds many labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomicdl.kinds.base import Kind


class PerPosition(Kind):
    name = "per_position"
    primary = "q_accuracy"
    balance = ("none", "class_weight", "focal")
    labels = "positions"
    label_dtype = "uint8"  # a placeholder column of zeros: the labels live in the store's `positions` (int8)
    activation = "softmax"
    score = "q_accuracy"
    metrics = "classes"
    has_classes = True
    per_position = True

    def task_names(self, columns: Sequence[str], classes: Sequence[str], task: str) -> tuple[str, ...]:
        return (task,)

    def report_columns(self, tasks: Sequence[str], classes: Sequence[str]) -> list[str]:
        return []

    def report_view(self, labels: Any, classes: Sequence[str]) -> Any:
        import numpy as np

        return np.zeros((len(labels), 0), np.uint8)


KIND = PerPosition()
