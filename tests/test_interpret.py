"""The interpret stage: attributions checked against their definitions, seqlet and filter
motifs on planted patterns, the JASPAR comparison, and, on a network trained here on a
synthetic genome with planted JASPAR motifs, the recovery of every planted motif."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO
from torch import nn

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import ConfigError
from genomicdl.core.sequence import reverse_complement
from genomicdl.datasets.genome_dataset import build_genome_dataset
from genomicdl.datasets.synthetic import jaspar_pwm, write_genome, write_sites_bed
from genomicdl.evaluation.evaluate import evaluate_run
from genomicdl.interpret.attributions import explained, gradient_x_input, ism, ism_contributions, one_hot
from genomicdl.interpret.motifs import (
    Motif,
    Reference,
    cluster_seqlets,
    compare,
    filter_motifs,
    find_seqlets,
    first_convolution,
    jaspar,
    write_meme,
)
from genomicdl.interpret.stage import default_settings, interpret_run, recovered, top_positives
from genomicdl.io.genome import prepare_genome, to_codes
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training.engine import train_network
from genomicdl.training.rebalance import rebalance

PLANTED = ("REB1", "CBF1", "ABF1")


def dna_network(n_tasks: int, window: int, params: dict) -> torch.nn.Module:
    """A DeepBind-style network for ``n_tasks`` binary tasks on DNA windows of ``window`` bp."""
    target = Target("binary", tuple(f"t{i}" for i in range(n_tasks)))
    return build_network("deepbind", target=target, window=window, alphabet="dna", variable=False, params=params)



def random_codes(n: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (n, length)).astype(np.uint8)


@pytest.fixture(scope="module")
def fungi() -> Reference:
    return jaspar("JASPAR2026", "CORE", ["fungi"])


# ------------------------------------------------------------------ attributions


def test_ism_is_every_single_base_substitution() -> None:
    torch.manual_seed(0)
    model = dna_network(2, 12, {"filters": 3, "filter_width": 5}).eval()
    codes = random_codes(2, 12)
    codes[1, 4] = 4  # an N: not mutated
    tasks = np.array([0, 1])
    deltas = ism(model, codes, tasks, batch_size=7)
    with torch.inference_mode():
        for i in range(2):
            ref = model(one_hot(codes[i : i + 1]))[0, tasks[i]]
            for pos in range(12):
                for base in range(4):
                    mutant = codes[i].copy()
                    mutant[pos] = base
                    expected = 0.0
                    if codes[i, pos] < 4 and base != codes[i, pos]:
                        expected = float(model(one_hot(mutant[None]))[0, tasks[i]] - ref)
                    assert deltas[i, base, pos] == pytest.approx(expected, abs=1e-5)


def test_strand_averaged_attributions_follow_the_strand() -> None:
    torch.manual_seed(1)
    fn = explained(dna_network(1, 30, {"filters": 4, "filter_width": 6}), rc_average=True)
    codes = random_codes(2, 30, seed=2)
    tasks = np.zeros(2, dtype=np.int64)
    forward = ism_contributions(ism(fn, codes, tasks), codes)
    reverse = ism_contributions(ism(fn, reverse_complement(codes), tasks), reverse_complement(codes))
    assert np.allclose(forward, reverse[:, ::-1, ::-1], atol=1e-5)
    gxi_f = gradient_x_input(fn, codes, tasks)
    gxi_r = gradient_x_input(fn, reverse_complement(codes), tasks)
    assert np.allclose(gxi_f, gxi_r[:, ::-1, ::-1], atol=1e-5)


def test_gradient_x_input_of_a_linear_model_is_its_centred_weights() -> None:
    torch.manual_seed(2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 12, 1)).eval()
    codes = random_codes(4, 12, seed=3)
    gxi = gradient_x_input(model, codes, np.zeros(4, dtype=np.int64))
    w = model[1].weight.detach().numpy().reshape(4, 12)
    centred = w - w.mean(axis=0, keepdims=True)
    x = one_hot(codes).numpy()
    assert np.allclose(gxi, x * centred[None], atol=1e-6)
    assert np.all(gxi[x == 0] == 0)  # only observed bases carry attribution


# ------------------------------------------------------------------ motifs


def planted_contributions(motif: str, n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences holding ``motif`` once (either strand), contribution 1 per motif base."""
    rng = np.random.default_rng(seed)
    codes = random_codes(n, length, seed)
    weights = np.zeros((n, length))
    site = to_codes(motif)
    for i in range(n):
        at = int(rng.integers(0, length - len(site)))
        codes[i, at : at + len(site)] = site if rng.random() < 0.5 else reverse_complement(site)
        weights[i, at : at + len(site)] = 1.0
    weights += rng.normal(0, 0.05, weights.shape)
    contrib = one_hot(codes).numpy() * weights[:, None, :]
    return contrib.astype(np.float32), codes


