"""Names of the model registry, importable without PyTorch (the Snakefile reads it).

Each entry says whether the model is a neural network (trained by the PyTorch engine)
or a classical baseline (trained with scikit-learn), where its class lives, and which
hyper-parameters the config may override (``model_params.<name>.<param>``; they are the
keyword arguments of the class, whose docstring and defaults describe them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelEntry:
    """A registry entry: family ("torch" or "sklearn"), class path, tunable parameters
    and the paper it follows."""

    name: str
    family: str
    target: str
    params: tuple[str, ...]
    cite: str = ""


CATALOG: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "deepbind",
            "torch",
            "genomicdl.models.deepbind:DeepBind",
            ("filters", "filter_width", "hidden", "dropout", "pool"),
            "Alipanahi et al. 2015",
        ),
        ModelEntry(
            "deepsea",
            "torch",
            "genomicdl.models.deepsea:DeepSEA",
            ("filters", "width", "pool", "dropout", "hidden", "batch_norm"),
            "Zhou & Troyanskaya 2015",
        ),
        ModelEntry(
            "basset",
            "torch",
            "genomicdl.models.basset:Basset",
            ("filters", "widths", "pools", "hidden", "dropout"),
            "Kelley et al. 2016",
        ),
        ModelEntry(
            "danq",
            "torch",
            "genomicdl.models.danq:DanQ",
            ("filters", "width", "pool", "lstm", "hidden", "dropout", "lstm_dropout"),
            "Quang & Xie 2016",
        ),
        ModelEntry(
            "dilated",
            "torch",
            "genomicdl.models.dilated:DilatedCNN",
            ("channels", "stem_width", "pool", "layers", "width", "rate", "dropout"),
            "Kelley et al. 2018 (Basenji)",
        ),
        ModelEntry(
            "transformer",
            "torch",
            "genomicdl.models.transformer:SequenceTransformer",
            ("channels", "stem_width", "pool", "layers", "heads", "feedforward", "dropout", "attention_dropout"),
            "Vaswani et al. 2017; stem as in Avsec et al. 2021",
        ),
        ModelEntry(
            "kmer_logreg",
            "sklearn",
            "genomicdl.models.kmer_logreg:KmerLogReg",
            ("k", "C", "max_iter"),
            "k-mer spectrum + logistic regression",
        ),
        ModelEntry(
            "kmer_gbm",
            "sklearn",
            "genomicdl.models.kmer_gbm:KmerGBM",
            ("k", "max_iter", "learning_rate", "max_leaf_nodes"),
            "k-mer spectrum + gradient boosting",
        ),
    )
}

NETWORKS = tuple(name for name, entry in CATALOG.items() if entry.family == "torch")
BASELINES = tuple(name for name, entry in CATALOG.items() if entry.family == "sklearn")


def family(name: str) -> str:
    """The family of a registered model: "torch" or "sklearn"."""
    if name not in CATALOG:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(CATALOG)}")
    return CATALOG[name].family
