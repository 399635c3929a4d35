"""Mutation-effect models: training lowers the loss, seeds are deterministic, resume is exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_mutation_data import alignment_settings

from genomicdl.core.errors import ConfigError
from genomicdl.io.alignment import AMINO_ACIDS, load_alignment
from genomicdl.io.scans import read_scan
from genomicdl.models.mutation.ardca import ArDCA
from genomicdl.models.mutation.potts import Potts
from genomicdl.models.mutation.site_independent import SiteIndependent
from genomicdl.models.mutation.vae import VAE
from genomicdl.mutation.data import prepare_dataset
from genomicdl.mutation.train import (
    _signature,
    balance_weights,
    load_model,
    predict_effects,
    score_scans,
    split_params,
    train_mutation,
)

DATA = Path(__file__).parent / "data"
TINY_VAE = {"encoder": (24, 12), "latent": 4, "decoder": (8, 16), "dictionary": 6, "tiles": 4}


def tiny_codes(n: int = 48, length: int = 10, seed: int = 0) -> torch.Tensor:
    """A family with a coupled pair of columns (0 and 1 co-vary) and a conserved column."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 21, size=(n, length))
    pair = rng.integers(0, 2, size=n)
    codes[:, 0], codes[:, 1], codes[:, 2] = pair * 3, pair * 3 + 1, 7
    return torch.as_tensor(codes)


@pytest.fixture(scope="module")
def slice_h5(tmp_path_factory) -> Path:
    """The first 60 sequences of the real BLAT_ECOLX alignment, prepared, with weights."""
    tmp = tmp_path_factory.mktemp("aln")
    src = tmp / "head.a2m"
    import gzip

    with gzip.open(DATA / "BLAT_ECOLX.head300.a2m.gz", "rt") as fh:
        text = fh.read()
    src.write_text(">" + ">".join(text.split(">")[1:61]))
    prepare_dataset(src, out=tmp / "a.h5", summary=tmp / "s.json", settings=alignment_settings())
    return tmp / "a.h5"


