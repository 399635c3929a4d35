"""Target kinds: what a dataset's labels are, and what follows from that.

Importable without numpy-heavy or torch dependencies (the Snakefile reads it).

| kind            | labels in the store              | predictions             | primary metric |
|-----------------|----------------------------------|-------------------------|----------------|
| binary          | (n, T) uint8 0/1                 | (n, T) probabilities    | auroc          |
| multiclass      | (n,) int16 class index           | (n, C) softmax          | accuracy       |
| multilabel      | (n, C) uint8 0/1, tasks=classes  | (n, C) probabilities    | micro_f1       |
| per_position    | (n, L) int8 class, -1 masked     | (n, L, C) softmax       | q_accuracy     |
| regression      | (n, T) float32, NaN missing      | (n, T) values           | pearson        |
| mutation_effect | (n,) fitness; (n, scans), NaN off-scan | (n,) / (n, scans) effect | spearman  |
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("binary", "multiclass", "multilabel", "per_position", "regression", "mutation_effect")
PRIMARY = {
    "binary": "auroc",
    "multiclass": "accuracy",
    "multilabel": "micro_f1",
    "per_position": "q_accuracy",
    "regression": "pearson",
    "mutation_effect": "spearman",
}
#: Class-rebalancing strategies that mean something for each kind.
BALANCE = {
    "binary": ("none", "class_weight", "undersample", "oversample", "focal"),
    "multilabel": ("none", "class_weight", "undersample", "oversample", "focal"),
    "multiclass": ("none", "class_weight", "undersample", "oversample", "focal"),
    "per_position": ("none", "class_weight", "focal"),
    "regression": ("none",),
    "mutation_effect": ("none", "class_weight"),
}
#: Kinds whose labels name classes (``classes`` in the store and the config).
CLASS_KINDS = ("multiclass", "multilabel", "per_position")
#: Kinds with one output per position (position-wise heads).
POSITION_KINDS = ("per_position",)


@dataclass(frozen=True)
class Target:
    """The kind of a dataset's labels, its task names and (for class kinds) class names.

    ``outputs`` is the width of a network's head: tasks for binary and regression,
    classes for the class kinds.
    """

    kind: str
    tasks: tuple[str, ...]
    classes: tuple[str, ...] = ()
    loss: str = "default"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown target kind {self.kind!r}; choose from {', '.join(KINDS)}")
        if self.kind in CLASS_KINDS and len(self.classes) < 2:
            raise ValueError(f"target kind {self.kind} needs at least two classes, got {list(self.classes)}")

    @property
    def outputs(self) -> int:
        return len(self.classes) if self.kind in CLASS_KINDS else len(self.tasks)

    @property
    def primary(self) -> str:
        return PRIMARY[self.kind]

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "tasks": list(self.tasks), "classes": list(self.classes), "loss": self.loss}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Target:
        return cls(
            str(data["kind"]),
            tuple(data["tasks"]),  # type: ignore[arg-type]
            tuple(data.get("classes") or ()),  # type: ignore[arg-type]
            str(data.get("loss", "default")),
        )
