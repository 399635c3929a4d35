"""The signal mask: planted zero/uncovered stretches in real bigWigs (pyBigWig), a
blacklist, NaN under nan: missing -> which windows are masked, what training and the
metrics leave out, and how a metric changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.datasets.signal_mask import MASK_BITS, uncovered_stretches
from genomicdl.datasets.synthetic import write_genome
from genomicdl.evaluation.evaluate import scored
from genomicdl.io.bigwig import SignalReader
from genomicdl.io.genome import ChromNames, prepare_genome
from genomicdl.io.store import Store
from genomicdl.kinds.targets import Target
from genomicdl.training.engine import unmasked

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
CHROMS = {"chrI": 30_000, "chrII": 20_000, "chrIII": 40_000}
SHARED = (10_000, 13_000)  # chrIII: no signal in either track (A writes zeros, B nothing)
B_ONLY = (20_000, 21_000)  # chrIII: B uncovered, A covered -> not a shared stretch
SHORT = (30_000, 30_400)  # chrIII: shared but shorter than the rule's 1,000 bp
BLACK = ("chrI", 5_000, 5_100)


def level(pos: np.ndarray) -> np.ndarray:
    """A signal whose window totals vary: 1..7 by 100-bp block."""
    return ((pos // 100) % 7 + 1).astype(np.float64)


def write_track(path: Path, zero: list[tuple[int, int]], absent: list[tuple[int, int]]) -> Path:
    """Per-base bigWig over CHROMS: ``level`` everywhere; on chrIII 0 written over ``zero``
    and nothing written (uncovered) over ``absent``."""
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(CHROMS.items()))
    for name, size in CHROMS.items():
        pos = np.arange(size)
        vals = level(pos)
        keep = np.ones(size, bool)
        if name == "chrIII":
            for lo, hi in zero:
                vals[lo:hi] = 0
            for lo, hi in absent:
                keep[lo:hi] = False
        bw.addEntries(name, pos[keep].tolist(), values=vals[keep].tolist(), span=1)
    bw.close()
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mask")
    write_genome(root / "genome.fa", CHROMS, seed=3)
    black = root / "black.bed"
    black.write_text(f"{BLACK[0]}\t{BLACK[1]}\t{BLACK[2]}\n")
    return {
        "genome_raw": root / "genome.fa",
        "genome": prepare_genome(root / "genome.fa", root / "prep" / "genome.fa.gz"),
        "A": write_track(root / "A.bw", zero=[SHARED, SHORT], absent=[]),
        "B": write_track(root / "B.bw", zero=[], absent=[SHARED, B_ONLY, SHORT]),
        "black": black,
    }


def config(data: dict, **signal: object) -> dict:
    """The validated config of one signal dataset over the planted tracks."""
    raw = {
        "genome": {"url": str(data["genome_raw"])},
        "targets": {"A": {"url": str(data["A"])}, "B": {"url": str(data["B"])}},
        "blacklist": {"url": str(data["black"])},
        "window": 200,
        "mode": "tiles",
        "split": {"valid": ["chrII"], "test": ["chrIII"]},
        "signal": {"output_length": 100, "bin_size": 25, **signal},
    }
    return gconfig.validate({"datasets": {"m": raw}}, SCHEMA)


def build(data: dict, out: Path, **signal: object) -> tuple[dict, Store]:
    ds = config(data, **signal)["datasets"]["m"]
    files = {"target.A": str(data["A"]), "target.B": str(data["B"]), "blacklist": str(data["black"])}
    spec = dataset_spec("m", ds)
    outputs = (str(out / "d.h5"), str(out / "s.json"), str(out / "g.tsv"))
    summary = build_dataset(spec, files, str(data["genome"]), *outputs)
    return summary, Store(out / "d.h5")


def overlapping(starts: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Windows (input 200, output the centred 100) whose output overlaps [lo, hi)."""
    return (starts + 150 > lo) & (starts + 50 < hi)


def test_stretches_found_across_read_blocks(data: dict) -> None:
    reader = SignalReader([data["A"], data["B"]], CHROMS, ChromNames(list(CHROMS)), nan="missing")
    whole = uncovered_stretches(reader, "chrIII", CHROMS["chrIII"], 1_000)
    blocks = uncovered_stretches(reader, "chrIII", CHROMS["chrIII"], 1_000, block=777)
    reader.close()
    assert [list(x) for x in whole] == [[SHARED[0]], [SHARED[1]]]
    assert [list(x) for x in blocks] == [[SHARED[0]], [SHARED[1]]]


