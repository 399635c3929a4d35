"""The tune stage's plan: search spaces, which (dataset, network) pairs are tuned, and the
settings a train job of a pair uses (the config's, with a study's best.yaml over them).

Plan-time code: the Snakefile and the config check import it, so it imports neither
Optuna nor PyTorch (:mod:`genomicdl.training.tune` runs the trials).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from genomicdl.core import paths
from genomicdl.core.errors import ConfigError
from genomicdl.models.catalog import CATALOG, TRAIN_PARAMS, Range

# ------------------------------------------------------------------ the search space


def _range(key: str, spec: Mapping[str, Any]) -> Range:
    """A Range from a config entry ({low, high, log} or {choices}); errors name ``key``."""
    if "choices" in spec:
        return Range(choices=tuple(spec["choices"]))
    low, high, log_scale = spec["low"], spec["high"], bool(spec.get("log", False))
    if low > high:
        raise ConfigError(f"config key {key}: low {low} is above high {high}")
    if log_scale and low <= 0:
        raise ConfigError(f"config key {key}: a log scale needs low > 0, got {low}")
    return Range(low, high, log_scale)


def search_space(model: str, override: Mapping[str, Any] | None = None) -> dict[str, Range]:
    """The registry's search space of ``model`` with the config's ``tune.space.<model>``
    entries replacing (or, set to null, removing) single parameters."""
    entry = CATALOG[model]
    space = entry.space()
    for param, spec in (override or {}).items():
        key = f"tune.space.{model}.{param}"
        if param not in entry.params and param not in TRAIN_PARAMS:
            allowed = ", ".join((*entry.params, *TRAIN_PARAMS))
            raise ConfigError(f"unknown config key {key}: {model} searches {allowed}")
        if spec is None:
            space.pop(param, None)
        else:
            space[param] = _range(key, spec)
    if not space:
        raise ConfigError(f"config key tune.space.{model}: the search space is empty")
    return space


def tuned_networks(config: Mapping[str, Any]) -> list[str]:
    """The networks of ``models`` the tune stage searches (``tune.models`` or all)."""
    chosen = config["tune"]["models"]
    return [m for m in config["models"] if CATALOG[m].family == "torch" and (chosen is None or m in chosen)]


def tuning_run(config: Mapping[str, Any], dataset: str, model: str) -> tuple[str, int] | None:
    """(balance, seed) of the training index the trials of (dataset, model) train on:
    the first run the benchmark plans for them (None when it plans none)."""
    from genomicdl.config.plan import runs

    for _, m, balance, seed in runs(config, dataset):
        if m == model:
            return balance, seed
    return None


def tuned_pairs(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(dataset, network) pairs the tune stage searches; none when it is disabled."""
    tune = config["tune"]
    if not tune["enabled"]:
        return []
    datasets = [d for d in config["datasets"] if tune["datasets"] is None or d in tune["datasets"]]
    return [(d, m) for d in datasets for m in tuned_networks(config) if tuning_run(config, d, m) is not None]


def check_config(config: Mapping[str, Any]) -> None:
    """The tune section names known datasets and networks, and valid search spaces."""
    tune = config["tune"]
    for model in tune["models"] or []:
        if model not in config["models"] or CATALOG[model].family != "torch":
            raise ConfigError(f"config key tune.models: {model!r} is not a network of models {config['models']}")
    for dataset in tune["datasets"] or []:
        if dataset not in config["datasets"]:
            raise ConfigError(f"config key tune.datasets: {dataset!r} is not a dataset of the config")
    for model, override in tune["space"].items():
        if model not in CATALOG or CATALOG[model].family != "torch":
            networks = ", ".join(m for m in CATALOG if CATALOG[m].family == "torch")
            raise ConfigError(f"config key tune.space: {model!r} is not a registered network ({networks})")
        search_space(model, override)


def tuned_settings(
    best: str | None, *, params: Mapping[str, Any], train: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model parameters, training settings) to train with: the config's, with a study's
    choice from ``best`` (a best.yaml; None or not yet written: the config's alone)."""
    if not best or not Path(best).exists():
        return dict(params), dict(train)
    chosen = yaml.safe_load(Path(best).read_text())
    return {**params, **chosen["params"]}, {**train, **chosen["train"]}


# ------------------------------------------------------------------ paths the rules ask for


def best_path(config: Mapping[str, Any], dataset: str, model: str) -> str | None:
    """The study's choice (paths.TUNE_BEST) when the stage tunes (dataset, model)."""
    if (dataset, model) not in tuned_pairs(config):
        return None
    return paths.fill(paths.TUNE_BEST, dataset=dataset, model=model)


def trial_index(config: Mapping[str, Any], dataset: str, model: str) -> str:
    """The training index the trials of (dataset, model) train on."""
    run = tuning_run(config, dataset, model)
    if run is None:
        raise ConfigError(f"config key tune: no planned run of {model} on {dataset} to tune")
    return paths.fill(paths.INDEX, dataset=dataset, balance=run[0], seed=run[1])


def train_settings(config: Mapping[str, Any], dataset: str, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model parameters, training settings) a train job of (dataset, model) uses: the
    top-level train section with the dataset's own ``train`` keys over it."""
    params = config["model_params"].get(model, {})
    train = {**config["train"], **(config["datasets"][dataset].get("train") or {})}
    return tuned_settings(best_path(config, dataset, model), params=params, train=train)
