"""The preprocess stage on a synthetic genome with planted JASPAR motifs, and on tables."""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import DATA, REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import ConfigError, GenomicdlError, InputError
from genomicdl.datasets.genome_dataset import build_genome_dataset, window_stats
from genomicdl.datasets.negatives import gc_fraction
from genomicdl.datasets.synthetic import jaspar_pwm, write_genome, write_sites_bed
from genomicdl.datasets.table_dataset import build_table_dataset
from genomicdl.datasets.windows import LeakageCheck
from genomicdl.io.genome import Genome, prepare_genome
from genomicdl.io.store import KIND_CODE, SPLIT_CODE, Store

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
CHROMS = {"chrI": 300_000, "chrII": 200_000, "chrIII": 200_000}


@pytest.fixture(scope="module")
def genome_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synthetic")
    motifs = {"REB1": jaspar_pwm("REB1"), "CBF1": jaspar_pwm("CBF1")}
    sites = write_genome(root / "genome.fa", CHROMS, seed=3, motifs=motifs, sites_per_mb=80)
    files = {"genome_raw": root / "genome.fa"}
    for motif in motifs:
        # the peaks call chromosomes chr1..chr3 while the genome says chrI..chrIII
        text = "".join(
            f"chr{list(CHROMS).index(s.chrom) + 1}\t{s.start}\t{s.end}\t{s.motif}\t0\t{s.strand}\n"
            for s in sites
            if s.motif == motif
        )
        (root / f"{motif}.bed").write_text(text)
        files[motif] = root / f"{motif}.bed"
    (root / "black.bed").write_text("chr2\t1000\t3000\nchr2-micron\t1\t100\n")
    files["blacklist"] = root / "black.bed"
    files["genome"] = prepare_genome(root / "genome.fa", root / "prepared" / "genome.fa.gz")
    files["n_sites"] = {m: write_sites_bed(sites, root / f"{m}.sites.bed", m) for m in motifs}
    return files


def dataset(inputs: dict, **over: object) -> dict:
    raw = {
        "genome": {"url": str(inputs["genome_raw"])},
        "targets": {"Reb1": {"url": str(inputs["REB1"])}, "Cbf1": {"url": str(inputs["CBF1"])}},
        "blacklist": {"url": str(inputs["blacklist"])},
        "window": 100,
        "split": {"valid": ["chrII"], "test": ["chr3"]},
        **over,
    }
    return gconfig.validate({"datasets": {"syn": raw}}, SCHEMA)["datasets"]["syn"]


def files_of(inputs: dict) -> dict[str, str]:
    return {
        "target.Reb1": str(inputs["REB1"]),
        "target.Cbf1": str(inputs["CBF1"]),
        "blacklist": str(inputs["blacklist"]),
    }


def run_build(ds: dict, files: dict[str, str], inputs: dict, out: Path) -> dict:
    """build_genome_dataset with the synthetic genome, writing into ``out``."""
    return build_genome_dataset(
        dataset_spec("syn", ds), files,
        str(inputs["genome"]), str(out / "d.h5"), str(out / "s.json"), str(out / "gc.tsv")
    )


def build(inputs: dict, tmp_path: Path, **over: object) -> tuple[dict, Store]:
    ds = dataset(inputs, **over)
    files = {k: v for k, v in files_of(inputs).items() if k != "blacklist" or ds["blacklist"]}
    summary = run_build(ds, files, inputs, tmp_path / "data")
    return summary, Store(tmp_path / "data" / "d.h5")


