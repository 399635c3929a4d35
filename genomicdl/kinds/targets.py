"""A dataset's target (kind name, tasks, classes, loss) as stored in JSON, and the
name-keyed views of the kind objects (genomicdl.kinds) that the config layer reads.

Importable without numpy or torch (the Snakefile reads it).

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

from genomicdl.kinds import KINDS, get
from genomicdl.kinds.base import Kind

# Views of the kind objects for the config layer and the rules (one source: genomicdl.kinds)
PRIMARY = {name: get(name).primary for name in KINDS}
#: Class-rebalancing strategies that mean something for each kind.
BALANCE = {name: get(name).balance for name in KINDS}
#: Kinds whose labels name classes (``classes`` in the store and the config).
CLASS_KINDS = tuple(name for name in KINDS if get(name).has_classes)
#: Kinds with one output per position (position-wise heads).
POSITION_KINDS = tuple(name for name in KINDS if get(name).per_position)


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
        if self.k.has_classes and len(self.classes) < 2:
            raise ValueError(f"target kind {self.kind} needs at least two classes, got {list(self.classes)}")

    @property
    def k(self) -> Kind:
        """The kind object (ValueError for an unknown kind name)."""
        return get(self.kind)

    @property
    def outputs(self) -> int:
        return self.k.outputs(self.tasks, self.classes)

    @property
    def primary(self) -> str:
        return self.k.primary

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
