"""The model zoo: registry and kinds, shapes for every head, padding invariance, learning
a planted motif with the engine, and the classical baselines with their safe files."""

from __future__ import annotations

import inspect
import re
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from genomicdl.core.sequence import PAD, get
from genomicdl.io.store import Store, StoreWriter
from genomicdl.kinds.targets import Target
from genomicdl.models import CATALOG, build_baseline, build_network, model_class
from genomicdl.models.catalog import BASELINES, NETWORKS, supports
from genomicdl.models.mutation.params import TRAINING_KEYS
from genomicdl.training.engine import Trainer
from genomicdl.training.inference import autocast_dtype, cpu_computes_bf16, predict
from genomicdl.training.loader import StoreStream

MOTIFS = ("TGACTCA", "CACGTG", "GGGGCGGGG")  # AP-1, E-box, SP1-like: one per task
CODE = {b: i for i, b in enumerate("ACGT")}
TRAIN = {
    "learning_rate": 0.005, "grad_clip": 1.0, "max_epochs": 6, "lr_schedule": "cosine", "warmup_epochs": 0.5,
    "precision": "fp32", "focal_gamma": 2.0, "weight_decay": 0.0, "lr_patience": 2,
}  # fmt: skip
POSITION_MODELS = ("deepbind", "dilated", "transformer", "cnn_birnn")