def test_gc_matched_peaks(genome_inputs: dict, tmp_path: Path) -> None:
    summary, store = build(genome_inputs, tmp_path)
    kind, split, gc = store.column("kind"), store.split, store.column("gc")
    labels = store.labels
    pos = kind == KIND_CODE["positive"]
    assert pos.sum() > 50 and (kind == KIND_CODE["gc_matched"]).sum() >= 1.9 * pos.sum()
    # every positive window holds a summit of some task; gc_matched negatives hold none
    assert labels[pos].any(axis=1).all() and not labels[~pos].any()
    # chromosome hold-out, with the config's chr3 reconciled to chrIII
    chrom = np.array(store.chroms)[store.column("chrom")]
    assert set(chrom[split == SPLIT_CODE["valid"]]) == {"chrII"}
    assert set(chrom[split == SPLIT_CODE["test"]]) == {"chrIII"}
    # GC of negatives matches positives'
    assert abs(gc[pos].mean() - gc[~pos].mean()) < 0.01
    # summary agrees with the store
    assert summary["n_windows"] == store.n
    assert sum(s["windows"] for s in summary["splits"].values()) == store.n
    assert summary["chromosomes_renamed"]["chr3"] == "chrIII"
    assert summary["dropped"]["blacklist records on chromosomes absent from the genome"] == 1
    gc_table = (tmp_path / "data" / "gc.tsv").read_text().splitlines()
    assert gc_table[0].split("\t") == ["split", "gc_bin_low", "gc_bin_high", "positives", "negatives"]
    # no positive or negative overlaps the blacklisted chrII:1000-3000
    start = store.column("start")
    assert not ((chrom == "chrII") & (start < 3000) & (start + 100 > 1000)).any()
    store.close()


