"""FASTA handling (pysam) and interval parsing with chromosome-name reconciliation."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest

import genomicdl.io.genome as genome_module
from genomicdl.core.errors import InputError
from genomicdl.io.genome import ChromNames, Genome, IntervalStats, prepare_genome, read_intervals, to_codes

FASTA = ">chrI\nACGTacgtNNNN\nGGCC\n>chrII\nTTTTAAAACCCCGGGG\n"


def write(path: Path, kind: str) -> Path:
    if kind == "plain":
        path.write_text(FASTA)
    elif kind == "gzip":
        path.write_bytes(gzip.compress(FASTA.encode()))
    else:
        plain = path.with_suffix(".plain")
        plain.write_text(FASTA)
        pysam.tabix_compress(str(plain), str(path), force=True)
    return path


@pytest.mark.parametrize("kind", ["plain", "gzip", "bgzip"])
def test_prepare_genome_any_compression(tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    out = prepare_genome(write(tmp_path / "in.fa", kind), tmp_path / "out" / "genome.fa.gz")
    assert Path(f"{out}.fai").is_file() and Path(f"{out}.gzi").is_file()
    if kind == "gzip":
        assert "recompressing it to BGZF" in caplog.text
    else:  # indexable as given: linked, never recompressed
        assert out.stat().st_ino == (tmp_path / "in.fa").stat().st_ino
    with Genome(out) as genome:
        assert genome.sizes == {"chrI": 16, "chrII": 16}
        # soft-masked lower case is upper-cased; N is code 4; past the end is N
        assert genome.codes("chrI", 0, 12).tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 4, 4, 4, 4]
        assert genome.codes("chrII", 14, 18).tolist() == [2, 2, 4, 4]
    assert not [p for p in (tmp_path / "out").iterdir() if ".tmp" in p.name]


def prepared(out: Path) -> dict[str, bytes]:
    return {suffix: Path(f"{out}{suffix}").read_bytes() for suffix in (".fai", ".codes")}


def test_plain_gzip_and_bgzip_prepare_identically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same index and codes from any compression and any chunking; the indexes are
    those samtools faidx writes for the same file."""
    rng = np.random.default_rng(0)
    lines = [
        ">chrI first\n",
        *(f"{s}\n" for s in np.array(list("ACGTNacgtn"))[rng.integers(0, 10, (3000, 70))].view("<U70").ravel()),
    ]
    text = "".join(lines) + ">chrII\r\nACGT\r\nAC\r\n\r\n>chrM\nGATTACA"
    got = {}
    for kind in ("plain", "gzip", "bgzip"):
        src = tmp_path / f"{kind}.fa"
        if kind == "plain":
            src.write_text(text)
        elif kind == "gzip":
            src.write_bytes(gzip.compress(text.encode()))
        else:
            (tmp_path / "tmp.fa").write_text(text)
            pysam.tabix_compress(str(tmp_path / "tmp.fa"), str(src))
        for chunk in (1 << 23, 97):
            monkeypatch.setattr(genome_module, "CHUNK", chunk)
            out = prepare_genome(src, tmp_path / f"{kind}{chunk}" / "genome.fa.gz", threads=2)
            got[kind, chunk] = prepared(out)
            ref = tmp_path / f"{kind}{chunk}" / "ref.fa.gz"
            shutil.copyfile(out, ref)
            pysam.faidx(str(ref))
            assert Path(f"{out}.fai").read_text() == Path(f"{ref}.fai").read_text()
            if kind != "plain":
                assert Path(f"{out}.gzi").read_bytes() == Path(f"{ref}.gzi").read_bytes()
            with pysam.FastaFile(str(ref)) as fa, Genome(out) as genome:
                for name in fa.references:
                    assert (
                        genome.codes(name, 0, fa.get_reference_length(name)).tolist()
                        == to_codes(fa.fetch(name)).tolist()
                    )
    assert all(value == got["plain", 1 << 23] for value in got.values())


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (">chr1\nACGT\n>chr2\nAC\n>chr1 again\nGG\n", 5, "name 'chr1' appears twice, on lines 1 and 5"),
        (">chr1\nACGT\n>chr\xff2 x\nAC\n", 3, "byte 0xff (column 5), which is not UTF-8"),
        (">chr1\nACGT\nACGTA\n", 3, "line of 5 characters in sequence 'chr1', whose lines have 4"),
        (">chr1\nACGT\nAC\nACGT\n", 4, "goes on after a shorter or blank line"),
        (">chr1\nACGT\n\nACGT\n", 4, "goes on after a shorter or blank line"),
        (">chr1\n>chr2\nAC\n", 1, "sequence 'chr1' has no bases"),
        ("\n\nchr1\t0\t10\n", 3, "not a FASTA file"),
        ("> \nACGT\n", 1, "has no sequence name"),
    ],
)
def test_bad_fasta_names_file_line_and_problem(tmp_path: Path, text: str, line: int, message: str) -> None:
    src = tmp_path / "bad.fa"
    src.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError) as err:
        prepare_genome(src, tmp_path / "out" / "genome.fa.gz")
    assert f"{src}, line {line}: " in str(err.value) and message in str(err.value)
    assert not any((tmp_path / "out").iterdir())