def test_seqlets_cluster_into_the_planted_motif() -> None:
    contrib, codes = planted_contributions("TTACCCGG", 40, 80, seed=4)
    seqlets = find_seqlets(contrib, codes, width=8, flank=3, max_per_sequence=2, min_fraction=0.5, max_total=500)
    assert len(seqlets.seq) == 40  # one per sequence: noise alone never reaches the threshold
    motifs = cluster_seqlets(seqlets, "Reb1", 0.6, 8, 4, both_strands=True)
    assert len(motifs) == 1 and motifs[0].sites == 40 and motifs[0].name == "Reb1_seqlets_1"
    assert motifs[0].consensus.upper() in ("TTACCCGG", "CCGGGTAA")


def test_first_layer_filters_become_motifs() -> None:
    model = dna_network(1, 50, {"filters": 2, "filter_width": 6}).eval()
    conv, norm = first_convolution(model)
    assert conv is model.conv and norm is model.norm
    weight = torch.full((2, 4, 6), -1.0)
    for i, base in enumerate("CACGTG"):
        weight[0, "ACGT".index(base), i] = 1.0
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.zero_()
    codes = random_codes(200, 50, seed=5)
    codes[:100, 10:16] = to_codes("CACGTG")
    motifs = filter_motifs(model, codes, fraction=0.9, min_sites=10, trim_ic=0.5)
    assert [m.name for m in motifs] == ["filter_0"]
    assert motifs[0].consensus == "CACGTG" and motifs[0].sites >= 100


def test_jaspar_comparison_ranks_the_source_first(fungi: Reference, tmp_path: Path) -> None:
    reb1 = fungi.ppms[fungi.names.index("REB1")]
    motifs = [
        Motif("reb1_rc", "seqlets", "Reb1", np.ascontiguousarray(reb1[::-1, ::-1][1:-1]), 30),
        Motif("cbf1", "filters", "", fungi.ppms[fungi.names.index("CBF1")], 50),
    ]
    table = compare(motifs, fungi, top=3, both_strands=True)
    best = table[table["rank"] == 1].set_index("motif")
    assert best.loc["reb1_rc", "jaspar_name"] in ("REB1", "NSI1") and best.loc["reb1_rc", "strand"] == "-"
    assert best.loc["cbf1", "jaspar_name"] == "CBF1" and best.loc["cbf1", "q_value"] < 0.01
    assert list(table["rank"]) == [1, 2, 3, 1, 2, 3]
    for _, rows in table.groupby("motif"):
        assert rows["p_value"].is_monotonic_increasing and rows["q_value"].between(0, 1).all()
    assert (table["e_value"] >= table["p_value"]).all()
    assert "REB1" in set(table.loc[table["motif"] == "reb1_rc", "jaspar_name"])
    from memelite.io import read_meme

    write_meme(motifs, tmp_path / "m.meme")
    read = list(read_meme(str(tmp_path / "m.meme")).items())
    assert [key.split()[0] for key, _ in read] == ["reb1_rc", "cbf1"]
    assert np.allclose(np.asarray(read[1][1]).T, motifs[1].ppm, atol=1e-5)  # memelite: (4, length)


