"""The predict stage: tiled chromosomes -> bigWig per track, equal to a direct forward
pass at sampled positions; tables, contributions, merging, bounded accumulator."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyBigWig
import pytest
import torch
import yaml
from conftest import snakemake
from test_signal import CHROMS, build, inputs, signal_ds  # noqa: F401  (fixture)

from genomicdl.config import validation as gconfig
from genomicdl.core.errors import GenomicdlError
from genomicdl.core.sequence import encode
from genomicdl.evaluation.predict import (
    Accumulator,
    contributions,
    load_predictor,
    merge_tracks,
    predict_chromosome,
    predict_table,
    region_centres,
)
from genomicdl.io.genome import Genome
from genomicdl.plots.signal import densest_stretch, signal_tracks, stretch_data
from genomicdl.training.engine import train_network
from genomicdl.training.rebalance import rebalance

TRAIN = {"max_epochs": 1, "batch_size": 64, "device": "cpu"}


@pytest.fixture(scope="module")
def trained(inputs: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: F811
    out = tmp_path_factory.mktemp("pred")
    ds = signal_ds(inputs)
    ds["loss"] = "poisson"
    build(inputs, ds, out)
    rebalance(out / "d.h5", "none", 1, 1.0, out / "i.npz", out / "c.tsv")
    schema = gconfig.load_schema(Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml")
    raw = {"datasets": {"sig": {k: v for k, v in ds.items() if k in ("genome", "targets", "signal")}}, "train": TRAIN,
           "models": ["binned"], "balance": ["none"]}  # fmt: skip
    cfg = gconfig.validate(raw, schema)["train"]
    model = out / "model.pt"
    train_network(store=str(out / "d.h5"), index=str(out / "i.npz"), model="binned",
                  params={"output_length": 100, "trunk_params": {"channels": 8, "layers": 2}}, train=cfg, seed=1,
                  threads=1, double_stranded=True, out_model=str(model), out_history=str(out / "h.tsv"),
                  out_stats=str(out / "s.json"))  # fmt: skip
    return {"model": str(model), "genome": str(inputs["genome"]), "out": out, "train": cfg}


def direct(pred, genome: Genome, chrom: str, start: int) -> np.ndarray:
    """(tracks, bins) of one window by a plain forward pass on both strands, averaged."""
    codes = genome.codes(chrom, start, start + pred.window)
    with torch.no_grad():
        x = pred.encoder.one_hot(torch.from_numpy(codes[None].copy()))
        fwd = torch.exp(pred.model(x)).numpy()[0]
        rc = pred.encoder.one_hot(pred.encoder.reverse_complement(torch.from_numpy(codes[None].copy())))
        rev = torch.exp(pred.model(rc)).numpy()[0][pred.flip.numpy()]
    return ((fwd + rev) / 2).reshape(len(pred.tracks), pred.bins)


def test_predicted_bigwig_equals_a_direct_forward_pass(trained: dict) -> None:
    out = trained["out"] / "chrIII"
    meta = predict_chromosome(trained["model"], trained["genome"], "chrIII", out, batch_size=50)
    assert meta["log_scaled"] is False and meta["transform"].startswith("exp") and meta["bin_size"] == 25
    assert json.loads((out / "predict.json").read_text())["tracks"] == ["ramp", "R.fwd", "R.rev"]
    pred = load_predictor(trained["model"])
    rng = np.random.default_rng(0)
    with Genome(trained["genome"]) as genome:
        for t, track in enumerate(pred.tracks):
            bw = pyBigWig.open(str(out / f"{track}.bw"))
            assert bw.chroms() == {"chrIII": CHROMS["chrIII"]}
            for pos in rng.integers(50, 39_850, 20).tolist():  # stride = output: one window per base
                start = (pos - 50) // 100 * 100
                want = direct(pred, genome, "chrIII", start)[t, (pos - start - 50) // 25]
                assert bw.values("chrIII", pos, pos + 1)[0] == pytest.approx(want, rel=1e-4)
            assert np.isnan(bw.values("chrIII", 0, 50)).all()  # before the first output: no value
            bw.close()


def test_a_zoo_network_predicts_the_datasets_output_span(trained: dict) -> None:
    """A network without its own output_length (deepbind, pooled head) trained on a signal
    store predicts the dataset's centred output (100 of 200 bp), not the whole window."""
    out = trained["out"]
    model = out / "deepbind.pt"
    train_network(store=str(out / "d.h5"), index=str(out / "i.npz"), model="deepbind", params={"filters": 4},
                  train=trained["train"], seed=1, threads=1, double_stranded=True, out_model=str(model),
                  out_history=str(out / "dh.tsv"), out_stats=str(out / "ds.json"))  # fmt: skip
    pred = load_predictor(str(model))
    assert not hasattr(pred.model, "output_length")
    assert (pred.window, pred.output_length, pred.offset) == (200, 100, 50)
    meta = predict_chromosome(str(model), trained["genome"], "chrIII", out / "zoo")
    assert meta["output_length"] == 100
    bw = pyBigWig.open(str(out / "zoo" / "ramp.bw"))
    assert np.isnan(bw.values("chrIII", 0, 50)).all() and not np.isnan(bw.values("chrIII", 50, 150)).any()
    bw.close()