def test_windows_keep_the_strand_of_their_peak(genome_inputs: dict, tmp_path: Path) -> None:
    _, store = build(genome_inputs, tmp_path)
    kind, strand = store.column("kind"), store.column("strand")
    chrom = np.array(store.chroms)[store.column("chrom")]
    centre = store.column("start") + 50
    # the BED6 records' strands, by (chromosome, summit)
    by_site: dict[tuple[str, int], set[int]] = {}
    for path in (genome_inputs["REB1"], genome_inputs["CBF1"]):
        for line in Path(path).read_text().splitlines():
            c, a, b, *_, sign = line.split("\t")
            key = (list(CHROMS)[int(c.removeprefix("chr")) - 1], (int(a) + int(b)) // 2)
            by_site.setdefault(key, set()).add(1 if sign == "+" else -1)
    pos = np.flatnonzero(kind == KIND_CODE["positive"])
    expected = [next(iter(v)) if len(v := by_site[(chrom[i], int(centre[i]))]) == 1 else 0 for i in pos]
    assert np.array_equal(strand[pos], expected) and set(np.unique(strand[pos])) >= {-1, 1}
    assert not strand[kind == KIND_CODE["gc_matched"]].any()  # genomic background: unstranded
    store.close()


def test_flank_negatives_sit_next_to_positives(genome_inputs: dict, tmp_path: Path) -> None:
    _, store = build(genome_inputs, tmp_path, negatives={"strategy": "flank", "per_positive": 2})
    kind = store.column("kind")
    start, chrom = store.column("start"), store.column("chrom")
    pos = kind == KIND_CODE["positive"]
    flank = kind == KIND_CODE["flank"]
    assert flank.sum() > pos.sum()
    assert not store.labels[flank].any()
    for c in np.unique(chrom):
        p = np.sort(start[pos & (chrom == c)])
        for s in start[flank & (chrom == c)]:
            assert np.abs(p - s).min() >= 100  # overlaps no positive
    store.close()


def test_shuffle_negatives_keep_dinucleotides_of_their_parent(genome_inputs: dict, tmp_path: Path) -> None:
    _, store = build(genome_inputs, tmp_path, negatives={"strategy": "shuffle", "per_positive": 1})
    kind = store.column("kind")
    start = store.column("start")
    seq = store.read_seq(0, store.n)
    shuf = np.flatnonzero(kind == KIND_CODE["shuffle"])
    assert len(shuf) == (kind == KIND_CODE["positive"]).sum()
    for i in shuf[:20]:
        parent = np.flatnonzero((start == start[i]) & (kind == KIND_CODE["positive"]))[0]
        a, b = seq[i], seq[parent]
        pairs = lambda s: np.bincount(s[:-1].astype(int) * 5 + s[1:], minlength=25)  # noqa: E731
        assert np.array_equal(pairs(a), pairs(b)) and not np.array_equal(a, b)
    store.close()


def test_tiles_label_every_summit_once(genome_inputs: dict, tmp_path: Path) -> None:
    _, store = build(genome_inputs, tmp_path, mode="tiles", blacklist=None)
    assert store.n == sum(size // 100 for size in CHROMS.values())
    assert (store.column("kind") == KIND_CODE["tile"]).all()
    counts = store.labels.sum(axis=0)
    # a summit lands in exactly one bin; two summits of one motif may share a bin
    assert 0.9 * genome_inputs["n_sites"]["REB1"] <= counts[0] <= genome_inputs["n_sites"]["REB1"]
    store.close()


def test_tiles_labelled_by_overlap_with_broad_peaks(genome_inputs: dict, tmp_path: Path) -> None:
    """DeepSEA's rule: a bin is positive when the task's peaks cover half of it or more."""
    rng = np.random.default_rng(5)
    peaks = []
    for name, size in CHROMS.items():
        starts = np.sort(rng.choice(size - 1000, 60, replace=False))
        peaks += [(name, int(a), int(a + rng.integers(30, 400))) for a in starts]
    bed = tmp_path / "broad.bed"
    bed.write_text("".join(f"{c}\t{a}\t{b}\n" for c, a, b in peaks))
    ds = dataset(genome_inputs, mode="tiles", blacklist=None, tiles={"label": "overlap", "min_overlap": 0.5})
    ds["targets"] = {"Broad": {"url": str(bed)}}
    run_build(ds, {"target.Broad": str(bed)}, genome_inputs, tmp_path / "data")
    store = Store(tmp_path / "data" / "d.h5")
    covered = {name: np.zeros(size, bool) for name, size in CHROMS.items()}
    for c, a, b in peaks:
        covered[c][a:b] = True
    chrom = np.array(store.chroms)[store.column("chrom")]
    start = store.column("start")
    expected = [covered[c][s : s + 100].sum() >= 50 for c, s in zip(chrom, start.tolist())]
    assert np.array_equal(store.labels[:, 0].astype(bool), expected) and 100 < sum(expected) < store.n
    store.close()


def test_random_split_never_leaks(genome_inputs: dict, tmp_path: Path) -> None:
    _, store = build(
        genome_inputs, tmp_path, negatives={"strategy": "flank", "per_positive": 3}, split={"valid": 0.2, "test": 0.2}
    )
    split, start, chrom = store.split, store.column("start"), store.column("chrom")
    assert set(np.unique(split)) == {0, 1, 2}
    order = np.lexsort((start, chrom))
    check = LeakageCheck()
    check.feed(chrom[order], start[order], start[order] + 100, split[order])
    assert check.overlaps == 0
    store.close()


def test_same_seed_same_dataset(genome_inputs: dict, tmp_path: Path) -> None:
    build(genome_inputs, tmp_path / "a")
    build(genome_inputs, tmp_path / "b")
    with h5py.File(tmp_path / "a/data/d.h5") as a, h5py.File(tmp_path / "b/data/d.h5") as b:
        for name in ("seq", "labels", "split", "start", "kind"):
            assert np.array_equal(a[name][:], b[name][:]), name


def test_n_rich_windows_are_dropped_and_counted(tmp_path: Path) -> None:
    seq = "ACGTTGCA" * 2000
    seq = seq[:6000] + "N" * 1000 + seq[7000:]
    (tmp_path / "g.fa").write_text(f">chrI\n{seq}\n>chrII\n{seq}\n>chrIII\n{seq}\n")
    prepared = prepare_genome(tmp_path / "g.fa", tmp_path / "p" / "g.fa.gz")
    (tmp_path / "t.bed").write_text("chrI\t1000\t1001\nchrI\t6500\t6501\nchrII\t500\t501\nchrIII\t800\t801\n")
    raw = {
        "genome": {"url": "g"},
        "targets": {"T": {"url": "t"}},
        "window": 100,
        "negatives": {"strategy": "flank", "per_positive": 1},
        "split": {"valid": ["chrII"], "test": ["chrIII"]},
    }
    ds = gconfig.validate({"datasets": {"n": raw}}, SCHEMA)["datasets"]["n"]
    summary = build_genome_dataset(
        dataset_spec("n", ds),
        {"target.T": str(tmp_path / "t.bed")},
        str(prepared),
        str(tmp_path / "o/d.h5"),
        str(tmp_path / "o/s.json"),
        str(tmp_path / "o/g.tsv"),
    )
    assert summary["dropped"]["windows with more than 10% N"] >= 1
    with Store(tmp_path / "o/d.h5") as store:
        assert (store.read_seq(0, store.n) == 4).mean(axis=1).max() <= 0.1


def test_bad_target_fails_naming_file_and_line_and_leaves_nothing(genome_inputs: dict, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bed"
    bad.write_text("chr1\t100\t200\nchrUn_random\t5\t10\n")
    files = {**files_of(genome_inputs), "target.Reb1": str(bad)}
    out = tmp_path / "data"
    with pytest.raises(InputError, match=r"bad\.bed, line 2: chromosome 'chrUn_random' is not in the genome"):
        run_build(dataset(genome_inputs), files, genome_inputs, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_split_chromosome_missing_from_genome(genome_inputs: dict, tmp_path: Path) -> None:
    ds = dataset(genome_inputs, split={"valid": ["chrII"], "test": ["chrV"]})
    with pytest.raises(ConfigError, match=r"split\.test: chromosome .chrV. is not in the genome"):
        run_build(ds, files_of(genome_inputs), genome_inputs, tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- tables


def table_ds(table: dict, **over: object) -> dict:
    raw = {"table": table, **over}
    return gconfig.validate({"datasets": {"t": raw}}, SCHEMA)["datasets"]["t"]


def build_table(ds: dict, files: dict, tmp_path: Path) -> tuple[dict, Store]:
    out = tmp_path / "out"
    summary = build_table_dataset(
        dataset_spec("t", ds), files, str(out / "d.h5"), str(out / "s.json"), str(out / "gc.tsv")
    )
    return summary, Store(out / "d.h5")


def test_deepbind_tsv_with_positives_only_training_file(tmp_path: Path) -> None:
    ds = table_ds(
        {
            "train": {"url": "x"},
            "test": {"url": "y"},
            "sequence_column": "seq",
            "label_columns": ["Bound"],
            "id_column": "EventID",
        },
        negatives={"strategy": "shuffle", "per_positive": 1},
        split={"valid": 0.2},
    )
    files = {"table.train": str(DATA / "SRF_AC.head300.seq.gz"), "table.test": str(DATA / "SRF_B.slice300.seq.gz")}
    summary, store = build_table(ds, files, tmp_path)
    assert summary["generated_negatives_for"] == ["train", "valid"]
    tr = summary["splits"]["train"]["tasks"]["Bound"]
    assert tr["positives"] == tr["negatives"] > 200  # one shuffle per positive
    assert summary["splits"]["test"]["tasks"]["Bound"] == {"positives": 150, "negatives": 150}
    assert store.window == 101 and store.tasks == ["Bound"]
    ids = store.ids(np.arange(3))
    assert ids[0] == "seq_00001_peak" and ids[1] == "seq_00001_peak|shuffle0"
    store.close()


def test_csv_with_split_column_and_variable_lengths(tmp_path: Path) -> None:
    rows = ["name,sequence,a,b,split"]
    rng = np.random.default_rng(0)
    for i in range(60):
        seq = "".join(rng.choice(list("acgt"), size=20 + i % 10))
        rows.append(f"r{i},{seq},{i % 2},{(i // 2) % 2},{['train', 'valid', 'test'][i % 3]}")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    ds = table_ds({"url": "t.csv", "label_columns": ["a", "b"], "id_column": "name"}, window=24)
    summary, store = build_table(ds, {"table": str(tmp_path / "t.csv")}, tmp_path)
    assert store.tasks == ["a", "b"] and store.window == 24
    assert [summary["splits"][s]["windows"] for s in ("train", "valid", "test")] == [20, 20, 20]
    assert summary["fitted"]["cropped"] > 0 and summary["fitted"]["padded"] > 0
    store.close()


def test_fasta_labels_from_headers(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), size=12)) for _ in range(40)]
    text = "".join(f">chr1,+,{i},{i + 9}; class:{i % 2}\n{s[:10]}\n{s[10:]}\n" for i, s in enumerate(seqs))
    (tmp_path / "t.fa.gz").write_bytes(gzip.compress(text.encode()))
    ds = table_ds({"url": "t.fa.gz", "task": "RBP"}, split={"valid": 0.25, "test": 0.25})
    _, store = build_table(ds, {"table": str(tmp_path / "t.fa.gz")}, tmp_path)
    assert store.tasks == ["RBP"] and store.window == 12
    assert store.labels.sum() == 20
    store.close()


def leaky_tables(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tr.tsv").write_text("sequence\tlabel\nACGTACGT\t1\nGGGGCCCC\t0\nTTTTAAAA\t1\nCACGTGAA\t0\n")
    (tmp_path / "te.tsv").write_text("sequence\tlabel\nACGTACGT\t1\nGGCCGGCC\t0\n")
    return {"table.train": str(tmp_path / "tr.tsv"), "table.test": str(tmp_path / "te.tsv")}


def test_leakage_fail(tmp_path: Path) -> None:
    ds = table_ds({"train": {"url": "a"}, "test": {"url": "b"}}, split={"valid": 0.01})
    with pytest.raises(GenomicdlError, match=r"sequences shared between splits: \{'train/test': 1\}"):
        build_table(ds, leaky_tables(tmp_path), tmp_path)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_leakage_drop(tmp_path: Path) -> None:
    ds = table_ds({"train": {"url": "a"}, "test": {"url": "b"}}, split={"valid": 0.01, "leakage": "drop"})
    summary, store = build_table(ds, leaky_tables(tmp_path), tmp_path)
    assert summary["dropped"] == {"train sequences also in a held-out split": 1}
    assert summary["splits"]["test"]["windows"] == 2
    store.close()


@pytest.mark.parametrize(
    ("content", "table", "line", "message"),
    [
        ("seq\tlabel\nACGT\t1\n", {}, 1, "missing column(s) ['sequence']"),
        ("sequence\tlabel\nACGT\t1\nACGT\t2\n", {}, 3, "label 'label' must be 0 or 1, got '2'"),
        ("sequence\tlabel\nACGT\t1\nAC-GT\t0\n", {}, 3, "letter '-' at position 3 is not in the dna alphabet"),
        ("sequence\tlabel\nACGT\t1\nACGT\n", {}, 3, "expected 2 columns, got 1"),
        (">r1 class:1\nACGT\n>r2\nACGT\n", {"format": "fasta"}, 3, "no label in header 'r2'"),
    ],
)
def test_bad_table_records(tmp_path: Path, content: str, table: dict, line: int, message: str) -> None:
    path = tmp_path / "t.txt"
    path.write_text(content)
    ds = table_ds({"url": "t", **table})
    with pytest.raises(InputError) as err:
        build_table(ds, {"table": str(path)}, tmp_path)
    assert f"{path}, line {line}: " in str(err.value) and message in str(err.value)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_dataset_config_is_not_mutated(genome_inputs: dict, tmp_path: Path) -> None:
    ds = dataset(genome_inputs)
    before = copy.deepcopy(ds)
    run_build(ds, files_of(genome_inputs), genome_inputs, tmp_path)
    assert ds == before


@pytest.mark.parametrize("policy", ["fail", "warn"])
def test_genome_leakage_verdict_fails_or_warns(policy: str, caplog: pytest.LogCaptureFixture) -> None:
    from genomicdl.core.errors import GenomicdlError
    from genomicdl.datasets.genome_dataset import leakage_verdict
    from genomicdl.datasets.windows import LeakageCheck

    leak = LeakageCheck()
    starts = np.array([0, 150, 1000], dtype=np.int64)  # the second overlaps the first, in another split
    leak.feed(np.zeros(3, np.int64), starts, starts + 200, np.array([0, 2, 0], dtype=np.uint8))
    assert leak.overlaps == 1
    if policy == "fail":
        with pytest.raises(GenomicdlError, match=r"1 windows overlap a window of another split, e\.g\. chrA:150"):
            leakage_verdict(leak, policy, ["chrA"])
    else:
        caplog.set_level("WARNING")
        leakage_verdict(leak, policy, ["chrA"])
        assert "chrA:150" in caplog.text



def test_pybedtools_is_imported_only_when_intervals_are_merged(genome_inputs: dict, tmp_path: Path) -> None:
    # tiles without a blacklist never need bedtools: a fresh process must not import it
    # (its import runs ~45 `bedtools <tool> -h` processes)
    args = {
        "ds": dataset(genome_inputs, mode="tiles", blacklist=None),
        "files": {"target.Reb1": str(genome_inputs["REB1"]), "target.Cbf1": str(genome_inputs["CBF1"])},
        "genome": str(genome_inputs["genome"]),
        "out": [str(tmp_path / name) for name in ("d.h5", "s.json", "gc.tsv")],
    }
    (tmp_path / "args.json").write_text(json.dumps(args))
    code = (
        "import json, sys; from genomicdl.config.specs import dataset_spec; "
        "from genomicdl.datasets.genome_dataset import build_genome_dataset; a = json.load(open(sys.argv[1])); "
        "s = build_genome_dataset(dataset_spec('syn', a['ds']), a['files'], a['genome'], *a['out']); "
        "print(s['n_windows'], 'pybedtools' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "args.json")], capture_output=True, text=True, check=True, cwd=REPO
    )
    n, imported = out.stdout.split()
    assert int(n) > 1000 and imported == "False"
    # with a blacklist it is imported, pointed at the private temp dir, and pointed back after
    import pybedtools

    before = pybedtools.get_tempdir()
    summary, store = build(genome_inputs, tmp_path / "black")
    store.close()
    assert summary["n_windows"] > 0 and pybedtools.get_tempdir() == before
    assert not list((tmp_path / "black" / "data").glob(".d.h5.bed-*"))


def test_window_stats_match_direct_slices_across_gap_sizes(genome_inputs: dict) -> None:
    # windows closer than MAX_GAP share a read span, farther ones start a new one; both
    # must give each window its own bases
    rng = np.random.default_rng(5)
    gaps = rng.choice([1, 37, 250, 9_000, 70_000], size=60)
    starts = np.cumsum(gaps).astype(np.int64)
    starts = starts[starts + 100 <= CHROMS["chrI"]]
    with Genome(str(genome_inputs["genome"])) as genome:
        codes, gc, nfrac = window_stats(genome, "chrI", starts, 100)
        expected = np.stack([genome.codes("chrI", int(s), int(s) + 100) for s in starts])
    assert len(starts) > 20 and np.array_equal(codes, expected)
    assert np.array_equal((gc, nfrac), gc_fraction(expected))