@pytest.mark.parametrize(
    ("release", "tax_group", "message"),
    [
        ("JASPAR1999", None, "interpret.jaspar.release: JASPAR1999 is not bundled with pyjaspar (it has JASPAR2026"),
        ("JASPAR2026", ["martians"], "interpret.jaspar: JASPAR2026 has no CORE matrices of tax_group martians"),
    ],
)
def test_jaspar_settings_are_checked(release: str, tax_group: list[str] | None, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        jaspar(release, "CORE", tax_group)


def test_top_positives_are_the_best_scored_test_positives() -> None:
    table = pd.DataFrame(
        {
            "split": ["valid", "test", "test", "test", "test"],
            "row": [0, 1, 2, 3, 4],
            "id": list("abcde"),
            "label_T": [1, 1, 0, 1, 1],
            "score_T": [0.99, 0.5, 0.98, 0.7, 0.7],
            "label_U": [1, 0, 0, 0, 0],
            "score_U": [0.9, 0.1, 0.2, 0.3, 0.4],
        }
    )
    chosen = top_positives(table, ["T", "U"], 2)  # U has no test positive: nothing to explain
    assert list(chosen["row"]) == [3, 4] and list(chosen["task"]) == [0, 0]


# ------------------------------------------------------------------ a trained network


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DeepBind network trained a few epochs with the real engine on a synthetic genome
    holding REB1, CBF1 and ABF1 sites (one task each), evaluated and interpreted."""
    root = tmp_path_factory.mktemp("planted")
    chroms = {"chr1": 500_000, "chr2": 120_000, "chr3": 180_000}
    motifs = {name: jaspar_pwm(name) for name in PLANTED}
    sites = write_genome(root / "genome.fa", chroms, seed=5, motifs=motifs, sites_per_mb=400)
    for name in PLANTED:
        write_sites_bed(sites, root / f"{name}.bed", name)
    prepare_genome(root / "genome.fa", root / "prepared" / "genome.fa.gz")
    schema = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    raw = {
        "datasets": {
            "syn": {
                "genome": {"url": str(root / "genome.fa")},
                "targets": {name: {"url": str(root / f"{name}.bed")} for name in PLANTED},
                "window": 100,
                "negatives": {"per_positive": 1},
                "split": {"valid": ["chr2"], "test": ["chr3"]},
            }
        },
        "train": {"max_epochs": 4, "device": "cpu", "learning_rate": 0.005},
        "evaluate": {"bootstrap": 0, "min_positives": 1},
    }
    cfg = gconfig.validate(raw, schema)
    files = {f"target.{name}": str(root / f"{name}.bed") for name in PLANTED}
    store = str(root / "d.h5")
    genome = str(root / "prepared" / "genome.fa.gz")
    build_genome_dataset(
        dataset_spec("syn", cfg["datasets"]["syn"]), files, genome, store, str(root / "s.json"), str(root / "gc.tsv")
    )
    rebalance(store, "none", 1, 1.0, root / "index.npz", root / "counts.tsv")
    model = str(root / "model.pt")
    train_network(store=store, index=str(root / "index.npz"), model="deepbind", params={}, train=cfg["train"], seed=1,
                  threads=2, double_stranded=True, out_model=model, out_history=str(root / "h.csv"),
                  out_stats=str(root / "t.json"))  # fmt: skip
    run = {"dataset": "syn", "model": "deepbind", "balance": "none", "seed": 1}
    evaluate_run(store=store, model=model, family="torch", run=run, settings=cfg["evaluate"], device="cpu",
                 out_predictions=str(root / "pred.tsv.gz"), out_metrics=str(root / "m.tsv"),
                 out_arrays=str(root / "arrays.npz"))  # fmt: skip
    settings = default_settings()
    settings.update(top_k=40, plots={"logos": 4, "tracks": 1}, splits=["train", "valid", "test"])
    settings["jaspar"]["tax_group"] = ["fungi"]
    settings["filters"]["sequences"] = 500
    out = root / "interpret"
    interpret_run(store, model, str(root / "pred.tsv.gz"), settings, 2, *(str(out / name) for name in OUTPUTS))
    return out


OUTPUTS = ("attributions.npz", "motifs.meme", "motifs.tsv", "logos.png", "tracks.png", "modisco.html", "modisco")


def test_every_planted_motif_is_recovered(trained: Path) -> None:
    table = pd.read_csv(trained / "motifs.tsv", sep="\t")
    assert recovered(table, list(PLANTED), top=3) == dict.fromkeys(PLANTED, True), table.to_string()
    seqlets = table[table["source"] == "seqlets"]
    for name in PLANTED:  # attributions alone find each motif, in its own task
        hits = seqlets[(seqlets["jaspar_name"] == name) & (seqlets["rank"] <= 3)]
        assert name in set(hits["task"]), seqlets.to_string()
        assert hits["q_value"].min() < 0.05


def test_modisco_recovers_every_planted_motif(trained: Path) -> None:
    table = pd.read_csv(trained / "motifs.tsv", sep="\t")
    patterns = table[table["source"] == "modisco"]
    # TF-MoDISco on DeepLIFT/SHAP finds REB1 and CBF1 in their own task; ABF1's bipartite
    # site, weakly learnt in 4 epochs, gives too few seqlets here (the seqlets above find it)
    for name in ("REB1", "CBF1"):
        hits = patterns[(patterns["jaspar_name"] == name) & (patterns["rank"] <= 3) & (patterns["task"] == name)]
        assert len(hits) and hits["q_value"].min() < 0.05, patterns.to_string()
    seqlets = pd.read_csv(trained / "modisco" / "seqlets.tsv", sep="\t")
    assert set(seqlets["motif"]) == set(patterns["motif"])
    for task in PLANTED:
        report = (trained / "modisco" / f"{task}.md").read_text()
        assert f"# TF-MoDISco patterns of task {task}" in report and (trained / "modisco" / f"{task}.png").exists()
        assert (f"modisco_{task}_pos_0" in report) == (f"modisco_{task}_pos_0" in set(patterns["motif"]))
    assert "<h2>REB1</h2>" in (trained / "modisco.html").read_text()


def test_outputs_are_complete(trained: Path) -> None:
    for name in OUTPUTS:
        assert (trained / name).stat().st_size > 0
    with np.load(trained / "attributions.npz") as data:
        n = len(data["row"])
        assert data["ism"].shape == data["gradient_x_input"].shape == data["deep_lift_shap"].shape == (n, 4, 100)
        assert data["codes"].shape == (n, 100) and set(data["task"]) == {0, 1, 2}
        assert list(data["tasks"]) == list(PLANTED)
    assert (trained / "motifs.meme").read_text().count("MOTIF ") == pd.read_csv(trained / "motifs.tsv", sep="\t")[
        "motif"
    ].nunique()
    assert not list(trained.glob(".*tmp*"))
