"""The model registry: names -> architectures (PyTorch) and baselines (scikit-learn).

Use :func:`build_network` or :func:`build_baseline`; :mod:`genomicdl.models.catalog`
lists the names without importing PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

from genomicdl.models.catalog import BASELINES, CATALOG, NETWORKS, family

__all__ = ["BASELINES", "CATALOG", "NETWORKS", "build_baseline", "build_network", "family", "model_class"]


def model_class(name: str) -> type:
    """The class registered under ``name``."""
    if name not in CATALOG:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(CATALOG)}")
    module, cls = CATALOG[name].target.split(":")
    return getattr(importlib.import_module(module), cls)


def _check_params(name: str, params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(CATALOG[name].params))
    if unknown:
        allowed = ", ".join(CATALOG[name].params)
        raise ValueError(f"model {name} has no parameter {', '.join(unknown)}; it takes {allowed}")


def build_network(name: str, n_tasks: int, window: int, params: dict[str, Any] | None = None):
    """Instantiate a PyTorch architecture for ``n_tasks`` outputs and windows of ``window`` bp."""
    if family(name) != "torch":
        raise ValueError(f"{name} is not a neural network")
    _check_params(name, params or {})
    return model_class(name)(n_tasks=n_tasks, window=window, **(params or {}))


def build_baseline(name: str, double_stranded: bool, seed: int, params: dict[str, Any] | None = None):
    """Instantiate a classical (scikit-learn) baseline."""
    if family(name) != "sklearn":
        raise ValueError(f"{name} is not a classical baseline")
    _check_params(name, params or {})
    return model_class(name)(double_stranded=double_stranded, seed=seed, **(params or {}))
