"""signal.track_weights: inverse_variance weights each track's squared error by 1 / the
variance of its log1p bins over the kept training windows (real pyBigWig tracks, the real
preprocess and rebalance stages, a real torch loss)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest
import torch
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import ConfigError
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.datasets.synthetic import write_genome
from genomicdl.io.genome import prepare_genome
from genomicdl.io.store import Store
from genomicdl.training.losses import regression_loss
from genomicdl.training.rebalance import inverse_variance_weights, rebalance

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
CHROMS = {"chrI": 20_000, "chrII": 8_000, "chrIII": 8_000}


def write_track(path: Path, spread: float, seed: int) -> Path:
    """Per-base bigWig whose 100-bp blocks hold exp(spread * normal) - 1 (log1p spread)."""
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(CHROMS.items()))
    for name, size in CHROMS.items():
        blocks = np.expm1(np.abs(spread * rng.standard_normal(size // 100 + 1)) + 1)
        vals = np.repeat(blocks, 100)[:size]
        bw.addEntries(name, 0, values=vals.tolist(), span=1, step=1)
    bw.close()
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("weights")
    write_genome(root / "genome.fa", CHROMS, seed=5)
    return {
        "genome_raw": root / "genome.fa",
        "genome": prepare_genome(root / "genome.fa", root / "prep" / "genome.fa.gz"),
        "wide": write_track(root / "wide.bw", 3.0, 1),
        "narrow": write_track(root / "narrow.bw", 0.3, 2),
    }


def config(data: dict, loss: str = "log1p_mse", **signal: object) -> dict:
    raw = {
        "genome": {"url": str(data["genome_raw"])},
        "targets": {"wide": {"url": str(data["wide"])}, "narrow": {"url": str(data["narrow"])}},
        "window": 200,
        "mode": "tiles",
        "loss": loss,
        "split": {"valid": ["chrII"], "test": ["chrIII"]},
        "signal": {"output_length": 100, "bin_size": 50, **signal},
    }
    return gconfig.validate({"datasets": {"w": raw}}, SCHEMA)


def build(data: dict, out: Path, **signal: object) -> Path:
    ds = config(data, **signal)["datasets"]["w"]
    files = {"target.wide": str(data["wide"]), "target.narrow": str(data["narrow"])}
    build_dataset(dataset_spec("w", ds), files, str(data["genome"]), str(out / "d.h5"), str(out / "s.json"),
                  str(out / "g.tsv"))  # fmt: skip
    return out / "d.h5"


def test_rebalance_writes_inverse_variance_weights(data: dict, tmp_path: Path) -> None:
    store = build(data, tmp_path, track_weights="inverse_variance")
    rebalance(store, "none", 1, 1.0, tmp_path / "i.npz", tmp_path / "c.tsv")
    w = np.load(tmp_path / "i.npz")["pos_weight"]
    with Store(store) as st:
        assert st.attr("signal")["track_weights"] == "inverse_variance"
        rows = st.rows("train")
        logs = np.log1p(st.labels[rows].reshape(len(rows), 2, 2).astype(np.float64))
    var = logs.reshape(len(rows), 2, 2).transpose(1, 0, 2).reshape(2, -1).var(axis=1)
    expect = (1 / var) / (1 / var).mean()
    assert w.shape == (4,)  # tracks x bins, track-major
    np.testing.assert_allclose(w, np.repeat(expect, 2), rtol=1e-5)
    assert w[2] > 10 * w[0]  # the narrow track weighs far more than the wide one
    assert w.mean() == pytest.approx(1.0, rel=1e-6)


def test_equal_by_default_writes_ones(data: dict, tmp_path: Path) -> None:
    store = build(data, tmp_path)
    rebalance(store, "none", 1, 1.0, tmp_path / "i.npz", tmp_path / "c.tsv")
    assert np.array_equal(np.load(tmp_path / "i.npz")["pos_weight"], np.ones(4, np.float32))


def test_weighted_loss_scales_each_track_and_ones_are_the_plain_mean() -> None:
    out = torch.zeros(3, 4)
    y = torch.full((3, 4), float(np.e - 1))  # log1p(y) = 1: squared error 1 everywhere
    y[0, 3] = float("nan")  # a missing bin is left out
    plain = regression_loss(out, y, "log1p_mse")
    assert float(plain) == pytest.approx(1.0)
    assert float(regression_loss(out, y, "log1p_mse", torch.ones(4))) == float(plain)
    w = torch.tensor([0.5, 0.5, 1.5, 1.5])
    weighted = regression_loss(out, y, "log1p_mse", w)
    assert float(weighted) == pytest.approx((0.5 * 6 + 1.5 * 5) / 11)


def test_weights_need_log1p_mse_and_variance(data: dict) -> None:
    with pytest.raises(ConfigError, match="track_weights: inverse_variance needs loss log1p_mse"):
        config(data, loss="poisson", track_weights="inverse_variance")
    with pytest.raises(ValueError, match="without variance"):
        inverse_variance_weights(np.ones((5, 4), np.float32), ["a:0", "a:1", "b:0", "b:1"])


def test_kmer_ridge_fits_log_totals_of_a_signal_target(data: dict, tmp_path: Path) -> None:
    """On a count-loss signal store the ridge fits each track's log1p window total (one
    estimator per track, not per bin) and predicts it spread flat over the bins; saved
    and reloaded it predicts the same."""
    from genomicdl.training.baselines import load_baseline, train_baseline
    from genomicdl.training.inference import predict_rows

    store = build(data, tmp_path)
    rebalance(store, "none", 1, 1.0, tmp_path / "i.npz", tmp_path / "c.tsv")
    train = config(data)["train"]
    train_baseline(store=str(store), index=str(tmp_path / "i.npz"), model="kmer_ridge", params={"k": 3},
                   train=train, seed=1, double_stranded=True, out_model=str(tmp_path / "m.joblib"),
                   out_stats=str(tmp_path / "s.json"))  # fmt: skip
    model, _ = load_baseline(tmp_path / "m.joblib")
    assert len(model.estimators) == 2 and model.bins == 2  # two tracks x two bins: one ridge per track
    with Store(store) as st:
        rows = st.rows("test")
        p = predict_rows(str(tmp_path / "m.joblib"), "sklearn", st, rows)
        codes = np.concatenate([c for _, c in st.batches(rows, 4096)])
    assert p.shape == (len(rows), 4)
    np.testing.assert_allclose(p[:, 0], p[:, 1])  # flat within a track
    direct = model.estimators[0].predict(model._prepare(model.features(codes), fit=False))
    np.testing.assert_allclose(np.log1p(p[:, :2].sum(1)), direct, rtol=1e-4, atol=1e-4)


def test_signal_ridge_chooses_alpha_per_track_on_validation() -> None:
    """alpha null on a signal target: each track's alpha is the grid's best validation r;
    without validation rows it says so."""
    from genomicdl.kinds.targets import Target
    from genomicdl.models.baselines.kmer_ridge import ALPHAS, KmerRidge

    rng = np.random.default_rng(0)
    x, xv = rng.standard_normal((300, 20)), rng.standard_normal((200, 20))
    coef = np.zeros((20, 2))
    coef[0, 0], coef[:, 1] = 1.0, 0.3  # track a: one strong feature; track b: weak and spread

    def counts(x: np.ndarray) -> np.ndarray:  # two tracks x two bins, log1p totals = x @ coef + noise
        total = np.expm1(np.clip(x @ coef + 3 + rng.standard_normal((len(x), 2)), 0, None))
        return np.repeat(total / 2, 2, axis=1).astype(np.float32)

    y, yv = counts(x), counts(xv)
    target = Target("regression", ("a:0", "a:1", "b:0", "b:1"), loss="log1p_mse")
    ridge = KmerRidge(target=target, k=2)
    with pytest.raises(ValueError, match="chooses alpha on validation rows"):
        ridge.fit(x, y)
    ridge.validation = (xv, yv)
    ridge.fit(x, y)
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(x)
    logs, vlogs = np.log1p(y[:, ::2] * 2), np.log1p(yv[:, ::2] * 2)
    for t in range(2):
        r = [np.corrcoef(Ridge(alpha=a).fit(sc.transform(x), logs[:, t]).predict(sc.transform(xv)), vlogs[:, t])[0, 1]
             for a in ALPHAS]  # fmt: skip
        assert ridge.chosen[t] == ALPHAS[int(np.argmax(r))]
    p = ridge.predict(xv)
    assert p.shape == (200, 4) and np.allclose(p[:, 0], p[:, 1])