def test_damaged_compressed_genome_is_an_input_error(tmp_path: Path) -> None:
    bases = np.array(list("ACGT"))[np.random.default_rng(0).integers(0, 4, 200_000)]
    text = ">chr1\n" + "".join(bases.tolist()) + "\n"
    src = tmp_path / "cut.fa.gz"
    data = gzip.compress(text.encode())
    src.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.fa\.gz: cannot read FASTA"):
        prepare_genome(src, tmp_path / "out" / "genome.fa.gz")
    (tmp_path / "in.fa").write_text(text)
    pysam.tabix_compress(str(tmp_path / "in.fa"), str(src), force=True)
    data = bytearray(src.read_bytes())
    data[100] ^= 0xFF
    src.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"cut\.fa\.gz: BGZF block at byte 0 is corrupt"):
        prepare_genome(src, tmp_path / "out" / "genome.fa.gz")


def test_prepare_genome_rejects_non_fasta(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fa"
    bad.write_text("chr1\t0\t10\n")
    with pytest.raises(InputError, match=r"bad.fa, line 1: not a FASTA file"):
        prepare_genome(bad, tmp_path / "out" / "genome.fa.gz")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_to_codes_folds_case_and_rna() -> None:
    assert to_codes("ACGTUNacgtunRY").tolist() == [0, 1, 2, 3, 3, 4, 0, 1, 2, 3, 3, 4, 4, 4]


@pytest.mark.parametrize(
    ("genome", "query", "expected"),
    [
        (["chrI", "chrII", "chrIV", "chrXVI", "chrM"], "chr4", "chrIV"),  # arabic peaks, roman genome
        (["chrI", "chrII", "chrIV", "chrXVI", "chrM"], "chr16", "chrXVI"),
        (["chr1", "chr2", "chrX", "chrM"], "1", "chr1"),  # Ensembl vs UCSC
        (["1", "2", "X", "MT"], "chrX", "X"),
        (["1", "2", "X", "MT"], "chrM", "MT"),
        (["chr1", "chr2", "chr10", "chrX"], "chrX", "chrX"),  # human X is not roman ten
        (["chr1", "chr2", "chr10", "chrX"], "chr2-micron", None),
    ],
)
def test_chromosome_names_reconcile(genome: list[str], query: str, expected: str | None) -> None:
    names = ChromNames(genome)
    roman = names.scheme_of([query, "chr1" if query.startswith("chr") else "1"])
    assert names.resolve(query, roman) == expected


def test_alias_table_wins(tmp_path: Path) -> None:
    names = ChromNames(["chrI", "chrII"], {"yeast_1": "chrI"})
    assert names.resolve("yeast_1") == "chrI"
    with pytest.raises(InputError, match="chrZ is not in the genome"):
        ChromNames(["chrI"], {"a": "chrZ"})


SIZES = {"chrI": 1000, "chrIV": 2000}


def bed(tmp_path: Path, text: str, name: str = "peaks.bed") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_summits_from_bed3_bed6_and_narrowpeak(tmp_path: Path) -> None:
    path = bed(
        tmp_path,
        "track name=x\n# comment\nchr1\t100\t200\nchr4\t10\t20\tp\t0\t+\n"
        "chr4\t500\t900\tpk\t0\t.\t5\t1e-5\t1e-3\t150\n",
    )
    names = ChromNames(list(SIZES))
    got = list(read_intervals(path, SIZES, names))
    assert got == [("chrI", 150, 151), ("chrIV", 15, 16), ("chrIV", 650, 651)]
    assert names.renamed == {"chr1": "chrI", "chr4": "chrIV"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("chr1\t10\t20\nchr9\t5\t6\n", 2, "chromosome 'chr9' is not in the genome"),
        ("chr1\t10\t20\nchr1\t990\t1010\n", 2, "ends past the end of chrI (1000 bp)"),
        ("chr1\tten\t20\n", 1, "start and end must be integers"),
        ("chr1\t30\t20\n", 1, "invalid interval 30-20"),
        ("chr1 10\n", 1, "expected at least 3 tab-separated columns"),
        ("chr4\t500\t900\tpk\t0\t.\t5\t1\t1\t450\n", 1, "summit offset 450 lies outside"),
    ],
)
def test_bad_records_name_file_line_and_problem(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = bed(tmp_path, text)
    with pytest.raises(InputError) as err:
        list(read_intervals(path, SIZES, ChromNames(list(SIZES))))
    assert str(path) in str(err.value) and f"line {line}" in str(err.value) and message in str(err.value)


def test_drop_mode_counts_instead_of_failing(tmp_path: Path) -> None:
    path = bed(tmp_path, "chr1\t10\t20\nchr9\t5\t6\nchr1\t990\t1010\nchr4\t1\t2\n")
    stats = IntervalStats()
    got = list(read_intervals(path, SIZES, ChromNames(list(SIZES)), "drop", stats))
    assert len(got) == 2 and stats.dropped_unknown_chrom == 1 and stats.dropped_out_of_bounds == 1


def test_gzipped_bed(tmp_path: Path) -> None:
    path = tmp_path / "p.bed.gz"
    path.write_bytes(gzip.compress(b"chrI\t0\t10\n"))
    assert list(read_intervals(path, SIZES, ChromNames(list(SIZES)))) == [("chrI", 5, 6)]


def test_codes_lut_is_exhaustive() -> None:
    codes = to_codes(bytes(range(256)))
    assert set(np.unique(codes).tolist()) == {0, 1, 2, 3, 4}
