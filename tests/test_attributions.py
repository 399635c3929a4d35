"""DeepLIFT/DeepSHAP through tangermeme: the dinucleotide-shuffled references, the exact
answer on a linear model, completeness (contributions sum to the change of the output)
on every zoo network that has DeepLIFT rules for all its layers, TF-MoDISco on planted
contributions, and the settings that cannot work together."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from test_models import network
from torch import nn

from genomicdl.core.errors import ConfigError
from genomicdl.interpret.attributions import (
    TrackScores,
    deep_lift_shap,
    explained,
    gradient_x_input,
    one_hot,
    shuffled_references,
    task_logits,
    track_contributions,
)
from genomicdl.interpret.stage import check_settings, default_settings
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.models.catalog import CATALOG, NETWORKS

#: Zoo networks whose every nonlinear layer has a DeepLIFT rule (tangermeme's, or ours in
#: genomicdl.interpret.attributions.RULES): their contributions sum to the output change. The
#: others (docs/interpret.md says which layers need registering) run, approximately.
EXACT = {"deepbind", "deepsea", "basset", "dilated", "binned", "conv_dense"}
APPROXIMATE = {"danq", "transformer", "cnn_birnn", "bpnet", "conv_kmer"}  # conv_kmer: k-mer counts multiply letters


pytestmark = pytest.mark.usefixtures("one_thread")


def codes_of(n: int, length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (n, length)).astype(np.uint8)


def dinucleotides(seq: np.ndarray) -> np.ndarray:
    counts = np.zeros((5, 5), dtype=int)
    np.add.at(counts, (seq[:-1], seq[1:]), 1)
    return counts


def test_shuffled_references_keep_dinucleotides_ends_and_n() -> None:
    codes = codes_of(5, 60, 1)
    codes[2, 10:14] = 4  # a run of N
    refs = shuffled_references(codes, 6, [7, 8, 9, 10, 11])
    assert refs.shape == (5, 6, 4, 60)
    for i in range(5):
        for r in refs[i].numpy():
            seq = np.where(r.sum(0) == 0, 4, r.argmax(0))
            assert (dinucleotides(seq) == dinucleotides(codes[i])).all()
            assert seq[0] == codes[i][0] and seq[-1] == codes[i][-1]
        assert len({r.numpy().tobytes() for r in refs[i]}) > 1
    # sequence i's shuffles depend on its seed, not on its batch
    alone = shuffled_references(codes[3:4], 6, [10])
    assert torch.equal(alone[0], refs[3])


def test_deep_lift_shap_of_a_linear_model_is_weights_times_difference() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 30, 2)).eval()
    codes = codes_of(4, 30, 2)
    tasks = np.array([0, 1, 1, 0])
    got = deep_lift_shap(model, codes, tasks, n_shuffles=5, seed=3)
    w = model[1].weight.detach().numpy().reshape(2, 4, 30)
    refs = shuffled_references(codes, 5, [3, 4, 5, 6]).numpy().mean(1)
    x = one_hot(codes).numpy()
    want = w[tasks] * (x - refs) * x  # the observed base's share
    hyp = deep_lift_shap(model, codes, tasks, n_shuffles=5, seed=3, hypothetical=True)
    np.testing.assert_allclose(hyp * x, got, atol=1e-6)
    # per position, the observed base carries the whole position's contribution
    np.testing.assert_allclose(got.sum(1), (w[tasks] * (x - refs)).sum(1), atol=1e-5)
    assert np.abs(want).sum() > 0


def zoo_function(name: str) -> tuple[nn.Module, int, int]:
    """A small untrained zoo network as a function of (n, 4, L) -> (n, outputs), its
    window and number of outputs."""
    torch.manual_seed(0)
    if "binary" in CATALOG[name].kinds:
        return explained(network(name, "binary", window=60), True), 60, 3
    model = build_network(name, target=Target("regression", ("a.fwd", "a.rev")), window=100, alphabet="dna",
                          variable=False, params={"output_length": 40})  # fmt: skip
    return TrackScores(model.eval(), 2, -1, False), 100, 2  # -1: every bin of a track


@pytest.mark.parametrize("name", sorted(EXACT | APPROXIMATE))
def test_each_zoo_network_once(name: str) -> None:
    fn, window, outputs = zoo_function(name)
    fn.eval()
    codes = codes_of(4, window, 3)
    tasks = np.arange(4) % outputs
    attr = deep_lift_shap(fn, codes, tasks, n_shuffles=6, seed=1)
    assert attr.shape == (4, 4, window) and np.isfinite(attr).all()
    refs = shuffled_references(codes, 6, [1, 2, 3, 4])
    with torch.no_grad():
        ref_out = np.array([fn(refs[i])[:, tasks[i]].mean().item() for i in range(4)])
    change = task_logits(fn, codes, tasks, 16) - ref_out
    delta = np.abs(attr.sum((1, 2)) - change).max()
    exact = delta <= 1e-4 * max(np.abs(change).max(), 1e-3)
    assert exact == (name in EXACT), f"{name}: convergence delta {delta:.2e} for output changes {change}"


def test_every_dna_network_of_the_zoo_is_classified() -> None:
    assert set(NETWORKS) - {"deeploc", "light_attention"} == EXACT | APPROXIMATE  # proteins, not DNA


def test_track_contributions_by_method() -> None:
    torch.manual_seed(0)
    fn = explained(network("deepsea", "binary", window=40), False)
    codes = codes_of(3, 40, 5)
    gxi = track_contributions(fn, codes, 3, "gradient_x_input")
    np.testing.assert_allclose(gxi[:, 1], gradient_x_input(fn, codes, np.ones(3, int)).sum(1), atol=1e-6)
    dls = track_contributions(fn, codes, 3, "deep_lift_shap", shuffles=4, seed=2)
    assert dls.shape == (3, 3, 40) and np.abs(dls).sum() > 0
    with pytest.raises(ValueError, match="unknown attribution method 'saliency'"):
        track_contributions(fn, codes, 3, "saliency")


def test_settings_that_need_deep_lift_shap_are_refused() -> None:
    settings = default_settings()
    check_settings(settings)
    settings["deep_lift_shap"]["enabled"] = False
    with pytest.raises(ConfigError, match=r"interpret\.modisco\.attribution: deep_lift_shap needs"):
        check_settings(settings)
    settings["modisco"]["attribution"] = "ism"
    check_settings(settings)
    settings["seqlets"]["attribution"] = "deep_lift_shap"
    with pytest.raises(ConfigError, match=r"interpret\.seqlets\.attribution"):
        check_settings(settings)


def planted(n: int, length: int, motif: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences with ``motif`` at a random place, and hypothetical contributions
    that are noise except for the motif's bases, which carry 1."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length)).astype(np.uint8)
    hyp = rng.normal(0, 0.02, (n, 4, length)).astype(np.float32)
    site = np.array(["ACGT".index(b) for b in motif])
    for i in range(n):
        at = int(rng.integers(5, length - len(motif) - 5))
        if rng.random() < 0.5:
            codes[i, at : at + len(motif)] = site
            hyp[i, site, at + np.arange(len(motif))] += 1.0
        else:  # reverse strand
            rc = 3 - site[::-1]
            codes[i, at : at + len(motif)] = rc
            hyp[i, rc, at + np.arange(len(motif))] += 1.0
    return codes, hyp


def test_modisco_finds_the_planted_motif() -> None:
    from genomicdl.interpret.modisco import run_modisco

    codes, hyp = planted(120, 80, "TTACCCGG", seed=4)
    settings = default_settings()["modisco"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = run_modisco(hyp, codes, "T", settings)
    pos = [m for m in found.motifs if "_pos_" in m.name]
    assert pos, "no positive pattern"
    best = max(pos, key=lambda m: m.sites)
    assert "TTACCCGG" in best.consensus.upper() or "CCGGGTAA" in best.consensus.upper(), best.consensus
    assert best.sites >= 20 and len(found.seqlets[found.seqlets["motif"] == best.name]) == best.sites
    assert set(found.seqlets["strand"]) == {"+", "-"}
    with pytest.raises(ValueError, match="too short"):
        run_modisco(hyp[:, :, :12], codes[:, :12], "T", settings)


def test_literature_motifs_join_the_reference() -> None:
    from genomicdl.interpret.motifs import Reference, iupac_ppm, with_literature

    np.testing.assert_allclose(iupac_ppm("UGH")[0], [0, 0, 0, 1])
    np.testing.assert_allclose(iupac_ppm("UGH")[2], [1 / 3, 1 / 3, 0, 1 / 3])
    ref = with_literature(Reference("R", ["MA1"], ["X"], [np.full((3, 4), 0.25)]), {"QKI": "ACUAAY"})
    assert ref.ids == ["MA1", "literature:QKI"] and ref.names == ["X", "QKI"] and ref.ppms[1].shape == (6, 4)
    with pytest.raises(ConfigError, match=r"'ACZ': 'Z' at position 3 is not an IUPAC nucleotide code"):
        iupac_ppm("ACZ")