def planted_store(
    path: Path, n: int = 1500, window: int = 100, n_tasks: int = 1, seed: int = 0, positive_rate: float = 0.3
) -> Path:
    """A store of random windows where a row is positive for task t when it carries
    MOTIFS[t] on either strand, near the centre (as a summit-centred peak would).
    Splits: 70% train, 15% valid, 15% test, by row."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, 4, size=(n, window)).astype(np.uint8)
    labels = (rng.random((n, n_tasks)) < positive_rate).astype(np.uint8)
    for t in range(n_tasks):
        motif = np.array([CODE[b] for b in MOTIFS[t]], dtype=np.uint8)
        centre = (window - len(motif)) // 2
        for row in np.flatnonzero(labels[:, t]):
            site = motif if rng.random() < 0.5 else (3 - motif)[::-1]
            start = rng.integers(max(0, centre - window // 6), min(window - len(site), centre + window // 6) + 1)
            seq[row, start : start + len(site)] = site
    split = np.zeros(n, np.uint8)
    split[int(0.7 * n) : int(0.85 * n)] = 1
    split[int(0.85 * n) :] = 2
    target = Target("binary", tuple(f"task{t}" for t in range(n_tasks)))
    writer = StoreWriter(path, window=window, target=target, chroms=["chr1"])
    writer.append(seq, labels=labels, split=split, start=np.arange(n) * window)
    writer.close()
    return path


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def motif_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planted_store(tmp_path_factory.mktemp("zoo") / "planted.h5", n=1500, window=60, n_tasks=2)


def target_of(kind: str, outputs: int = 3) -> Target:
    names = tuple(f"c{i}" for i in range(outputs))
    if kind in ("binary", "regression"):
        return Target(kind, names)
    if kind == "multilabel":
        return Target(kind, names, names)
    return Target(kind, ("y",), names)


def network(name: str, kind: str, *, window: int = 40, alphabet: str = "dna", variable: bool = False, params=None):
    return build_network(name, target=target_of(kind), window=window, alphabet=alphabet, variable=variable,
                         params=params)  # fmt: skip


def random_one_hot(n: int, length: int, alphabet: str = "dna") -> torch.Tensor:
    channels = get(alphabet).channels
    return torch.nn.functional.one_hot(torch.randint(0, channels, (n, length)), channels).float().transpose(1, 2)


# ------------------------------------------------------------------ registry and shapes


def accepted_keywords(cls: type) -> set[str]:
    """The names a constructor takes: its own parameters and the keys of its typed
    ``**base`` (a networks' shared NetworkArgs)."""
    params = inspect.signature(cls.__init__).parameters
    names = {n for n, p in params.items() if p.kind is not p.VAR_KEYWORD}
    for n, p in params.items():
        if p.kind is p.VAR_KEYWORD:
            (typed,) = typing.get_args(typing.get_type_hints(cls.__init__, include_extras=True)[n])
            names |= set(typed.__annotations__)
    return names


def test_registry_lists_the_zoo_and_its_kinds() -> None:
    assert set(NETWORKS) == {"deepbind", "deepsea", "basset", "danq", "dilated", "transformer", "cnn_birnn", "deeploc",
                             "bpnet", "binned", "light_attention", "conv_dense", "conv_kmer"}  # fmt: skip
    assert set(BASELINES) == {"kmer_logreg", "kmer_ridge", "kmer_gbm", "window_logreg"}
    fixed = {"torch": ("self", "outputs", "window"), "sklearn": ("self",), "mutation": ("self", "length")}
    keywords = {"torch": {"in_channels", "head"}, "sklearn": {"target", "alphabet", "double_stranded", "seed"}}
    keywords["mutation"] = set()
    training = {"torch": set(), "sklearn": set(), "mutation": set(TRAINING_KEYS)}  # read by the training loop
    for name, entry in CATALOG.items():
        cls = model_class(name)
        signature = inspect.signature(cls.__init__).parameters
        assert tuple(signature)[: len(fixed[entry.family])] == fixed[entry.family], name
        taken = accepted_keywords(cls)
        assert keywords[entry.family] <= taken, name
        rest = taken - set(fixed[entry.family]) - keywords[entry.family]
        rest -= {"tasks"} if getattr(cls, "wants_tasks", False) else set()  # signal models read the track layout
        assert set(entry.params) - training[entry.family] == rest, f"{name}: catalog params differ from the constructor"
        cited = (cls.__doc__ or "") + (sys.modules[cls.__module__].__doc__ or "")
        assert re.search(r"[A-Z][a-z]+.*\b(19|20)\d\d\b", cited), name  # authors and year
    special = {
        "deeploc": ("multiclass", "multilabel"),
        "light_attention": ("multiclass", "multilabel"),
        "bpnet": ("regression",),
        "binned": ("regression",),
    }
    for name in NETWORKS:
        if name in special:  # a head for one problem: localisation, or bigWig signal
            assert CATALOG[name].kinds == special[name], name
            continue
        assert supports(name, "binary") and supports(name, "regression") and not supports(name, "mutation_effect")
        assert supports(name, "per_position") == (name in POSITION_MODELS)
    assert [n for n in BASELINES if supports(n, "regression")] == ["kmer_ridge"]
    assert [n for n in BASELINES if supports(n, "per_position")] == ["window_logreg"]


def test_catalog_imports_without_torch() -> None:
    code = "import sys; sys.modules['torch'] = None; import genomicdl.models.catalog as c; print(len(c.CATALOG))"
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", NETWORKS)
def test_any_window_kind_and_alphabet(name: str) -> None:
    torch.manual_seed(0)
    for window, alphabet, variable in ((101, "dna", False), (12, "dna", False), (30, "protein", True)):
        for kind in ("binary", "multiclass", "multilabel", "regression", "per_position"):
            if not supports(name, kind):
                continue
            model = network(name, kind, window=window, alphabet=alphabet, variable=variable).eval()
            with torch.no_grad():
                out = model(random_one_hot(5, window, alphabet), torch.full((5,), window))
            expected = (5, window, 3) if kind == "per_position" else (5, 3)
            assert out.shape == expected, (name, kind, window, alphabet)
            assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", NETWORKS)
def test_padding_does_not_change_the_outputs(name: str) -> None:
    """Rows padded with extra all-zero columns, in a batch with longer rows, get the
    logits they get alone (eval mode), for every head that variable lengths use."""
    torch.manual_seed(2)
    for kind, alphabet in (("multiclass", "protein"), ("per_position", "protein"), ("binary", "dna")):
        if not supports(name, kind):
            continue
        model = network(name, kind, window=50, alphabet=alphabet, variable=True).eval()
        lengths = torch.tensor([50, 31, 9, 1])
        x = random_one_hot(4, 50, alphabet) * (torch.arange(50)[None, :] < lengths[:, None])[:, None, :]
        padded = torch.cat([x, torch.zeros(4, x.shape[1], 23)], dim=2)
        with torch.no_grad():
            batch = model(padded, lengths)
            for i, n in enumerate(lengths.tolist()):
                alone = model(x[i : i + 1, :, :n], lengths[i : i + 1])
                got = batch[i : i + 1, :n] if kind == "per_position" else batch[i : i + 1]
                torch.testing.assert_close(got, alone, atol=2e-5, rtol=1e-4, msg=f"{name} {kind} row {i}")


def test_heads_follow_the_kind() -> None:
    for name in NETWORKS:
        if "binary" in CATALOG[name].kinds:
            assert network(name, "binary", variable=True).head_kind == "pooled"
    for name in POSITION_MODELS:
        assert network(name, "per_position").head_kind == "position"
    assert network("basset", "binary").head_kind == "native"
    assert network("dilated", "per_position").stride == 1  # pool 1 by default for positions
    with pytest.raises(ValueError, match="model basset cannot predict per_position"):
        network("basset", "per_position")
    with pytest.raises(ValueError, match=r"model dilated cannot predict per_position.*pool"):
        network("dilated", "per_position", params={"pool": 4})
    with pytest.raises(ValueError, match="model danq cannot predict mutation_effect"):
        network("danq", "mutation_effect")


def test_trunks_expose_features_and_stride() -> None:
    x, lengths = random_one_hot(2, 96), torch.tensor([96, 50])
    for name, stride in (("basset", 48), ("deepsea", 16), ("danq", 13), ("dilated", 4), ("transformer", 4)):
        model = network(name, "binary", window=96, variable=True).eval()
        h, n = model.trunk(x, lengths)
        assert model.stride == stride and h.shape[:2] == (2, model.trunk_channels), name
        assert h.shape[2] == -(-96 // stride) and n.tolist() == [-(-96 // stride), -(-50 // stride)], name


def test_parameters_are_overridable() -> None:
    small = network("basset", "binary", window=120, params={"filters": [16, 16, 16], "hidden": [32]})
    default = network("basset", "binary", window=120)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in default.parameters())
    assert network("transformer", "binary", window=50, params={"layers": 1, "heads": 2}).encoder.num_layers == 1
    with pytest.raises(ValueError, match="no parameter bogus"):
        network("danq", "binary", params={"bogus": 1})
    with pytest.raises(ValueError, match="needs 3 values"):
        network("deepsea", "binary", params={"filters": [8, 8]})
    with pytest.raises(KeyError, match="unknown model"):
        network("alexnet", "binary")
    with pytest.raises(ValueError, match="not a neural network"):
        network("kmer_gbm", "binary")


# ------------------------------------------------------------------ learning with the engine


def _mean_loss(trainer: Trainer, codes: torch.Tensor, y: torch.Tensor) -> float:
    trainer.model.eval()
    with torch.no_grad():
        x = trainer.encoder.one_hot(codes)
        return float(trainer.loss(trainer.model(x, torch.full((len(x),), x.shape[2])), y))


@pytest.mark.parametrize("name", [n for n in NETWORKS if "binary" in CATALOG[n].kinds])
def test_learns_a_planted_motif(name: str, motif_store: Path) -> None:
    """Six short epochs of the engine (about 200 steps, cosine schedule) lower the loss on
    held-out windows and score the windows with a motif above those without."""
    torch.manual_seed(1)
    epochs, batch = TRAIN["max_epochs"], 32
    with Store(motif_store) as store:
        train, test, target = store.rows("train"), store.rows("test"), store.target
        labels = store.labels
        codes = torch.from_numpy(np.concatenate([c for _, c in store.batches(test, 512)]))
        y = torch.from_numpy(labels[test].astype(np.float32))
        model = build_network(name, target=target, window=store.window, alphabet="dna", variable=False, params=None)
        steps = -(-len(train) // batch)
        trainer = Trainer(model, TRAIN, torch.device("cpu"), target=target, rc_augment=True, steps_per_epoch=steps)
        before = _mean_loss(trainer, codes, y)
        stream = StoreStream(str(motif_store), train, labels, kind="binary", batch_size=batch, chunks_per_block=16,
                             lengths=store.lengths)  # fmt: skip
        for epoch in range(epochs):
            stream.seed = epoch
            result = trainer.train_epoch(stream, steps, name)
            assert result.samples == len(train)
        assert trainer.lr < 1e-5  # the cosine schedule ran to its end
        after = _mean_loss(trainer, codes, y)
        p = predict(model, store, test, trainer.encoder, target=target, rc_average=True)
    assert after < 0.75 * before, (name, before, after)
    for t in range(2):
        has_motif = labels[test, t] == 1
        assert p[has_motif, t].mean() > p[~has_motif, t].mean() + 0.15, (name, t)


@pytest.mark.parametrize("name", ["dilated", "light_attention"])
def test_prediction_batched_by_length_equals_each_protein_alone(tmp_path: Path, name: str) -> None:
    """predict() batches rows of different lengths by length: every protein's prediction is
    the one it gets alone (no padding), per residue and pooled."""
    from genomicdl.core.sequence_torch import DeviceEncoder

    kind, tasks = ("per_position", ("ss",)) if name == "dilated" else ("multiclass", ("loc",))
    target = Target(kind, tasks, ("C", "E", "H"))
    rng = np.random.default_rng(5)
    n, window = 150, 120
    lengths = rng.integers(8, window + 1, n).astype(np.int32)
    seq = np.full((n, window), PAD, np.uint8)
    for i, m in enumerate(lengths):
        seq[i, :m] = rng.integers(0, 20, m)
    writer = StoreWriter(tmp_path / "p.h5", window=window, target=target, alphabet="protein", ids=True)
    positions = np.where(np.arange(window)[None, :] < lengths[:, None], 0, -1).astype(np.int8)
    extra = {"positions": positions} if kind == "per_position" else {}
    writer.append(seq, labels=np.zeros((n, 0) if extra else n, np.uint8),
                  split=np.zeros(n, np.uint8), lengths=lengths, ids=[f"p{i}" for i in range(n)], **extra)  # fmt: skip
    writer.close()
    torch.manual_seed(0)
    model = build_network(name, target=target, window=window, alphabet="protein", variable=True, params=None).eval()
    encoder = DeviceEncoder("cpu", "protein")
    rows = rng.permutation(n)[:100]
    with Store(tmp_path / "p.h5") as store:
        together = predict(model, store, rows, encoder, target=target, batch_size=32)
        alone = [predict(model, store, np.array([r]), encoder, target=target)[0] for r in rows]
    for r, p, q in zip(rows, together, alone):
        if kind == "per_position":
            assert np.allclose(p[: lengths[r]], q[: lengths[r]], atol=1e-5) and not p[lengths[r] :].any()
        else:
            assert np.allclose(p, q, atol=1e-5)


def residues(n: int, width: int = 40, seed: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Protein codes (n, width) of 12..width residues, padded with PAD, whose per-position
    class (-1 on padding) is the letter group (code % 3) of the right neighbour, 0 at
    the last residue: it needs context. Returns (codes, labels, lengths)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(12, width + 1, n)
    codes = rng.integers(0, 20, (n, width)).astype(np.uint8)
    inside = np.arange(width)[None, :] < lengths[:, None]
    codes[~inside] = 255
    right = np.concatenate([codes[:, 1:], np.full((n, 1), 255, np.uint8)], axis=1)
    labels = np.where(right == 255, 0, right % 3).astype(np.int64)
    labels[~inside] = -1
    return torch.from_numpy(codes), torch.from_numpy(labels), torch.from_numpy(lengths)


def test_cpu_bf16_autocasts_only_where_the_cpu_computes_it(caplog: pytest.LogCaptureFixture) -> None:
    """``precision: bf16`` on CPU autocasts where the CPU has native bf16 (AVX512-BF16 or
    AMX); elsewhere it falls back to fp32 and says so; auto and fp32 never autocast on CPU."""
    cpu = torch.device("cpu")
    with caplog.at_level("WARNING", logger="genomicdl.training.inference"):
        got = autocast_dtype(cpu, "bf16")
    if cpu_computes_bf16():
        assert got == torch.bfloat16 and not caplog.records
    else:
        assert got is None
        assert any("no native bf16" in r.getMessage() for r in caplog.records)
    assert autocast_dtype(cpu, "auto") is None and autocast_dtype(cpu, "fp32") is None


@pytest.mark.parametrize(
    ("name", "precision"), [("dilated", "fp32"), ("cnn_birnn", "fp32"), ("dilated", "bf16"), ("cnn_birnn", "bf16")]
)
def test_learns_per_position_classes_of_variable_length_proteins(name: str, precision: str) -> None:
    """Steps of the engine's Trainer on padded batches of proteins (token cross-entropy)
    reach a per-residue accuracy far above chance (1/3) on held-out rows, in fp32 and
    under CPU bf16 autocast (``precision: bf16``; forced where the CPU would fall back to
    fp32, so that the autocast path runs on every machine)."""
    torch.manual_seed(0)
    target = target_of("per_position")
    model = build_network(name, target=target, window=40, alphabet="protein", variable=True,
                          params={"layers": 2} if name == "dilated" else {"gru": 32})  # fmt: skip
    epochs, batches = 8, 10
    settings = TRAIN | {"max_epochs": epochs, "learning_rate": 0.01, "precision": precision}
    trainer = Trainer(model, settings, torch.device("cpu"), target=target, alphabet="protein", steps_per_epoch=batches)
    assert trainer.amp == (torch.bfloat16 if precision == "bf16" and cpu_computes_bf16() else None)
    if precision == "bf16":
        trainer.amp = torch.bfloat16
    codes, labels, lengths = residues(32 * batches)
    model.train()
    for _ in range(epochs):
        for b in range(batches):
            at = slice(32 * b, 32 * b + 32)
            width = int(lengths[at].max())  # cropped to the batch's longest row, as the store does
            trainer.step(codes[at, :width], labels[at, :width], lengths[at])
    codes, labels, lengths = residues(100, seed=5)
    model.eval()
    with torch.no_grad():
        out = model(trainer.encoder.one_hot(codes), lengths)
    accuracy = (out.argmax(dim=2) == labels)[labels >= 0].float().mean().item()
    assert out.shape == (100, 40, 3) and accuracy > 0.8, (name, accuracy)


# ------------------------------------------------------------------ classical baselines


@pytest.fixture
def one_openmp_thread() -> Iterator[None]:
    """Boosting spins one OpenMP thread per core: on a busy machine one is far faster."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def toy_codes(n: int = 300, width: int = 40, alphabet: str = "dna", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random codes of random lengths (at least 10), padded with PAD."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, get(alphabet).channels, (n, width)).astype(np.uint8)
    lengths = rng.integers(10, width + 1, n)
    codes[np.arange(width)[None, :] >= lengths[:, None]] = 255
    return codes, lengths


def toy_labels(kind: str, codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Labels that depend on the letters: the count of code 1 in the first 10 positions."""
    ones = (codes[:, :10] == 1).sum(axis=1)
    if kind in ("binary", "multilabel"):
        return np.stack([ones > 2, ones <= 2, ones > 3], axis=1).astype(np.uint8)
    if kind == "multiclass":
        return np.minimum(ones, 2).astype(np.int16)
    if kind == "regression":
        y = np.stack([ones, lengths, -ones], axis=1).astype(np.float32)
        y[::5, 1] = np.nan
        return y
    raise ValueError(kind)


def baseline(name: str, kind: str, alphabet: str = "dna", params: dict | None = None, stranded: bool = False):
    return build_baseline(name, target=target_of(kind), alphabet=alphabet, double_stranded=stranded, seed=1,
                          params=params)  # fmt: skip


def test_kmer_features_count_valid_positions_only() -> None:
    model = baseline("kmer_logreg", "binary", params={"k": 2})
    codes = np.array([[0, 1, 2, 3, 255, 255], [0, 1, 4, 3, 0, 0]], np.uint8)  # PAD; N (code 4)
    x = model.features(codes, np.array([4, 6]))
    assert x.shape == (2, 16)
    assert np.allclose(x[0].sum(), 1) and np.isclose(x[0, 0 * 4 + 1], 1 / 3)  # AC, CG, GT
    assert np.isclose(x[1, 3 * 4 + 0], 1 / 3) and np.isclose(x[1, 0 * 4 + 1], 1 / 3)  # AC, TA, AA
    stranded = baseline("kmer_logreg", "binary", params={"k": 2}, stranded=True)
    assert stranded.features(codes, np.array([4, 6])).shape == (2, 10)  # 16 2-mers, 10 up to reverse complement
    protein = baseline("kmer_logreg", "binary", alphabet="protein", stranded=True)  # no complement: not collapsed
    assert protein.features(*toy_codes(5, 30, "protein")).shape == (5, 20 + 400)  # composition + dipeptides
    short = model.features(np.array([[2]], np.uint8), np.array([1]))  # shorter than k: no k-mer
    assert short.shape == (1, 16) and short.sum() == 0


CASES = [
    ("kmer_logreg", "binary"), ("kmer_logreg", "multilabel"), ("kmer_logreg", "multiclass"),
    ("kmer_ridge", "regression"), ("kmer_gbm", "binary"), ("kmer_gbm", "multiclass"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_baselines_fit_each_kind_and_round_trip(name: str, kind: str, tmp_path: Path, one_openmp_thread) -> None:
    from genomicdl.models.baselines.serial import load_baseline, save_baseline

    alphabet = "protein" if kind == "multiclass" else "dna"
    codes, lengths = toy_codes(300, 40, alphabet)
    y = toy_labels(kind, codes, lengths)
    params = {"k": 1, "max_iter": 15} if name == "kmer_gbm" else {"k": 2 if alphabet == "dna" else 1}
    model = baseline(name, kind, alphabet, params)
    x = model.features(codes, lengths)
    weights = None if kind == "regression" else np.array([2.0, 1.0, 1.0])
    p = model.fit(x, y, weights).predict(x)
    assert p.shape == (300, 3) and np.isfinite(p).all()
    if kind == "multiclass":
        assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
        assert (p.argmax(axis=1) == y).mean() > 0.5
    elif kind == "regression":
        assert np.corrcoef(p[:, 0], y[:, 0])[0, 1] > 0.5
    else:
        assert ((p > 0.5) == y).mean() > 0.7
    assert model.parameter_count() > 0
    save_baseline(model, tmp_path / "model.npz", {"balance": "none"})
    loaded, meta = load_baseline(tmp_path / "model.npz")
    assert meta == {"balance": "none"} and loaded.parameter_count() == model.parameter_count()
    assert np.array_equal(loaded.predict(x), p)
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_boosted_trees_as_arrays_match_scikit_learn(one_openmp_thread) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from genomicdl.models.baselines.trees import TreeEnsemble

    rng = np.random.default_rng(0)
    x = rng.random((400, 6))
    x[::9, 2] = np.nan
    for y in ((x[:, 0] * 3).astype(int), x[:, 1] > 0.5):
        est = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(x, y)
        np.testing.assert_allclose(TreeEnsemble.from_sklearn(est).predict_proba(x), est.predict_proba(x), rtol=1e-12)


def test_a_constant_output_predicts_its_class() -> None:
    codes, lengths = toy_codes(60)
    y = toy_labels("binary", codes, lengths)
    y[:, 2] = 0
    model = baseline("kmer_logreg", "binary", params={"k": 2})
    p = model.fit(model.features(codes, lengths), y).predict(model.features(codes, lengths))
    assert (p[:, 2] == 0).all() and model.estimators[2] is None


def test_window_logreg_predicts_per_position(tmp_path: Path) -> None:
    """The class of a residue is its right neighbour's letter group: a window sees it."""
    from genomicdl.models.baselines.serial import load_baseline, save_baseline

    codes, lengths = toy_codes(80, 30, "protein")
    right = np.concatenate([codes[:, 1:], np.full((80, 1), 255, np.uint8)], axis=1)
    labels = np.where(right == 255, 0, right % 3).astype(np.int64)
    y = np.concatenate([labels[i, :n] for i, n in enumerate(lengths)])
    y[::11] = -1  # masked positions are ignored
    model = build_baseline("window_logreg", target=target_of("per_position"), alphabet="protein",
                           double_stranded=False, seed=0, params={"flank": 2, "C": 10.0})  # fmt: skip
    assert model.per_position
    x = model.features(codes, lengths)
    assert x.shape == (lengths.sum(), 5 * 20)
    first = x[: lengths[0]].reshape(lengths[0], 5, 20)
    assert first[0, :2].sum() == 0 and (first[0, 2].argmax() == codes[0, 0])  # nothing left of position 0
    p = model.fit(x, y, np.ones(3)).predict(x)
    assert p.shape == (lengths.sum(), 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert (p.argmax(axis=1) == y)[y >= 0].mean() > 0.9
    save_baseline(model, tmp_path / "w.npz", {})
    reloaded = load_baseline(tmp_path / "w.npz")[0].predict(x)
    assert np.array_equal(reloaded, p)


class Payload:
    """Pickles to a call that creates a file: proof that unpickling ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_model_file_with_a_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    import pickle

    from genomicdl.models.baselines.serial import UnsafeModelFileError, load_baseline, save_baseline

    codes, lengths = toy_codes(60)
    model = baseline("kmer_logreg", "binary", params={"k": 2})
    model.fit(model.features(codes, lengths), toy_labels("binary", codes, lengths))
    save_baseline(model, tmp_path / "good.npz", {})
    marker = tmp_path / "pwned"
    with np.load(tmp_path / "good.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["est0_coef"] = np.array([Payload(marker)], dtype=object)  # a tampered entry
    with open(tmp_path / "tampered.npz", "wb") as fh:
        np.savez(fh, **arrays)
    (tmp_path / "pickle.npz").write_bytes(pickle.dumps({"model": Payload(marker)}))  # a joblib-style pickle
    for name in ("tampered.npz", "pickle.npz"):
        with pytest.raises(UnsafeModelFileError, match=re.escape(name)):
            load_baseline(tmp_path / name)
    assert not marker.exists()
    arrays.pop("est0_coef")  # a file that lacks a fitted array: a clear error, not a crash
    with open(tmp_path / "partial.npz", "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(ValueError, match=r"partial\.npz: the kmer_logreg model in it is incomplete"):
        load_baseline(tmp_path / "partial.npz")
