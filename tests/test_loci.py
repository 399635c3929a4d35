"""Locus-grouped splits of coordinate-carrying tables: planted overlapping windows never
straddle train and a held-out split; the per-record split (the control) does."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import InputError
from genomicdl.datasets.loci import locus_groups, parse_locus
from genomicdl.datasets.table_dataset import build_table_dataset
from genomicdl.io.store import SPLIT_CODE, Store

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")


def test_ids_with_coordinates_parse_and_chain_into_loci() -> None:
    assert parse_locus("chr1,+,69315,69415;") == ("chr1", 69315, 69415)
    assert parse_locus("chr2:500-400(-)") == ("chr2", 400, 500)
    assert parse_locus("seq_00001_peak") is None and parse_locus("chr1,100") is None
    loci = [("chr1", 0, 100), ("chr1", 250, 350), ("chr1", 90, 190), ("chr2", 50, 150), ("chr1", 195, 260)]
    assert locus_groups(loci).tolist() == [0, 1, 0, 2, 1]  # 195 > 190: a new locus that 250 joins
    assert locus_groups(loci, gap=5).tolist() == [0, 0, 0, 1, 0]


def planted_fasta(path: Path, n_loci: int = 120, seed: int = 0) -> Path:
    """Loci of three overlapping 101-nt windows (offsets 0, 30, 60; loci 1 kb apart), in
    shuffled order, labels at random; ids as in RBP-31."""
    rng = np.random.default_rng(seed)
    records = []
    for k in range(n_loci):
        for off in (0, 30, 60):
            start = 1000 * k + off
            seq = "".join(rng.choice(list("ACGT"), 101))
            records.append(f"> chr1,+,{start},{start + 100}; class:{int(rng.random() < 0.3)}\n{seq}\n")
    path.write_text("".join(records[i] for i in rng.permutation(len(records))))
    return path


def build(tmp_path: Path, fasta: Path, **split: object) -> tuple[dict, Store]:
    raw = {
        "table": {"url": "x", "label_pattern": r"class:(\d)", "task": "bound"},
        "split": {"valid": 0.2, "test": 0.1, **split},
    }
    ds = gconfig.validate({"datasets": {"t": raw}}, SCHEMA)["datasets"]["t"]
    out = tmp_path / "out"
    summary = build_table_dataset(
        dataset_spec("t", ds), {"table": str(fasta)}, str(out / "d.h5"), str(out / "s.json"), str(out / "g")
    )
    return summary, Store(out / "d.h5")


def straddling(store: Store) -> int:
    """Pairs of overlapping windows in different splits."""
    loci = [parse_locus(i) for i in store.ids(np.arange(store.n))]
    split = store.split
    starts = np.array([x[1] for x in loci])
    order = np.argsort(starts)
    pairs = 0
    for a, b in itertools.pairwise(order):
        if starts[b] <= loci[a][2] and split[a] != split[b]:
            pairs += 1
    return pairs


def test_overlapping_windows_stay_in_one_split(tmp_path: Path) -> None:
    fasta = planted_fasta(tmp_path / "t.fa")
    summary, store = build(tmp_path / "locus", fasta)
    assert summary["locus_split"] == {"table": {"windows": 360, "loci": 120, "windows_sharing_a_locus": 360}}
    assert straddling(store) == 0
    counts = np.bincount(store.split, minlength=3)
    assert counts[SPLIT_CODE["valid"]] > 30 and counts[SPLIT_CODE["test"]] > 9  # whole loci held out
    store.close()
    summary, control = build(tmp_path / "record", fasta, by_locus=False)
    assert summary["locus_split"] is None and straddling(control) > 50  # the leak the grouping prevents
    control.close()


def test_by_locus_true_needs_coordinates_in_every_id(tmp_path: Path) -> None:
    fasta = planted_fasta(tmp_path / "t.fa", n_loci=4)
    fasta.write_text(fasta.read_text() + "> peak7 class:1\nACGTACGT\n")
    with pytest.raises(InputError, match=r"t\.fa, line 25: record 'peak7': split.by_locus is true but the id"):
        build(tmp_path, fasta, by_locus=True)
    assert not (tmp_path / "out" / "d.h5").exists() and not (tmp_path / "out" / "s.json").exists()
    summary, store = build(tmp_path / "auto", fasta)  # auto: falls back to per-record draws
    assert summary["locus_split"] is None and "peak7" in store.ids(np.arange(store.n))
    store.close()
