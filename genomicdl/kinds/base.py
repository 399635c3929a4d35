"""The protocol every target kind implements: what its labels are and what follows from them.

A kind is a frozen, stateless object (one instance per kind, in the registry of
:mod:`genomicdl.kinds`). Code outside ``genomicdl/kinds`` asks it (``target.k.per_position``,
``get(store.kind).check_labels(...)``) and never compares kind names.

Where the mechanism lives. ``genomicdl.kinds`` is plan-time code: the Snakefile imports it,
and an import-linter contract forbids it PyTorch (and the layers contract puts it below the
metrics and training). So a kind holds *descriptions* and the label logic that needs only
NumPy (imported inside methods, so the Snakefile imports no NumPy either); the tensor code
stays in the stage that runs it, keyed by a field of the kind, never by its name:

- ``labels`` (the label layout) keys label parsing (``datasets.labels``), the training
  loss family and the prediction loss (``training.losses``, ``training.scores``);
- ``activation`` keys outputs -> predictions (``training.losses.outputs_to_predictions``);
- ``score`` keys the validation score (``training.scores``), ``metrics`` the metrics module
  (``genomicdl.metrics``).

We chose this over lazy ``import torch`` in kind methods: a lazy import would make every
script that reaches the kinds (all of them, ``preprocess`` included) need PyTorch in its
conda environment by the static analysis of ``tests/test_envs.py``, and would put training
maths below the layer that owns it. A new kind that reuses existing layouts, activations,
scores and metrics modules is one new module here plus its line in the registry; one with
a new label layout also adds that layout's branch in the stages it reaches.

Label layouts (``labels``):

========== ============================================ ==========================
layout      store labels                                 kinds
========== ============================================ ==========================
flags       (n, outputs) uint8 0/1                       binary, multilabel
class       (n,) int16 class index                       multiclass
positions   (n, L) int8 ``positions``, -1 masked         per_position
values      (n, T) float32, NaN missing                  regression
effects     (n,) or (n, scans) float32, NaN off-scan     mutation_effect
========== ============================================ ==========================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class Kind:
    """One target kind (subclasses set the class attributes; see the module doc)."""

    #: the kind's name, as written in configs, stores and model files
    name: ClassVar[str]
    #: the headline metric (the benchmark's ``score``)
    primary: ClassVar[str]
    #: balance strategies that mean something for the kind
    balance: ClassVar[tuple[str, ...]]
    #: label layout: flags | class | positions | values | effects
    labels: ClassVar[str]
    #: numpy dtype of the labels in the store
    label_dtype: ClassVar[str]
    #: outputs -> predictions: sigmoid | softmax | linear (linear: the regression loss's inverse link)
    activation: ClassVar[str]
    #: validation score of the training loop (``training.scores``); None: not trained by the engine
    score: ClassVar[str | None]
    #: module of ``genomicdl.metrics`` that scores it: binary | multilabel | classes | regression
    metrics: ClassVar[str]
    #: labels name classes (``classes`` in the config and the store); the head has one output per class
    has_classes: ClassVar[bool] = False
    #: one label per position (masked by -1) and a position-wise head
    per_position: ClassVar[bool] = False
    #: rows may be negatives (all labels 0): a split of positives only gets shuffled negatives
    negatives: ClassVar[bool] = False
    #: scored by ranking (auROC, auPRC: the benchmark's binary columns)
    ranked: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<kind {self.name}>"

    @property
    def trained(self) -> bool:
        """Whether the network engine trains it (``mutation_effect``: genomicdl.mutation)."""
        return self.score is not None

    def outputs(self, tasks: Sequence[str], classes: Sequence[str]) -> int:
        """Width of a network's head: classes for the class kinds, tasks otherwise."""
        return len(classes) if self.has_classes else len(tasks)

    def task_names(self, columns: Sequence[str], classes: Sequence[str], task: str) -> tuple[str, ...]:
        """Tasks of a table dataset's target: one per label column (the class kinds override:
        one ``task`` over the classes, or the classes themselves)."""
        return tuple(columns)

    def report_columns(self, tasks: Sequence[str], classes: Sequence[str]) -> list[str]:
        """Columns of the dataset report's label counts (default: the tasks)."""
        return list(tasks)

    def report_view(self, labels: Any, classes: Sequence[str]) -> Any:
        """Labels of a block of rows as a 0/1 matrix over the report's columns."""
        return labels

    def label_width(self, outputs: int) -> int | None:
        """Columns of the store's labels dataset (None: one value per row)."""
        return outputs if self.labels in ("flags", "values") else None

    def check_labels(self, labels: Any, classes: Sequence[str]) -> str | None:
        """What is wrong with the store's labels (None: nothing this kind checks)."""
        return None

    def prediction_shape(self, n: int, window: int, outputs: int) -> tuple[int, ...]:
        """Shape of the predictions of ``n`` rows."""
        return (n, window, outputs) if self.per_position else (n, outputs)
