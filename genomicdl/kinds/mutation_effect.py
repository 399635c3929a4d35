"""mutation_effect: measured fitness of mutants, (n,) for one scan or (n, scans) with NaN
outside each scan's rows, scored against a model of an alignment (genomicdl.mutation,
not the network engine); Spearman headline."""

from __future__ import annotations

from genomicdl.kinds.base import Kind


class MutationEffect(Kind):
    name = "mutation_effect"
    primary = "spearman"
    balance = ("none", "class_weight")
    labels = "effects"
    label_dtype = "float32"
    activation = "linear"
    score = None
    metrics = "regression"


KIND = MutationEffect()
