"""multilabel: any number of classes per row, stored as one 0/1 column per class (the
classes are the tasks); sigmoid outputs, BCE, micro-F1 headline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomicdl.core.enums import BALANCE_STRATEGIES
from genomicdl.kinds.base import Kind


class Multilabel(Kind):
    name = "multilabel"
    primary = "micro_f1"
    balance = BALANCE_STRATEGIES  # every strategy
    labels = "flags"
    label_dtype = "uint8"
    activation = "sigmoid"
    score = "auprc"
    metrics = "multilabel"
    has_classes = True

    def check_labels(self, labels: Any, classes: Sequence[str]) -> str | None:
        if labels.size and labels.max() > 1:
            return f"label {labels.max()} is not 0/1"
        return None

    def task_names(self, columns: Sequence[str], classes: Sequence[str], task: str) -> tuple[str, ...]:
        return tuple(classes)


KIND = Multilabel()
