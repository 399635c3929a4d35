"""binary: one 0/1 label per task (multi-task); sigmoid outputs, BCE, auROC headline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomicdl.kinds.base import ALL_BALANCE, Kind


class Binary(Kind):
    name = "binary"
    primary = "auroc"
    balance = ALL_BALANCE
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
