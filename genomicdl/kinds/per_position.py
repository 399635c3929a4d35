"""per_position: one class per residue or base (-1 masked), a position-wise softmax head,
token cross-entropy, per-position accuracy (Q-accuracy) headline. Row resampling
(under/oversampling) does not apply: a row holds many labels."""

from __future__ import annotations

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


KIND = PerPosition()
