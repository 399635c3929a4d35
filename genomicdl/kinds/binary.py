"""binary: one 0/1 label per task (multi-task); sigmoid outputs, BCE, auROC headline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomicdl.core.enums import BALANCE_STRATEGIES
from genomicdl.kinds.base import Kind


class Binary(Kind):
    name = "binary"
    primary = "auroc"
    balance = BALANCE_STRATEGIES  # every strategy
    labels = "flags"
    label_dtype = "uint8"
    activation = "sigmoid"
    score = "auprc"
    metrics = "binary"
    negatives = True
    ranked = True

    def check_labels(self, labels: Any, classes: Sequence[str]) -> str | None:
        if labels.size and labels.max() > 1:
            return f"label {labels.max()} is not 0/1"
        return None


KIND = Binary()
