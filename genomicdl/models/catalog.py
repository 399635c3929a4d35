"""Names of the model registry, importable without PyTorch (the Snakefile reads it).

Each entry says whether the model is a neural network (trained by the PyTorch engine)
or a classical baseline (trained with scikit-learn), where its class lives, and which
hyper-parameters the config may override.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelEntry:
    """A registry entry: family ("torch" or "sklearn"), class path and tunable parameters."""

    name: str
    family: str
    target: str
    params: tuple[str, ...]


CATALOG: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "deepbind",
            "torch",
            "genomicdl.models.deepbind:DeepBind",
            ("filters", "filter_width", "hidden", "dropout", "pool"),
        ),
        ModelEntry(
            "kmer_logreg",
            "sklearn",
            "genomicdl.models.kmer:KmerLogReg",
            ("k", "C", "max_iter"),
        ),
        ModelEntry(
            "kmer_gbm",
            "sklearn",
            "genomicdl.models.kmer:KmerGBM",
            ("k", "max_iter", "learning_rate", "max_leaf_nodes"),
        ),
    )
}


def family(name: str) -> str:
    """The family of a registered model: "torch" or "sklearn"."""
    return CATALOG[name].family