def test_overlapping_windows_are_averaged(trained: dict) -> None:
    out = trained["out"] / "overlap"
    predict_chromosome(trained["model"], trained["genome"], "chrII", out, stride=50)
    pred = load_predictor(trained["model"])
    with Genome(trained["genome"]) as genome:
        bw = pyBigWig.open(str(out / "ramp.bw"))
        pos = 1060  # outputs of windows at 900 (950-1050)... at 950 (1000-1100) and 1000 (1050-1150)
        want = np.mean([direct(pred, genome, "chrII", s)[0, (pos - s - 50) // 25] for s in (950, 1000)])
        assert bw.values("chrII", pos, pos + 1)[0] == pytest.approx(want, rel=1e-4)


def test_merge_tables_and_contributions(trained: dict) -> None:
    out = trained["out"]
    predict_chromosome(trained["model"], trained["genome"], "chrI", out / "c1")
    predict_chromosome(trained["model"], trained["genome"], "chrII", out / "c2")
    merge_tracks([out / "c1", out / "c2"], dict(CHROMS), out / "all")
    bw = pyBigWig.open(str(out / "all" / "R.rev.bw"))
    assert set(bw.chroms()) == {"chrI", "chrII"}
    one = pyBigWig.open(str(out / "c2" / "R.rev.bw"))
    assert bw.values("chrII", 500, 510) == one.values("chrII", 500, 510)
    predict_table(trained["model"], [("a", encode("ACGT" * 40)), ("b", encode("A" * 500))], out / "t.tsv.gz")
    with gzip.open(out / "t.tsv.gz", "rt") as fh:
        lines = fh.read().splitlines()
    assert lines[0] == "name\tramp\tR.fwd\tR.rev" and len(lines) == 3
    paths = contributions(trained["model"], trained["genome"], [("chrI", 5000), ("chrI", 5050)], out / "contrib")
    cb = pyBigWig.open(str(paths[0]))
    vals = np.asarray(cb.values("chrI", 4900, 5150))
    assert np.isfinite(vals).all() and np.abs(vals).sum() > 0


def test_contribution_method_is_a_choice(trained: dict) -> None:
    from genomicdl.interpret.attributions import TrackScores, track_contributions

    out = trained["out"] / "dls"
    paths = contributions(trained["model"], trained["genome"], [("chrI", 5000)], out, method="deep_lift_shap",
                          shuffles=4)  # fmt: skip
    pred = load_predictor(trained["model"])
    start = 5000 - pred.window // 2
    with Genome(trained["genome"]) as genome:
        codes = genome.codes("chrI", start, start + pred.window)[None]
    fn = TrackScores(pred.model, len(pred.tracks), pred.bins, True).eval()
    want = track_contributions(fn, codes, len(pred.tracks), "deep_lift_shap", shuffles=4)[0]
    for t, path in enumerate(paths):  # one window: the track is its contributions, base by base
        bw = pyBigWig.open(str(path))
        np.testing.assert_allclose(bw.values("chrI", start, start + pred.window), want[t], rtol=1e-5, atol=1e-6)
    assert np.abs(want).sum() > 0
    gxi = contributions(trained["model"], trained["genome"], [("chrI", 5000)], trained["out"] / "gxi")
    by_gxi = np.asarray(pyBigWig.open(str(gxi[1])).values("chrI", start, start + pred.window))
    assert not np.allclose(by_gxi, want[1], atol=1e-4)  # another method, other values
    with pytest.raises(ValueError, match="contribution method 'saliency'"):
        contributions(trained["model"], trained["genome"], [("chrI", 5000)], trained["out"] / "bad", method="saliency")
    assert not (trained["out"] / "bad").exists()


def test_accumulator_memory_is_one_window() -> None:
    acc = Accumulator(1, 100)
    flushed = []
    for s in range(0, 100_000, 50):
        flushed += list(acc.add(s, np.ones((1, 100))))
        assert acc.counts.shape[0] <= 200
    flushed += list(acc.flush())
    assert sum(int(c.sum()) for _, _, c in flushed) == 100_050


# ---- predicted beside measured tracks (genomicdl.plots.signal, rule plot_signal_tracks)


def test_track_plot_draws_the_bigwig_values(trained: dict, inputs: dict) -> None:  # noqa: F811
    out = trained["out"] / "plot"
    predict_chromosome(trained["model"], trained["genome"], "chrIII", out / "tracks")
    measured = {"ramp": inputs["ramp"], "R.fwd": inputs["plus"], "R.rev": inputs["minus"]}
    data = stretch_data(measured, {"binned / none": out / "tracks"}, "chrIII", 1010, 2000, 25, "sum")
    assert data.starts[0] == 1000 and len(data.starts) == 80  # aligned down to the bins
    for track, path in measured.items():
        bw = pyBigWig.open(str(path))  # names the chromosome III: reconciled
        want = np.asarray(bw.values("III", 1000, 3000)).reshape(80, 25).sum(1)
        bw.close()
        np.testing.assert_allclose(data.measured[track], want)
        bw = pyBigWig.open(str(out / "tracks" / f"{track}.bw"))
        per_base = np.asarray(bw.values("chrIII", 1000, 3000)).reshape(80, 25)
        bw.close()
        assert (per_base == per_base[:, :1]).all()  # one prediction per bin, over its bases
        np.testing.assert_allclose(data.predicted["binned / none"][track], per_base[:, 0], rtol=1e-6)
    png = out / "tracks.png"
    drawn = signal_tracks(measured, {"binned / none": out / "tracks"}, ["chrIII"], "sig", png, length=5000)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert drawn.chrom == "chrIII" and len(drawn.starts) == 200


def test_densest_stretch_finds_the_signal(tmp_path: Path) -> None:
    bw = pyBigWig.open(str(tmp_path / "bump.bw"), "w")
    bw.addHeader([("II", 100_000)])
    bw.addEntries(["II", "II"], [0, 61_000], ends=[61_000, 63_000], values=[1.0, 50.0])
    bw.close()
    start = densest_stretch([tmp_path / "bump.bw"], "chrII", 4000, 1000)
    assert start <= 61_000 and start + 4000 >= 63_000
    with pytest.raises(GenomicdlError, match="too short"):
        densest_stretch([tmp_path / "bump.bw"], "chrII", 99_000, 1000)
    with pytest.raises(GenomicdlError, match="no chromosome chrV"):
        densest_stretch([tmp_path / "bump.bw"], "chrV", 4000, 1000)


def test_snakemake_plots_predicted_beside_measured(inputs: dict, tmp_path: Path) -> None:  # noqa: F811
    """The real workflow: a signal dataset with predict enabled has tracks.png in its
    default target, and the rule draws it from the predict stage's bigWigs."""
    ds = {
        "genome": {"url": str(inputs["genome_raw"])},
        "targets": {"R.fwd": {"url": str(inputs["plus"])}, "R.rev": {"url": str(inputs["minus"])}},
        "window": 200,
        "mode": "tiles",
        "split": {"valid": ["chrII"], "test": ["chrIII"]},
        "signal": {"output_length": 100, "bin_size": 25},
        "models": ["binned"],
    }
    cfg = {
        "datasets": {"sig": ds},
        "models": ["binned", "kmer_ridge"],
        "model_params": {"binned": {"output_length": 100, "trunk_params": {"channels": 8, "layers": 2}}},
        "balance": ["none"],
        "train": {**TRAIN, "patience": 1},
        "predict": {"enabled": True, "datasets": ["sig"], "regions": {"url": "regions.bed"},
                    "contribution_method": "deep_lift_shap", "contribution_shuffles": 2},
    }  # fmt: skip
    (tmp_path / "regions.bed").write_text("chrIII\t1000\t1100\nchrIII\t1400\t1500\n")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    dry = snakemake(["-n", "--cores", "1", "--configfile", "c.yaml"], cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "plot_signal_tracks" in dry.stdout and "kmer_ridge" not in dry.stdout  # the dataset's own models
    run = snakemake(["results/plots/sig/tracks.png", "--cores", "2", "--configfile", "c.yaml"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    png = tmp_path / "results/plots/sig/tracks.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    run = snakemake(["--cores", "2", "--configfile", "c.yaml"], cwd=tmp_path)  # the default target: contributions
    assert run.returncode == 0, run.stderr[-3000:]
    contrib = tmp_path / "results/sig/binned/none/1/predict/contributions"
    for track in ("R.fwd", "R.rev"):
        with pyBigWig.open(str(contrib / f"{track}.contrib.bw")) as bw:
            values = np.array(bw.values("chrIII", 950, 1150) + bw.values("chrIII", 1350, 1550))  # the 200-bp windows
            assert np.isfinite(values).all() and np.abs(values).max() > 0
            assert np.isnan(bw.values("chrIII", 100, 200)).all()  # nothing outside the regions' windows


def test_region_centres_read_summits_and_name_the_bad_line(trained: dict, tmp_path: Path) -> None:
    bed = tmp_path / "r.bed"
    bed.write_text("I\t100\t200\nI\t300\t400\t.\t0\t+\t1\t1\t1\t10\n")  # an alias of chrI; a narrowPeak
    assert region_centres(bed, trained["genome"], {"I": "chrI"}) == [("chrI", 150), ("chrI", 310)]
    bed.write_text("chrI\t100\t200\nchrI\t300\tx\n")
    with pytest.raises(GenomicdlError, match=r"r\.bed.*line 2|line 2.*r\.bed"):
        region_centres(bed, trained["genome"])
