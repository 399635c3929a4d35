"""Signal targets from bigWig: reading, names, bad values, binning, the dataset path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import ConfigError, InputError
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.datasets.synthetic import write_genome
from genomicdl.io.bigwig import BigWigTrack, SignalReader, bin_values
from genomicdl.io.genome import ChromNames, prepare_genome
from genomicdl.io.store import SPLIT_CODE, Store
from genomicdl.kinds.signal_layout import layout, rc_columns

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
CHROMS = {"chrI": 60_000, "chrII": 40_000, "chrIII": 40_000}


def write_bigwig(path: Path, chroms: dict[str, int], value, skip: tuple[int, int] | None = None) -> Path:
    """A bigWig with per-base ``value(chrom_index, positions)``; ``skip`` leaves a gap."""
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(chroms.items()))
    for c, (name, size) in enumerate(chroms.items()):
        pos = np.arange(size)
        keep = np.ones(size, bool) if skip is None or c else ~((pos >= skip[0]) & (pos < skip[1]))
        vals = value(c, pos).astype(np.float64)
        bw.addEntries(name, pos[keep].tolist(), values=vals[keep].tolist(), span=1)
    bw.close()
    return path


def ramp(c: int, pos: np.ndarray) -> np.ndarray:
    return (pos % 10) + c


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("signal")
    write_genome(root / "genome.fa", CHROMS, seed=5)
    # Ensembl-style names (I, II, III) against the genome's chrI.. : reconciled
    ens = {k.removeprefix("chr"): v for k, v in CHROMS.items()}
    return {
        "genome_raw": root / "genome.fa",
        "genome": prepare_genome(root / "genome.fa", root / "prep" / "genome.fa.gz"),
        "ramp": write_bigwig(root / "ramp.bw", ens, ramp, skip=(100, 200)),
        "plus": write_bigwig(root / "plus.bw", ens, lambda c, p: (p % 3 == 0).astype(float)),
        "minus": write_bigwig(root / "minus.bw", ens, lambda c, p: 2.0 * (p % 5 == 0)),
        "neg": write_bigwig(root / "neg.bw", ens, lambda c, p: np.where(p == 50, -1.0, 1.0)),
        "other": write_bigwig(root / "other.bw", {"scaffold_9": 1000}, ramp),
        "sizes": CHROMS,
    }


def names() -> ChromNames:
    return ChromNames(list(CHROMS))


def test_names_reconciled_and_values_read(inputs: dict) -> None:
    track = BigWigTrack(inputs["ramp"], CHROMS, names())
    assert track.to_file == {"chrI": "I", "chrII": "II", "chrIII": "III"}
    np.testing.assert_array_equal(track.values("chrII", 95, 105), (np.arange(95, 105) % 10) + 1)


def test_uncovered_positions_zero_missing_or_error(inputs: dict) -> None:
    zero = BigWigTrack(inputs["ramp"], CHROMS, names())
    assert zero.values("chrI", 150, 160).tolist() == [0.0] * 10
    missing = BigWigTrack(inputs["ramp"], CHROMS, names(), nan="missing")
    assert np.isnan(missing.values("chrI", 150, 160)).all()
    strict = BigWigTrack(inputs["ramp"], CHROMS, names(), nan="error")
    with pytest.raises(InputError, match=r"ramp.bw.*no value .* at chrI:100"):
        strict.values("chrI", 90, 110)


def test_bigwig_whose_chromosomes_match_nothing(inputs: dict) -> None:
    with pytest.raises(InputError, match=r"other.bw: none of its chromosomes \(scaffold_9\) matches the genome"):
        BigWigTrack(inputs["other"], CHROMS, names())


def test_negative_signal_where_counts_are_expected(inputs: dict) -> None:
    with pytest.raises(InputError, match=r"neg.bw: negative value -1 at chrI:50 where counts are expected"):
        BigWigTrack(inputs["neg"], CHROMS, names()).values("chrI", 0, 100)
    clipped = BigWigTrack(inputs["neg"], CHROMS, names(), negative="clip").values("chrI", 0, 100)
    assert clipped[50] == 0 and clipped.sum() == 99
    assert BigWigTrack(inputs["neg"], CHROMS, names(), negative="keep").values("chrI", 0, 100)[50] == -1


def test_region_past_a_chromosome_end(inputs: dict) -> None:
    track = BigWigTrack(inputs["ramp"], CHROMS, names())
    with pytest.raises(InputError, match=r"region chrII:39990-40010 lies outside the genome \(chrII: 40000 bp\)"):
        track.values("chrII", 39_990, 40_010)


def test_not_a_bigwig(tmp_path: Path) -> None:
    bad = tmp_path / "x.bw"
    bad.write_text("chrI\t0\t10\t1\n")
    with pytest.raises(InputError, match="not a readable bigWig"):
        BigWigTrack(bad, CHROMS, names())


def test_windows_from_spans_equal_direct_reads(inputs: dict) -> None:
    reader = SignalReader([inputs["ramp"], inputs["plus"]], CHROMS, names())
    starts = np.array([0, 30, 5000, 30_000, 59_900])
    out = reader.windows("chrI", starts, 100, max_span=10_000)
    for i, s in enumerate(starts.tolist()):
        np.testing.assert_array_equal(out[i], reader.read("chrI", s, s + 100))


def test_control_is_scaled_and_subtracted(inputs: dict) -> None:
    reader = SignalReader([inputs["plus"]], CHROMS, names(), control=inputs["plus"])
    assert reader.scales == [1.0]
    assert reader.read("chrI", 0, 30).sum() == 0


def test_bins_sum_and_mean() -> None:
    v = np.arange(12, dtype=np.float32).reshape(1, 12)
    assert bin_values(v, 4, "sum").tolist() == [[6, 22, 38]]
    assert bin_values(v, 4, "mean").tolist() == [[1.5, 5.5, 9.5]]
    with pytest.raises(ValueError, match="not a multiple"):
        bin_values(v, 5)


def test_rc_columns_reverse_bins_and_swap_strands() -> None:
    tasks = ["M:0", "M:1", "R.fwd:0", "R.fwd:1", "R.rev:0", "R.rev:1"]
    assert layout(tasks) == (["M", "R.fwd", "R.rev"], 2)
    assert rc_columns(tasks).tolist() == [1, 0, 5, 4, 3, 2]
    assert rc_columns(["a", "b"]) is None
    assert rc_columns(["R+", "R-"]).tolist() == [1, 0]


def signal_ds(inputs: dict, **signal: object) -> dict:
    raw = {
        "genome": {"url": str(inputs["genome_raw"])},
        "targets": {
            "ramp": {"url": str(inputs["ramp"])},
            "R.fwd": {"url": str(inputs["plus"])},
            "R.rev": {"url": str(inputs["minus"])},
        },
        "window": 200,
        "mode": "tiles",
        "split": {"valid": ["chrII"], "test": ["chrIII"]},
        "signal": {"output_length": 100, "bin_size": 25, **signal},
    }
    return gconfig.validate({"datasets": {"sig": raw}}, SCHEMA)["datasets"]["sig"]


def build(inputs: dict, ds: dict, out: Path) -> tuple[dict, Store]:
    files = {f"target.{t}": ds["targets"][t]["url"] for t in ds["targets"]}
    if ds["signal"]["regions"]:
        files["signal.regions"] = ds["signal"]["regions"]["url"]
    genome = str(inputs["genome"])
    summary = build_dataset(
        dataset_spec("sig", ds), files, genome, str(out / "d.h5"), str(out / "s.json"), str(out / "gc.tsv")
    )
    return summary, Store(out / "d.h5")


def test_tiles_store_binned_signal_of_the_centred_output(inputs: dict, tmp_path: Path) -> None:
    ds = signal_ds(inputs)
    assert ds["kind"] == "regression"
    summary, st = build(inputs, ds, tmp_path)
    assert st.kind == "regression" and st.window == 200 and len(st.tasks) == 3 * 4
    assert st.attr("signal")["bins"] == 4 and st.attr("signal")["offset"] == 50
    # stride = output length: outputs tile the chromosome; chrI has (60000 - 200) // 100 + 1 windows
    rows = np.flatnonzero(st.column("chrom") == 0)
    assert len(rows) == (60_000 - 200) // 100 + 1
    starts, labels = st.column("start", rows), st.labels[rows]
    reader = SignalReader([inputs["ramp"], inputs["plus"], inputs["minus"]], CHROMS, names())
    for i in (0, 1, 7, len(rows) - 1):
        direct = reader.read("chrI", int(starts[i]) + 50, int(starts[i]) + 150)
        np.testing.assert_allclose(labels[i], direct.reshape(3, 4, 25).sum(-1).reshape(-1))
    assert set(np.unique(st.split[st.column("chrom") == 1])) == {SPLIT_CODE["valid"]}
    assert summary["chromosomes_renamed"] == {"I": "chrI", "II": "chrII", "III": "chrIII"}


def test_regions_centre_windows_and_drop_those_past_the_end(inputs: dict, tmp_path: Path) -> None:
    bed = tmp_path / "r.bed"
    bed.write_text("chrI\t1000\t1002\nII\t20000\t20010\nchrII\t39990\t39999\n")
    ds = signal_ds(inputs, regions={"url": str(bed)}, bin_size=1)
    summary, st = build(inputs, ds, tmp_path / "o")
    assert st.n == 2 and st.column("start").tolist() == [901, 19905]
    assert summary["dropped"]["region windows past a chromosome end"] == 1
    assert st.labels.shape == (2, 300)


def test_jittered_copies_only_for_training_windows(inputs: dict, tmp_path: Path) -> None:
    ds = signal_ds(inputs, jitter=20, jitter_copies=2)
    _, st = build(inputs, ds, tmp_path)
    base = (60_000 - 200) // 100 + 1
    assert len(st.rows("train")) == 3 * base
    assert len(st.rows("valid")) == (40_000 - 200) // 100 + 1


def test_bad_geometry_fails_naming_the_key(inputs: dict, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"signal\.bin_size"):
        build(inputs, signal_ds(inputs, bin_size=30), tmp_path)
    with pytest.raises(ConfigError, match=r"signal\.output_length"):
        build(inputs, signal_ds(inputs, output_length=300), tmp_path)
