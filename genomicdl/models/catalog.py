"""Names of the model registry, importable without PyTorch (the Snakefile reads it).

Each entry says whether the model is a neural network (trained by the PyTorch engine)
or a classical baseline (trained with scikit-learn), where its class lives, and which
hyper-parameters the config may override (``model_params.<name>.<param>``; they are the
keyword arguments of the class, whose docstring and defaults describe them), and the
search space the ``tune`` stage explores (overridable with ``tune.space``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Training settings a search space may include beside a model's own parameters.
TRAIN_PARAMS = ("learning_rate", "weight_decay", "batch_size")


@dataclass(frozen=True)
class Range:
    """One dimension of a search space: numbers in [low, high] (integers when both
    bounds are, log-uniform with ``log``), or one of ``choices``."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[object, ...] = ()


def _optimiser(lr: tuple[float, float] = (1e-4, 1e-2)) -> tuple[tuple[str, Range], ...]:
    """The training settings every network's search includes."""
    return (("learning_rate", Range(*lr, log=True)), ("weight_decay", Range(1e-5, 1e-1, log=True)))


#: Target kinds with one prediction per sequence (a pooled or native head).
SEQUENCE_KINDS = ("binary", "multiclass", "multilabel", "regression")
#: ... and with the per-residue kind (trunks that keep full resolution).
ALL_KINDS = (*SEQUENCE_KINDS, "per_position")


@dataclass(frozen=True)
class ModelEntry:
    """A registry entry: family ("torch", "sklearn" or "mutation"), class path, tunable
    parameters, the paper it follows, the target kinds it predicts, and the parameters it
    takes by default for per_position targets (e.g. no pooling) unless the config sets them."""

    name: str
    family: str
    target: str
    params: tuple[str, ...]
    cite: str = ""
    kinds: tuple[str, ...] = SEQUENCE_KINDS
    position_defaults: tuple[tuple[str, object], ...] = ()
    search: tuple[tuple[str, Range], ...] = ()

    def space(self) -> dict[str, Range]:
        """The registry's search space: parameter (model or training) -> range."""
        return dict(self.search)


