"""Target kinds: what a dataset's labels are, and everything that follows from that.

``get(name)`` returns the kind object (protocol: :class:`genomicdl.kinds.base.Kind`);
``KINDS`` lists the names. Adding a kind: its module here and its line in ``_MODULES``.
"""

from __future__ import annotations

from genomicdl.kinds import binary, multiclass, multilabel, mutation_effect, per_position, regression
from genomicdl.kinds.base import Kind

_MODULES = (binary, multiclass, multilabel, per_position, regression, mutation_effect)
_REGISTRY: dict[str, Kind] = {m.KIND.name: m.KIND for m in _MODULES}
KINDS: tuple[str, ...] = tuple(_REGISTRY)

__all__ = ["KINDS", "Kind", "get"]


def get(name: str) -> Kind:
    """The kind object named ``name``; ValueError naming the known kinds otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown target kind {name!r}; choose from {', '.join(KINDS)}") from None
