"""Training settings of the mutation-effect models (importable without PyTorch: the
Snakefile reads them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from genomicdl.core import paths

# Training settings a model_params.<model> entry may hold beside the constructor's keywords.
TRAINING_KEYS = ("steps", "batch_size", "learning_rate", "checkpoint_every", "samples")
TRAINING_DEFAULTS: dict[str, dict[str, Any]] = {
    "site_independent": {"steps": 0, "batch_size": 0, "learning_rate": 0.0, "checkpoint_every": 1, "samples": 1},
    "pairwise": {"steps": 100, "batch_size": 0, "learning_rate": 0.01, "checkpoint_every": 10, "samples": 1},
    "ardca": {"steps": 0, "batch_size": 0, "learning_rate": 0.0, "checkpoint_every": 1, "samples": 1},
    "vae": {"steps": 10000, "batch_size": 128, "learning_rate": 0.001, "checkpoint_every": 500, "samples": 50},
}


def split_params(model: str, params: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(constructor keywords, training settings with the model's defaults filled in)."""
    params = dict(params or {})
    training = {**TRAINING_DEFAULTS.get(model, TRAINING_DEFAULTS["vae"])}
    training.update({k: params.pop(k) for k in TRAINING_KEYS if k in params})
    return params, training


def seed_free(model: str, params: dict[str, Any] | None) -> bool:
    """True when the seed cannot change the fit: the closed-form site-independent model,
    arDCA (convex, full-batch L-BFGS from zeros), or the Potts model trained full batch
    (every sequence, every step) from zeros."""
    if model in ("site_independent", "ardca"):  # closed form; convex fit from zeros
        return True
    return model == "pairwise" and split_params(model, params)[1]["batch_size"] <= 0


ENSEMBLES = ("vae",)  # models whose seeds also form an ensemble run


def ensemble_members(config: dict[str, Any], families: dict[str, str]) -> list[str]:
    """The models of the scan table's ensemble row (``mutation_ensemble``, or every mutation model)."""
    chosen = config.get("mutation_ensemble")
    models = [m for m in config["models"] if families.get(m) == "mutation"]
    return list(models if chosen is None else chosen)


def seeds_of(model: str, config: dict[str, Any]) -> list[int]:
    """The seeds a model runs with: the first only when the seed cannot change it."""
    if seed_free(model, config["model_params"].get(model, {})):
        return config["seeds"][:1]
    return config["seeds"]


def mutation_runs(config: dict[str, Any], families: dict[str, str]) -> Iterator[tuple[str, str, str, int]]:
    """Every (dataset, model, balance, seed) of the datasets with an alignment;
    ``families`` maps model names to their registry family."""
    for dataset, ds in config["datasets"].items():
        if "alignment" not in ds:
            continue
        for model in config["models"]:
            if families.get(model) != "mutation":
                continue
            for balance in config["balance"]:
                if balance in ("none", "class_weight"):
                    for seed in seeds_of(model, config):
                        yield dataset, model, balance, seed


def mutation_targets(config: dict[str, Any], families: dict[str, str]) -> list[str]:
    """Scored runs, seed ensembles and data summaries of every alignment dataset."""
    runs = list(mutation_runs(config, families))
    targets = [f"{paths.RUN_DIR.format(dataset=d, model=m, balance=b, seed=s)}/{name}"
               for d, m, b, s in runs for name in ("metrics.tsv", "arrays.npz", "predictions.tsv.gz")]
    targets += [paths.fill(paths.ALIGNMENT_SUMMARY, dataset=d) for d in dict.fromkeys(r[0] for r in runs)]
    ensembles = {(d, m, b) for d, m, b, _ in runs if m in ENSEMBLES and len(seeds_of(m, config)) > 1}
    targets += [paths.fill(paths.ENSEMBLE_RUN_DIR, dataset=d, model=m, balance=b) + "/metrics.tsv"
                for d, m, b in sorted(ensembles)]
    tables = dict.fromkeys((d, b) for d, _, b, _ in runs)
    targets += [f"{paths.SCAN_TABLE.format(dataset=d, balance=b)}.{ext}" for d, b in tables for ext in ("tsv", "md")]
    return targets


def table_runs(config: dict[str, Any], families: dict[str, str], dataset: str, balance: str) -> list[tuple[str, int]]:
    """(model, seed) of every run of a dataset and balance (the scan table's inputs)."""
    return [(m, s) for d, m, b, s in mutation_runs(config, families) if (d, b) == (dataset, balance)]