CATALOG: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "deepbind",
            "torch",
            "genomicdl.models.networks.deepbind:DeepBind",
            ("filters", "filter_width", "hidden", "dropout", "pool", "pool_width"),
            "Alipanahi et al. 2015",
            ALL_KINDS,
            search=(
                ("filters", Range(16, 128, log=True)),
                ("filter_width", Range(8, 24)),
                ("hidden", Range(choices=(0, 32))),
                ("dropout", Range(0.0, 0.5)),
                ("pool", Range(choices=("max", "max_avg", "local_max", "local_avg"))),
                ("pool_width", Range(4, 25)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "deepsea",
            "torch",
            "genomicdl.models.networks.deepsea:DeepSEA",
            ("filters", "width", "pool", "dropout", "hidden", "batch_norm"),
            "Zhou & Troyanskaya 2015",
            search=(
                ("filters", Range(16, 96, log=True)),
                ("width", Range(6, 12)),
                ("pool", Range(choices=(2, 4, 8))),
                ("hidden", Range(32, 256, log=True)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "basset",
            "torch",
            "genomicdl.models.networks.basset:Basset",
            ("filters", "widths", "pools", "hidden", "dropout"),
            "Kelley et al. 2016",
            search=(
                ("filters", Range(24, 96, log=True)),
                ("pools", Range(choices=(2, 3, 4))),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "danq",
            "torch",
            "genomicdl.models.networks.danq:DanQ",
            ("filters", "width", "pool", "lstm", "hidden", "dropout", "lstm_dropout"),
            "Quang & Xie 2016",
            search=(
                ("filters", Range(32, 128, log=True)),
                ("pool", Range(4, 16)),
                ("lstm", Range(16, 64, log=True)),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "dilated",
            "torch",
            "genomicdl.models.networks.dilated:DilatedCNN",
            ("channels", "stem_width", "pool", "layers", "width", "rate", "dropout", "features"),
            "Kelley et al. 2018 (Basenji)",
            ALL_KINDS,
            (("pool", 1),),
            search=(
                ("channels", Range(32, 96, log=True)),
                ("layers", Range(2, 6)),
                ("width", Range(choices=(3, 5))),
                ("dropout", Range(0.0, 0.4)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "transformer",
            "torch",
            "genomicdl.models.networks.transformer:SequenceTransformer",
            ("channels", "stem_width", "pool", "layers", "heads", "feedforward", "dropout", "attention_dropout"),
            "Vaswani et al. 2017; stem as in Avsec et al. 2021",
            ALL_KINDS,
            (("pool", 1),),
            search=(
                ("channels", Range(choices=(32, 48, 64, 96))),
                ("layers", Range(1, 4)),
                ("dropout", Range(0.0, 0.4)),
                *_optimiser((1e-4, 3e-3)),
            ),
        ),
        ModelEntry(
            "cnn_birnn",
            "torch",
            "genomicdl.models.networks.cnn_birnn:CnnBiRnn",
            ("filters", "widths", "gru", "layers", "dropout"),
            "Drori et al. 2018 (cu-ssp)",
            ALL_KINDS,
            search=(
                ("filters", Range(16, 64, log=True)),
                ("gru", Range(32, 128, log=True)),
                ("layers", Range(1, 2)),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "bpnet",
            "torch",
            "genomicdl.models.networks.bpnet:BPNet",
            ("filters", "layers", "stem_width", "profile_width", "count_pool", "output_length"),
            "Avsec et al. 2021 (BPNet)",
            ("regression",),
            search=(
                ("filters", Range(32, 128, log=True)),
                ("layers", Range(4, 9)),
                *_optimiser((1e-4, 3e-3)),
            ),
        ),
        ModelEntry(
            "binned",
            "torch",
            "genomicdl.models.networks.bpnet:BinnedSignal",
            ("trunk", "trunk_params", "output_length"),
            "binned coverage head on a zoo trunk (Kelley et al. 2018, Basenji)",
            ("regression",),
            search=_optimiser(),  # the trunk_params dict is not searched: set it in model_params
        ),
        ModelEntry(
            "conv_dense",
            "torch",
            "genomicdl.models.networks.conv_dense:ConvDense",
            ("filters", "widths", "pools", "hidden", "dropout", "kmer", "kmer_dropout"),
            "conv stack + dense over positions, as Optimus 5' (Sample et al. 2019)",
            search=(
                ("pools", Range(choices=(1, 2, 4))),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "conv_kmer",
            "torch",
            "genomicdl.models.networks.conv_dense:ConvKmer",
            ("filters", "widths", "pools", "hidden", "dropout", "kmer", "kmer_dropout"),
            "hybrid: conv_dense + a linear model of k-mer counts, trained together",
            search=(
                ("pools", Range(choices=(1, 2, 4))),
                ("kmer", Range(choices=(4, 5, 6))),
                ("kmer_dropout", Range(0.0, 0.5)),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "deeploc",
            "torch",
            "genomicdl.models.networks.deeploc:DeepLoc",
            ("features", "filters", "widths", "lstm", "attention", "hidden", "dropout"),
            "Almagro Armenteros et al. 2017 (DeepLoc)",
            ("multiclass", "multilabel"),
            search=(
                ("filters", Range(16, 64, log=True)),
                ("lstm", Range(32, 128, log=True)),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "light_attention",
            "torch",
            "genomicdl.models.networks.light_attention:LightAttention",
            ("features", "channels", "stem_width", "layers", "width", "attention_width", "hidden", "dropout"),
            "Stärk et al. 2021 (light attention)",
            ("multiclass", "multilabel"),
            search=(
                ("features", Range(choices=("onehot", "blosum62", "onehot+blosum62"))),
                ("channels", Range(32, 128, log=True)),
                ("layers", Range(0, 4)),
                ("attention_width", Range(choices=(5, 9, 15))),
                ("dropout", Range(0.0, 0.5)),
                *_optimiser(),
            ),
        ),
        ModelEntry(
            "kmer_logreg",
            "sklearn",
            "genomicdl.models.baselines.kmer_logreg:KmerLogReg",
            ("k", "C", "max_iter"),
            "k-mer spectrum + logistic regression",
            ("binary", "multilabel", "multiclass"),
        ),
        ModelEntry(
            "kmer_ridge",
            "sklearn",
            "genomicdl.models.baselines.kmer_ridge:KmerRidge",
            ("k", "alpha"),
            "k-mer spectrum + ridge regression",
            ("regression",),
        ),
        ModelEntry(
            "kmer_gbm",
            "sklearn",
            "genomicdl.models.baselines.kmer_gbm:KmerGBM",
            ("k", "max_iter", "learning_rate", "max_leaf_nodes"),
            "k-mer spectrum + gradient boosting",
            ("binary", "multilabel", "multiclass"),
        ),
        ModelEntry(
            "window_logreg",
            "sklearn",
            "genomicdl.models.baselines.window_logreg:WindowLogReg",
            ("flank", "C", "max_iter", "max_positions"),
            "one-hot residue windows + multinomial logistic regression (cf. Qian & Sejnowski 1988)",
            ("per_position",),
        ),
        # Mutation effects from an alignment (genomicdl.mutation.train).
        ModelEntry(
            "site_independent",
            "mutation",
            "genomicdl.models.mutation.site_independent:SiteIndependent",
            ("pseudocount", "steps", "batch_size", "learning_rate", "checkpoint_every", "samples"),
            "Hopf et al. 2017 (independent model)",
            ("mutation_effect",),
        ),
        ModelEntry(
            "pairwise",
            "mutation",
            "genomicdl.models.mutation.potts:Potts",
            ("lambda_h", "lambda_j", "steps", "batch_size", "learning_rate", "checkpoint_every", "samples"),
            "Hopf et al. 2017 (EVmutation)",
            ("mutation_effect",),
        ),
        ModelEntry(
            "ardca",
            "mutation",
            "genomicdl.models.mutation.ardca:ArDCA",
            (
                "lambda_h", "lambda_j", "lambda_j_grid", "holdout", "order", "chunk", "max_iter", "tolerance",
                "steps", "batch_size", "learning_rate", "checkpoint_every", "samples",
            ),
            "Trinquier et al. 2021 (arDCA)",
            ("mutation_effect",),
        ),
        ModelEntry(
            "vae",
            "mutation",
            "genomicdl.models.mutation.vae:VAE",
            (
                "encoder", "latent", "decoder", "dictionary", "tiles", "sparsity", "prior_scale", "bayesian",
                "steps", "batch_size", "learning_rate", "checkpoint_every", "samples",
            ),
            "Riesselman, Ingraham & Marks 2018 (DeepSequence)",
            ("mutation_effect",),
        ),
    )
}

NETWORKS = tuple(name for name, entry in CATALOG.items() if entry.family == "torch")
BASELINES = tuple(name for name, entry in CATALOG.items() if entry.family == "sklearn")
MUTATION_MODELS = tuple(name for name, entry in CATALOG.items() if entry.family == "mutation")


def family(name: str) -> str:
    """The family of a registered model: "torch", "sklearn" or "mutation"."""
    if name not in CATALOG:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(CATALOG)}")
    return CATALOG[name].family


def supports(name: str, kind: str) -> bool:
    """Whether the registered model ``name`` predicts targets of ``kind``."""
    if name not in CATALOG:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(CATALOG)}")
    return kind in CATALOG[name].kinds


def models_for(kind: str) -> tuple[str, ...]:
    """The registered models that predict targets of ``kind``."""
    return tuple(name for name, entry in CATALOG.items() if kind in entry.kinds)


def supported_kinds(name: str) -> tuple[str, ...]:
    """Target kinds a registered model can be trained on."""
    return tuple(CATALOG[name].kinds)
