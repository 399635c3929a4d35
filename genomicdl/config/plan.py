"""The benchmark's cross product: which (dataset, model, balance, seed) runs the config
asks for, after what makes sense for each dataset's target kind. Importable with only
the standard library and PyYAML (the Snakefile reads it)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from genomicdl.kinds.targets import BALANCE
from genomicdl.models.catalog import CATALOG, supported_kinds


def dataset_kind(ds: Mapping[str, Any]) -> str:
    """The target kind of a validated dataset (validation fills the source's kind from
    the schema: genome binary, signal regression, alignments mutation_effect)."""
    return str(ds["kind"])


def same_run(model: str, balance: str) -> bool:
    """Whether (model, balance) trains exactly as (model, none) does: focal loss has no
    classical counterpart, so a baseline under focal would repeat its run under none."""
    return CATALOG[model].family == "sklearn" and balance == "focal"


def runs(config: Mapping[str, Any], dataset: str | None = None) -> Iterator[tuple[str, str, str, int]]:
    """Every (dataset, model, balance, seed) to run: models that support the dataset's
    kind (and, when the dataset lists ``models``, are among them), balance strategies that
    mean something for it, no run listed twice."""
    for name in [dataset] if dataset else list(config["datasets"]):
        kind = dataset_kind(config["datasets"][name])
        chosen = config["datasets"][name].get("models")
        for model in config["models"]:
            if kind not in supported_kinds(model) or (chosen is not None and model not in chosen):
                continue
            for balance in config["balance"]:
                if balance not in BALANCE[kind] or same_run(model, balance):
                    continue
                for seed in seeds_of(model, config):
                    yield name, model, balance, int(seed)


def seeds_of(model: str, config: Mapping[str, Any]) -> list[int]:
    """The seeds a model trains with: all, or only the first when the seed cannot change
    its fit (the closed-form site-independent model, a full-batch Potts model)."""
    if CATALOG[model].family == "mutation":
        from genomicdl.models.mutation.params import seeds_of as mutation_seeds

        return [int(s) for s in mutation_seeds(model, config)]
    return [int(s) for s in config["seeds"]]


def skipped(config: Mapping[str, Any]) -> list[str]:
    """Human-readable reasons for the combinations the cross product leaves out."""
    notes = []
    for name, ds in config["datasets"].items():
        kind = dataset_kind(ds)
        for model in config["models"]:
            if kind not in supported_kinds(model):
                notes.append(f"{name}: {model} does not support the {kind} kind")
            elif ds.get("models") is not None and model not in ds["models"]:
                notes.append(f"{name}: {model} is not in the dataset's models")
        for balance in config["balance"]:
            if balance not in BALANCE[kind]:
                notes.append(f"{name}: balance {balance} has no meaning for the {kind} kind")
    return notes


# ------------------------------------------------------------ cross-validation folds
FOLD_SUFFIX = re.compile(r"^(?P<base>.+)_fold(?P<fold>\d+)$")


def expand_folds(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config whose datasets with ``split.folds`` (a partition column) are replaced by
    one dataset per fold, ``<name>_fold<k>`` (``split.fold`` = k; partition k is its test
    split), in the datasets' order; ``split.run_folds`` picks a subset. Idempotent."""
    out = dict(config)
    datasets: dict[str, Any] = {}
    for name, ds in config["datasets"].items():
        split = ds.get("split") or {}
        if not split.get("folds") or split.get("fold") is not None:
            datasets[name] = ds
            continue
        n = len(split["fold_values"]) if split.get("fold_values") else int(split.get("n_folds", 5))
        for k in split.get("run_folds") or range(n):
            if not 0 <= int(k) < n:
                from genomicdl.core.errors import ConfigError

                raise ConfigError(f"config key datasets.{name}.split.run_folds: fold {k} is not in 0..{n - 1}")
            fold = copy.deepcopy(ds)
            fold["split"]["fold"] = int(k)
            datasets[f"{name}_fold{int(k)}"] = fold
    out["datasets"] = datasets
    return out


def fold_of(dataset: str, config: Mapping[str, Any] | None = None) -> tuple[str, int | None]:
    """(cross-validated dataset, fold) of a dataset name: ``("deeploc2", 3)`` for
    ``deeploc2_fold3`` when it is a fold (per its config, when given), else (name, None).
    The benchmark groups the rows of one base dataset's folds and reports their mean
    with a CI across folds."""
    match = FOLD_SUFFIX.match(dataset)
    if match is None:
        return dataset, None
    if config is not None:
        ds = config["datasets"].get(dataset, {})
        if (ds.get("split") or {}).get("fold") is None:
            return dataset, None
    return match["base"], int(match["fold"])
