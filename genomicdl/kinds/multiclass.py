"""multiclass: one class index per row; softmax outputs, cross-entropy, accuracy headline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomicdl.core.enums import BALANCE_STRATEGIES
from genomicdl.kinds.base import Kind


class Multiclass(Kind):
    name = "multiclass"
    primary = "accuracy"
    balance = BALANCE_STRATEGIES  # every strategy
    labels = "class"
    label_dtype = "int16"
    activation = "softmax"
    score = "accuracy"
    metrics = "classes"
    has_classes = True

    def check_labels(self, labels: Any, classes: Sequence[str]) -> str | None:
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            return "class index out of range"
        return None

    def task_names(self, columns: Sequence[str], classes: Sequence[str], task: str) -> tuple[str, ...]:
        return (task,)

    def report_columns(self, tasks: Sequence[str], classes: Sequence[str]) -> list[str]:
        return list(classes)

    def report_view(self, labels: Any, classes: Sequence[str]) -> Any:
        import numpy as np

        return np.eye(len(classes), dtype=np.uint8)[labels.astype(np.int64)]


KIND = Multiclass()