@pytest.mark.parametrize("make", [lambda n: Potts(n), lambda n: VAE(n, **TINY_VAE)], ids=["potts", "vae"])
def test_gradient_steps_decrease_loss(make):
    torch.manual_seed(0)
    codes = tiny_codes()
    model = make(codes.shape[1])
    weights = torch.ones(len(codes))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(40):
        torch.manual_seed(1)  # the same VAE noise at every step: a comparable loss
        loss = model.loss(codes, weights, float(len(codes)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.8 * losses[0]


def test_potts_learns_coupling_and_scores_energy_differences():
    torch.manual_seed(0)
    codes = tiny_codes(n=80)
    model = Potts(codes.shape[1], lambda_j=0.001)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        loss = model.loss(codes, torch.ones(len(codes)), 80.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    wt = codes[0].clone()
    wt[0], wt[1] = 0, 1
    single = wt.clone()
    single[0] = 3  # breaks the pair (3 goes with 4)
    double = single.clone()
    double[1] = 4  # restores it
    effects = model.score(torch.stack([single, double]), wt)
    assert effects[1] > effects[0]  # the compensated double mutant scores better
    assert torch.allclose(model.score(wt[None], wt), torch.zeros(1), atol=1e-5)


def test_site_independent_prefers_the_conserved_residue():
    codes = tiny_codes()
    model = SiteIndependent(codes.shape[1])
    model.fit(codes, torch.ones(len(codes)))
    wt = codes[0]
    mutant = wt.clone()
    mutant[2] = 5  # column 2 is always 7
    assert float(model.score(mutant[None], wt)) < -2


def test_training_is_deterministic_and_resume_is_exact(slice_h5, tmp_path):
    common = {
        "alignment": slice_h5,
        "model": "vae",
        "params": TINY_VAE,
        "steps": 12,
        "batch_size": 16,
        "learning_rate": 0.01,
        "checkpoint_every": 4,
        "device": "cpu",
        "seed": 3,
    }
    train_mutation(out=tmp_path / "a.pt", **common)
    train_mutation(out=tmp_path / "b.pt", **common)

    class KilledError(Exception):
        pass

    def kill_at_8(message: str) -> None:
        if message.startswith("step 8/"):
            raise KilledError

    with pytest.raises(KilledError):
        train_mutation(out=tmp_path / "c.pt", log=kill_at_8, **common)
    assert (tmp_path / "c.pt.ckpt").exists() and not (tmp_path / "c.pt").exists()
    messages: list[str] = []
    train_mutation(out=tmp_path / "c.pt", log=messages.append, **common)
    assert messages[0].startswith("resumed from") and "step 8" in messages[0]
    assert not (tmp_path / "c.pt.ckpt").exists()
    train_mutation(out=tmp_path / "d.pt", **{**common, "seed": 4})
    aln = load_alignment(slice_h5)
    scan = read_scan(DATA / "BLAT_ECOLX_Ranganathan2015.every20.csv.gz", aln, fitness_column="2500")
    scores = {k: predict_effects(load_model(tmp_path / f"{k}.pt", "cpu"), aln, scan, samples=3) for k in "abcd"}
    assert np.array_equal(scores["a"], scores["b"])  # same seed, same scores
    assert np.array_equal(scores["a"], scores["c"])  # resumed = uninterrupted
    assert not np.array_equal(scores["a"], scores["d"])
    state_a, state_c = (torch.load(tmp_path / f"{k}.pt", weights_only=True)["state"] for k in "ac")
    assert all(torch.equal(state_a[k], state_c[k]) for k in state_a)


def test_score_scans_writes_run_outputs(slice_h5, tmp_path):
    train_mutation(alignment=slice_h5, model="site_independent", out=tmp_path / "m.pt", device="cpu")
    summaries = score_scans(
        alignment=slice_h5,
        model_path=tmp_path / "m.pt",
        scans={"stiffler": {"fitness_column": "2500"}},
        scan_files={"stiffler": DATA / "BLAT_ECOLX_Ranganathan2015.every20.csv.gz"},
        out_dir=tmp_path / "run",
        run={"dataset": "d", "model": "site_independent", "balance": "none", "seed": 1},
        bootstrap=50,
        device="cpu",
    )
    import pandas as pd

    metrics = pd.read_csv(tmp_path / "run" / "metrics.tsv", sep="\t")
    row = metrics[metrics.metric == "spearman"].iloc[0]
    assert row.kind == "mutation_effect" and row.split == "test" and row.lo <= row.value <= row.hi
    arrays = np.load(tmp_path / "run" / "arrays.npz")
    assert arrays["y_test"].shape == arrays["p_test"].shape == (summaries["stiffler"]["scored"],)
    assert arrays["y_valid"].size == 0
    assert summaries["stiffler"]["insert_columns"] == len(summaries["stiffler"]["insert_mutants"]) > 0


def test_balance_and_params():
    aln = type("A", (), {"codes": np.zeros((3, 2)), "weights": np.array([0.5, 0.5, 1.0])})()
    assert balance_weights(aln, "none").tolist() == [1, 1, 1]
    assert balance_weights(aln, "class_weight").tolist() == [0.5, 0.5, 1.0]
    with pytest.raises(ConfigError, match="does not apply to mutation effects"):
        balance_weights(aln, "undersample")
    params, training = split_params("vae", {"latent": 8, "steps": 5})
    assert params == {"latent": 8} and training["steps"] == 5 and training["batch_size"] == 128


def test_model_and_checkpoint_files_run_no_code_and_a_cut_checkpoint_is_set_aside(slice_h5, tmp_path):
    """torch.load(weights_only=False) ran whatever a tampered file held; a cut checkpoint
    stopped every rerun."""
    from test_models import Payload

    marker = tmp_path / "pwned"
    torch.save({"model": "vae", "state": Payload(marker)}, tmp_path / "tampered.pt")
    with pytest.raises(ValueError, match=r"tampered\.pt: refused: not a plain-data model file"):
        load_model(tmp_path / "tampered.pt", "cpu")
    torch.save({"signature": Payload(marker)}, tmp_path / "m.pt.ckpt")
    messages: list[str] = []
    common = {"alignment": slice_h5, "model": "vae", "params": TINY_VAE, "steps": 4, "batch_size": 16,
              "learning_rate": 0.01, "checkpoint_every": 4, "device": "cpu", "seed": 3}  # fmt: skip
    train_mutation(out=tmp_path / "m.pt", log=messages.append, **common)
    assert not marker.exists()
    assert messages[0].startswith(f"checkpoint {tmp_path / 'm.pt.ckpt'} is unreadable (")
    assert (tmp_path / "m.pt.ckpt.bad").is_file()
    train_mutation(out=tmp_path / "n.pt", **common)
    (tmp_path / "n.pt.ckpt").write_bytes((tmp_path / "n.pt").read_bytes()[:500])  # a checkpoint cut by a crash
    train_mutation(out=tmp_path / "n.pt", log=messages.append, **common)
    assert "n.pt.ckpt is unreadable" in messages[-2] and (tmp_path / "n.pt.ckpt.bad").is_file()
    assert load_model(tmp_path / "n.pt", "cpu") is not None and load_model(tmp_path / "m.pt", "cpu") is not None


def test_ardca_is_a_normalised_autoregressive_model():
    """Every conditional sees only the positions before it: p sums to 1 over all 21^3
    sequences of 3 columns, in both orders, and a chunk of 1 or of every position fits the
    same (the per-position problems are independent)."""
    codes = tiny_codes(n=40, length=3)
    weights = torch.rand(40, generator=torch.Generator().manual_seed(0)) + 0.5
    every = torch.cartesian_prod(*[torch.arange(21)] * 3)
    fits, objectives = [], []
    for order, chunk in (("natural", 1), ("natural", 3), ("entropic", 2), (["reverse", "natural"], 2)):
        model = ArDCA(3, order=order, chunk=chunk, lambda_j=0.001, tolerance=1e-7)
        objectives.append(model.fit(codes, weights, log=lambda _: None)["objective"])
        total = float(model.log_prob(every).exp().sum())
        if isinstance(order, str):
            assert abs(total - 1.0) < 1e-4, (order, chunk, total)
        else:  # the geometric mean of two normalised models sums to at most 1 (AM-GM)
            assert 0.9 < total <= 1.0 + 1e-6
        fits.append(model)
    assert abs(objectives[0] - objectives[1]) < 1e-4 and objectives[0] < 1.5 < 3 * np.log(21)
    assert torch.allclose(fits[0].log_prob(codes), fits[1].log_prob(codes), atol=1e-3)
    assert fits[2].order.tolist() == [[2, 0, 1]]  # the conserved column first, then by entropy, ties by column
    assert fits[3].order.tolist() == [[2, 1, 0], [0, 1, 2]] and fits[3].j.shape == (2, 63, 63)


def test_ardca_learns_the_coupling_and_scores_log_likelihood_ratios():
    codes = tiny_codes(n=80, length=6)
    model = ArDCA(6, chunk=4, lambda_j=0.001)
    model.fit(codes, torch.ones(80), log=lambda _: None)
    wild = codes[0].clone()  # columns 0 and 1 co-vary: (0, 1) or (3, 4)
    broken, kept = wild.clone(), wild.clone()
    broken[1] = 4 if int(wild[0]) == 0 else 1
    kept[0], kept[1] = (3, 4) if int(wild[0]) == 0 else (0, 1)
    effects = model.score(torch.stack([broken, kept]), wild)
    assert effects[0] < effects[1] - 3.0  # breaking the pair costs far more than swapping it
    assert float(model.score(wild[None], wild)[0]) == 0.0


def test_ardca_trains_through_train_mutation_and_resumes(tmp_path):
    family = tiny_codes(n=50, length=24).numpy()
    family[family == 20] = 5  # residues only (a gap-free toy family)
    text = "".join(f">S{i}/1-24\n{''.join(AMINO_ACIDS[c] for c in row)}\n" for i, row in enumerate(family))
    (tmp_path / "toy.a2m").write_text(text)
    h5 = tmp_path / "toy.h5"
    prepare_dataset(tmp_path / "toy.a2m", out=h5, summary=tmp_path / "s.json", settings=alignment_settings())
    params = {"chunk": 8, "max_iter": 30}
    stats = train_mutation(
        alignment=h5,
        model="ardca",
        out=tmp_path / "a.pt",
        params=params,
        device="cpu",
        batch_size=0,
        learning_rate=0.0,
        log=lambda _: None,
    )
    assert stats["steps"] == 0 and stats["chunks"] == 3 and not (tmp_path / "a.pt.ckpt").exists()
    whole = load_model(tmp_path / "a.pt", "cpu")
    # a run killed after its first chunk: the checkpoint holds that chunk, the rerun fits the rest
    first = ArDCA(whole.length, **params)
    aln = load_alignment(h5)
    codes, weights = torch.as_tensor(aln.codes.astype(np.int64)), torch.as_tensor(aln.weights)
    first.fit(codes, weights, log=lambda _: None)
    signature = _signature(
        model="ardca", params=params, balance="class_weight", seed=1, batch_size=0, learning_rate=0.0
    )
    partial = first.state_dict()
    partial["j"][:, :, 8 * 21 :] = 0
    partial["h"][:, 8:] = 0
    torch.save(
        {"signature": signature, "model": partial, "done": 8, "iterations": [1], "losses": [0.0]},
        tmp_path / "b.pt.ckpt",
    )
    lines: list[str] = []
    stats = train_mutation(
        alignment=h5,
        model="ardca",
        out=tmp_path / "b.pt",
        params=params,
        device="cpu",
        batch_size=0,
        learning_rate=0.0,
        log=lines.append,
    )
    assert any("resumed" in line and "8 of 24" in line for line in lines) and stats["chunks"] == 3
    resumed = load_model(tmp_path / "b.pt", "cpu")
    assert torch.equal(resumed.j, whole.j) and torch.equal(resumed.h, whole.h)


def test_vae_weight_kl_matches_its_expression_and_gradient():
    from genomicdl.models.mutation.vae import _GaussianKL

    gen = torch.Generator().manual_seed(0)
    mean = torch.randn(40, 6, dtype=torch.float64, generator=gen).requires_grad_()
    log_sigma = (torch.randn(40, 6, dtype=torch.float64, generator=gen) * 0.3 - 2).requires_grad_()
    for var in (1.0, 2.25):
        expected = 0.5 * ((mean.square() + (2 * log_sigma).exp()) / var - 1 - 2 * log_sigma).sum()
        expected = expected + 0.5 * mean.numel() * np.log(var)
        assert torch.allclose(_GaussianKL.apply(mean, log_sigma, var), expected, rtol=1e-12)
        assert torch.autograd.gradcheck(lambda m, s, v=var: _GaussianKL.apply(m, s, v), (mean, log_sigma))


def test_vae_scores_with_common_random_numbers():
    """Within a draw the wild type and the mutants share the decoder's weights and the
    latent noise: the wild type scored as a mutant is 0 (to rounding), and the estimate has the
    independent-noise estimator's mean (same expectation) with less Monte-Carlo noise."""
    torch.manual_seed(0)
    codes = tiny_codes(length=10)
    net = VAE(10, **TINY_VAE).eval()
    net.logvar.bias.data.zero_()  # a wide latent posterior, as after training: visible latent noise
    wild = codes[0]
    mutants = codes[:1].repeat(40, 1)
    mutants[1:, 3] = torch.arange(1, 40) % 20
    torch.manual_seed(1)
    common = net.score(mutants, wild, samples=8)
    assert abs(float(common[0])) < 1e-5
    torch.manual_seed(1)
    independent = net.score(mutants, wild, samples=8, common=False)
    assert abs(float(independent[0])) > 1e-3

    def noise(flag: bool) -> float:
        runs = []
        for seed in (2, 3):
            torch.manual_seed(seed)
            runs.append(net.score(mutants, wild, samples=8, common=flag))
        return float((runs[0] - runs[1]).std())

    assert noise(True) < 0.8 * noise(False)  # 0.061 vs 0.086 here; 0.080 vs 0.175 on BLAT_ECOLX
    torch.manual_seed(4)
    many_common = net.score(mutants[:4], wild, samples=400)
    torch.manual_seed(5)
    many_independent = net.score(mutants[:4], wild, samples=400, common=False)
    assert torch.allclose(many_common, many_independent, atol=0.3)
