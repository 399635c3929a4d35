"""Enumerations shared by the package, the config schema and the workflow's wildcards.

One home each: the schema's enum is injected from here when the config is loaded
(genomicdl.config.validation.load_schema) and the rules' wildcard constraints read it.
"""

from __future__ import annotations

#: Class-rebalancing strategies: the values of the ``{balance}`` wildcard and of the
#: config's ``balance`` list (each target kind allows a subset of them).
BALANCE_STRATEGIES = ("none", "class_weight", "undersample", "oversample", "focal")


def alternatives(values: tuple[str, ...]) -> str:
    """A regular expression matching exactly one of ``values`` (a wildcard constraint)."""
    import re

    return "|".join(re.escape(v) for v in values)