def test_windows_masked_by_rule_blacklist_and_nan(data: dict, tmp_path: Path) -> None:
    summary, st = build(data, tmp_path, nan="missing", mask={"min_uncovered_bp": 1_000})
    chrom, starts, bits = st.column("chrom"), st.column("start"), st.mask
    iii = chrom == 2
    s3, b3 = starts[iii], bits[iii]
    uncovered = (b3 & MASK_BITS["uncovered"]) > 0
    assert np.array_equal(uncovered, overlapping(s3, *SHARED))  # 31 windows; SHORT and B_ONLY are not
    assert int(uncovered.sum()) == 31
    missing = (b3 & MASK_BITS["missing"]) > 0  # B has NaN over SHARED, B_ONLY and SHORT
    expect = overlapping(s3, *SHARED) | overlapping(s3, *B_ONLY) | overlapping(s3, *SHORT)
    assert np.array_equal(missing, expect)
    black = (bits & MASK_BITS["blacklist"]) > 0
    assert np.array_equal(black, (chrom == 0) & overlapping(starts, BLACK[1], BLACK[2]))
    assert int(black.sum()) == 2  # kept in the store, masked, not dropped
    assert summary["mask"]["windows"]["test"]["uncovered"] == 31
    assert summary["mask"]["windows"]["test"]["masked"] == int(expect.sum())
    assert summary["mask"]["windows"]["train"] == {"blacklist": 2, "missing": 0, "uncovered": 0, "masked": 2,
                                                   "windows": int((chrom == 0).sum())}  # fmt: skip
    assert summary["mask"]["uncovered_bp"]["chrIII"] == 3_000
    assert ">= 1000 bp" in summary["mask"]["rule"] and "blacklist" in st.attr("signal")["mask"]


def test_rule_off_by_default_and_zero_mode_masks_no_nan(data: dict, tmp_path: Path) -> None:
    summary, st = build(data, tmp_path)
    assert summary["mask"]["windows"]["test"]["masked"] == 0  # nan: zero, no rule: only the blacklist
    assert int((st.mask > 0).sum()) == 2
    assert st.n == (30_000 - 200) // 100 + 1 + (20_000 - 200) // 100 + 1 + (40_000 - 200) // 100 + 1


def test_training_and_validation_skip_masked_rows(data: dict, tmp_path: Path) -> None:
    _, st = build(data, tmp_path, mask={"min_uncovered_bp": 1_000})
    train, valid = st.rows("train"), st.rows("valid")
    index, kept_valid = unmasked(st.mask, train, valid)
    assert len(index) == len(train) - 2 and not st.mask[index].any()
    assert np.array_equal(kept_valid, valid)
    none = np.zeros(st.n, np.uint8)
    assert unmasked(none, train, valid)[0] is train


def test_masked_metric_is_primary_and_unmasked_reported_once(data: dict, tmp_path: Path) -> None:
    """Predictions equal to the labels where there is signal and a typical total (e^7) in
    the uncovered stretch: the masked Pearson is 1, the unmasked one is pulled down by the
    log1p(0) windows, as in the yeast test chromosome."""
    _, st = build(data, tmp_path, mask={"min_uncovered_bp": 1_000})
    valid, test = st.rows("valid"), st.rows("test")
    rows = np.concatenate([valid, test])
    y = st.labels[rows]
    p = y.copy()
    masked = st.mask[rows] > 0
    assert masked[len(valid):].sum() == 31 and not masked[: len(valid)].any()
    p[masked] = np.exp(7.0) / y.shape[1]
    target = Target("regression", tuple(st.tasks), loss="log1p_mse")
    tasks, ly, lp, extra = scored(target, y, p, signal=True, nv=len(valid), keep=~masked, seed=1)
    assert tasks == ["A", "B"] and len(ly) == len(rows) - 31
    r = {(e["task"], e["metric"]): e["value"] for e in extra}
    for t in range(2):
        test_y, test_p = ly[len(valid):, t], lp[len(valid):, t]
        assert np.corrcoef(test_y, test_p)[0, 1] == pytest.approx(1.0)
    assert r[("A", "masked_windows")] == 31
    assert r[("A", "pearson_unmasked")] < 0.6 and r[("B", "pearson_unmasked")] < 0.6
    assert r[("A", "profile_pearson_log")] == pytest.approx(1.0)
    assert r[("A", "profile_jsd")] == pytest.approx(0.0, abs=1e-12)
    assert r[("A", "profile_jsd_shuffled")] > 0.001
    assert ("A", "counts_pearson") not in r  # a count/profile (multinomial) model's metric
    st.close()


def test_baseline_fits_only_the_windows_the_mask_keeps(data: dict, tmp_path: Path) -> None:
    from genomicdl.training.baselines import train_baseline
    from genomicdl.training.rebalance import rebalance

    _, st = build(data, tmp_path, mask={"min_uncovered_bp": 1_000})
    train_rows, masked = len(st.rows("train")), int((st.mask[st.rows("train")] > 0).sum())
    st.close()
    assert masked == 2  # the blacklisted windows of chrI
    rebalance(tmp_path / "d.h5", "none", 1, 1.0, tmp_path / "i.npz", tmp_path / "c.tsv")
    train = config(data)["train"]
    stats = train_baseline(store=str(tmp_path / "d.h5"), index=str(tmp_path / "i.npz"), model="kmer_ridge",
                           params={"k": 3}, train=train, seed=1, double_stranded=True,
                           out_model=str(tmp_path / "m.joblib"), out_stats=str(tmp_path / "s.json"))  # fmt: skip
    assert stats["train_rows"] == train_rows - masked
