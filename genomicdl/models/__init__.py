"""The model registry: names -> architectures (PyTorch) and baselines (scikit-learn).

Use :func:`build_network` or :func:`build_baseline`; :mod:`genomicdl.models.baselines.serial`
keeps fitted baselines in pickle-free files.
:mod:`genomicdl.models.catalog` lists the names and the target kinds each model
predicts without importing PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from genomicdl.models.catalog import BASELINES, CATALOG, NETWORKS, family, supports

if TYPE_CHECKING:
    from genomicdl.kinds.targets import Target

__all__ = [
    "BASELINES",
    "CATALOG",
    "NETWORKS",
    "build_baseline",
    "build_network",
    "family",
    "model_class",
    "supports",
]


def model_class(name: str) -> type:
    """The class registered under ``name``."""
    if name not in CATALOG:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(CATALOG)}")
    module, cls = CATALOG[name].target.split(":")
    return getattr(importlib.import_module(module), cls)


def _check(name: str, want: str, kind: str, params: dict[str, Any]) -> None:
    if family(name) != want:
        raise ValueError(f"{name} is not a {'neural network' if want == 'torch' else 'classical baseline'}")
    if not supports(name, kind):
        able = ", ".join(n for n, e in CATALOG.items() if kind in e.kinds and e.family == want) or "none"
        raise ValueError(f"model {name} cannot predict {kind} targets; models of this family that can: {able}")
    unknown = sorted(set(params) - set(CATALOG[name].params))
    if unknown:
        allowed = ", ".join(CATALOG[name].params)
        raise ValueError(f"model {name} has no parameter {', '.join(unknown)}; it takes {allowed}")


def head_for(target: Target, variable: bool) -> str:
    """The head a target needs: position-wise, masked pooled (variable lengths) or the paper's."""
    if target.k.per_position:
        return "position"
    return "pooled" if variable else "native"


def build_network(
    name: str, *, target: Target, window: int, alphabet: str, variable: bool, params: dict[str, Any] | None
):
    """A PyTorch architecture for ``target`` (its kind picks the head, ``target.outputs``
    its width), sequences of ``alphabet`` up to ``window`` long. ``forward(x, lengths)``
    takes one-hot (batch, channels, L) and lengths (batch,), and returns (batch, outputs)
    logits, or (batch, L, outputs) for per_position targets."""
    from genomicdl.core.sequence import get

    params = dict(params or {})
    _check(name, "torch", target.kind, params)
    head = head_for(target, variable)
    if head == "position":
        params = dict(CATALOG[name].position_defaults) | params
    cls = model_class(name)
    if getattr(cls, "wants_tasks", False):  # signal models read the tracks x bins layout
        params["tasks"] = tuple(target.tasks)
    return cls(target.outputs, window, in_channels=get(alphabet).channels, head=head, **params)


def build_baseline(
    name: str, *, target: Target, alphabet: str, double_stranded: bool, seed: int, params: dict[str, Any] | None
):
    """A classical (scikit-learn) baseline for ``target`` on sequences of ``alphabet``."""
    params = dict(params or {})
    _check(name, "sklearn", target.kind, params)
    return model_class(name)(target=target, alphabet=alphabet, double_stranded=double_stranded, seed=seed, **params)
