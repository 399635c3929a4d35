"""The variants stage: windows, scores, REF checks, bad records, chunked atomic outputs,
and (end to end, with the interpret stage) the real snakemake on a tiny config."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
import torch
import yaml
from conftest import DEMO, snakemake

from genomicdl.core.errors import InputError
from genomicdl.core.sequence import reverse_complement
from genomicdl.interpret.variants import NetworkScorer, allele_window, load_scorer, score_variants
from genomicdl.io.genome import Genome, prepare_genome, to_codes
from genomicdl.kinds.targets import Target
from genomicdl.models import build_baseline, build_network
from genomicdl.training.checkpoints import MODEL_FORMAT, save_torch

WINDOW = 60
SETTINGS = {"ref_mismatch": "skip", "bad_records": "skip", "max_allele_length": 20, "chunk_size": 3}
MOTIF_AT = 1000  # CACGTG planted at chrII:1001-1006 (1-based)
HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr2,length=3000>\n"
    '##INFO=<ID=AF,Number=A,Type=Float,Description="allele frequency">\n'
    '##INFO=<ID=AC,Number=R,Type=Integer,Description="allele counts">\n'
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\n"
)


def binary_target(n_tasks: int) -> Target:
    """``n_tasks`` binary tasks named t0, t1, ..."""
    return Target("binary", tuple(f"t{i}" for i in range(n_tasks)))



def strip_motif(seq: bytearray, motif: bytes = b"CACGTG") -> None:
    at = seq.find(motif)
    while at >= 0:
        seq[at] = ord("A")
        at = seq.find(motif)


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chrI (5 kb) and chrII (3 kb) of random bases, CACGTG only at chrII:1001."""
    root = tmp_path_factory.mktemp("genome")
    rng = np.random.default_rng(11)
    text = ""
    for name, size in (("chrI", 5000), ("chrII", 3000)):
        seq = bytearray(np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, size)].tobytes())
        strip_motif(seq)
        if name == "chrII":
            seq[MOTIF_AT : MOTIF_AT + 6] = b"CACGTG"
        text += f">{name}\n" + "\n".join(seq[i : i + 60].decode() for i in range(0, size, 60)) + "\n"
    (root / "genome.fa").write_text(text)
    return prepare_genome(root / "genome.fa", root / "prepared" / "genome.fa.gz")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DeepBind network whose first filter detects CACGTG (task E-box) and second
    TTACCC (task Reb), saved as the training engine saves models."""
    path = tmp_path_factory.mktemp("model") / "model.pt"
    params = {"filters": 2, "filter_width": 6}
    target = binary_target(2)
    net = build_network("deepbind", target=target, window=WINDOW, alphabet="dna", variable=False, params=params)
    weight = torch.full((2, 4, 6), -1.0)
    for f, motif in enumerate(("CACGTG", "TTACCC")):
        for i, base in enumerate(motif):
            weight[f, "ACGT".index(base), i] = 1.0
    with torch.no_grad():
        net.conv.weight.copy_(weight)
        net.conv.bias.fill_(-5.0)
        net.head[-1].weight.copy_(4 * torch.eye(2))
        net.head[-1].bias.fill_(-2.0)
    save_torch(
        {
            "format": MODEL_FORMAT,
            "model": "deepbind",
            "family": "torch",
            "params": params,
            "tasks": ["E-box", "Reb"],
            "target": {"kind": "binary", "tasks": ["E-box", "Reb"], "classes": [], "loss": "default"},
            "window": WINDOW,
            "variable": False,
            "alphabet": "dna",
            "double_stranded": True,
            "rc_average": True,
            "state_dict": net.state_dict(),
        },
        path,
    )
    return path


def genome_base(genome: Path, chrom: str, pos: int, length: int = 1) -> str:
    with Genome(genome) as g:
        return "".join("ACGTN"[c] for c in g.codes(chrom, pos - 1, pos - 1 + length))


def write_vcf(path: Path, lines: list[str], gz: bool = False) -> Path:
    text = HEADER + "".join(line + "\n" for line in lines)
    if gz:
        plain = path.with_suffix("")
        plain.write_text(text)
        pysam.tabix_compress(str(plain), str(path), force=True)
        plain.unlink()
    else:
        path.write_text(text)
    return path


def run(vcf: Path, genome: Path, model: Path, out: Path, **settings: object) -> dict:
    return score_variants(
        str(vcf),
        str(genome),
        str(model),
        "torch",
        {**SETTINGS, **settings},
        str(out / "scores.vcf.gz"),
        str(out / "scores.tsv.gz"),
        str(out / "summary.json"),
        run={"dataset": "syn", "model": "deepbind"},
    )


def read_tsv(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "scores.tsv.gz", sep="\t", keep_default_na=False, na_values=["NA"])


def test_windows_centre_each_allele(genome: Path) -> None:
    with Genome(genome) as g:
        snv = allele_window(g, "chrII", 500, 501, to_codes("A"), 11)
        ins = allele_window(g, "chrII", 500, 501, to_codes("ACGTA"), 11)
        dele = allele_window(g, "chrII", 500, 505, to_codes("C"), 11)
        flank = g.codes("chrII", 490, 520)
        edge = allele_window(g, "chrI", 0, 1, to_codes("G"), 11)
    assert snv[5] == 0 and np.array_equal(snv[:5], flank[5:10]) and np.array_equal(snv[6:], flank[11:16])
    assert "".join("ACGTN"[c] for c in ins[3:8]) == "ACGTA" and np.array_equal(ins[:3], flank[7:10])
    assert np.array_equal(dele[:5], flank[5:10]) and dele[5] == 1 and np.array_equal(dele[6:], flank[15:20])
    assert len(snv) == len(ins) == len(dele) == 11
    assert np.array_equal(edge[:5], [4] * 5)  # N beyond the chromosome start


@pytest.mark.parametrize("engine", ["torch", "onnxruntime"])
def test_scores_are_strand_symmetric(model: Path, engine: str) -> None:
    from genomicdl.export.convert import OnnxScorer

    scorer = load_scorer(str(model), "torch", engine=engine)
    assert isinstance(scorer, NetworkScorer if engine == "torch" else OnnxScorer) and scorer.rc_average
    codes = np.random.default_rng(0).integers(0, 4, (8, WINDOW)).astype(np.uint8)
    codes[0, 20:26] = to_codes("CACGTG")
    codes[1, 20:26] = to_codes("GGGTAA")  # TTACCC on the other strand
    p = scorer.probabilities(codes)
    assert np.allclose(p, scorer.probabilities(reverse_complement(codes)), atol=1e-6)
    assert p[0, 0] > 0.8 and p[2:, 0].max() < 0.2  # CACGTG is its own reverse complement
    assert p[1, 1] == pytest.approx(0.5, abs=1e-5)  # TTACCC on one strand only: mean of 0.88 and 0.12


def test_snv_breaking_the_motif_scores_negative(genome: Path, model: Path, tmp_path: Path) -> None:
    motif_g = MOTIF_AT + 3  # the G of CACGTG, 1-based
    far = 2500
    ref_far = genome_base(genome, "chrII", far)
    lines = [
        f"chr2\t{motif_g}\tbreak\tC\tT\t.\tPASS\tDP=5\tGT\t0/1",
        f"chr2\t{far}\tneutral\t{ref_far}\t{'A' if ref_far != 'A' else 'C'}\t.\tPASS\t.\tGT\t0/1",
    ]
    assert genome_base(genome, "chrII", motif_g) == "C"
    summary = run(write_vcf(tmp_path / "v.vcf", lines), genome, model, tmp_path / "out")
    assert summary["scored"] == 2 and summary["renamed_chromosomes"] == {"chr2": "chrII"}
    table = read_tsv(tmp_path / "out")
    broken, neutral = table.iloc[0], table.iloc[1]
    assert broken["ref_E-box"] > 0.8 and broken["alt_E-box"] < 0.2
    assert broken["diff_E-box"] < -0.6 and broken["logodds_E-box"] < -3
    assert abs(neutral["diff_E-box"]) < 1e-6 and abs(broken["diff_Reb"]) < 0.05
    assert list(table["genome_chrom"]) == ["chrII", "chrII"] and list(table["line"]) == [8, 9]
    with pysam.VariantFile(str(tmp_path / "out" / "scores.vcf.gz")) as vf:
        assert list(vf.header.samples) == []  # sites-only
        rec = next(iter(vf))
        assert rec.info["GDL_STATUS"] == "ok" and rec.info["GDL_DIFF_E_box"] == pytest.approx(
            broken["diff_E-box"], 1e-3
        )
        assert rec.info["DP"] == 5 and "GDL_LOGOR_Reb" in rec.info


def test_indels_and_multiallelic_records_are_split(genome: Path, model: Path, tmp_path: Path) -> None:
    ref3 = genome_base(genome, "chrI", 300, 3)
    lines = [
        f"chr1\t200\tm\t{genome_base(genome, 'chrI', 200)}\tA,C,G,T\t.\t.\tAF=0.1,0.2,0.3,0.4;AC=10,1,2,3,4;DP=7",
        f"chr1\t300\tdel\t{ref3}\t{ref3[0]}\t.\t.\tAF=0.5",
        f"chr1\t400\tins\t{genome_base(genome, 'chrI', 400)}\t{genome_base(genome, 'chrI', 400)}CACGTG\t.\t.\t.",
        f"chr2\t{MOTIF_AT + 1}\tdelmotif\tCACGTG\tC\t.\t.\t.",
    ]
    summary = run(write_vcf(tmp_path / "v.vcf.gz", lines, gz=True), genome, model, tmp_path / "out")
    table = read_tsv(tmp_path / "out")
    assert summary["records"] == 4 and summary["alleles"] == 7
    ref200 = genome_base(genome, "chrI", 200)
    same = table["alt"] == ref200
    assert (table.loc[same, "diff_E-box"].abs() < 1e-6).all()  # ALT equal to REF changes nothing
    assert table.loc[table["id"] == "ins", "diff_E-box"].item() > 0.6  # inserting the motif
    assert table.loc[table["id"] == "delmotif", "diff_E-box"].item() < -0.6  # deleting it
    with pysam.VariantFile(str(tmp_path / "out" / "scores.vcf.gz")) as vf:
        records = list(vf)
    split = [r for r in records if r.id == "m"]
    assert [r.alts[0] for r in split] == ["A", "C", "G", "T"]
    assert [r.info["AF"][0] for r in split] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert [tuple(r.info["AC"]) for r in split] == [(10, 1), (10, 2), (10, 3), (10, 4)]
    assert all(r.info["DP"] == 7 for r in split)


def test_bad_records_are_counted_with_line_numbers(genome: Path, model: Path, tmp_path: Path) -> None:
    good = genome_base(genome, "chrII", 100)
    wrong = "A" if good != "A" else "C"
    lines = [
        f"chr2\t100\tok\t{good}\tG\t.\t.\t.",  # line 8 (G may equal REF: still scored)
        "chr2\tabc\tpos\tA\tG\t.\t.\t.",  # 9 malformed POS
        "chr2\t100",  # 10 too few columns
        f"chr2\t100\tmismatch\t{wrong}\tG\t.\t.\t.",  # 11
        "chr2\t101\trefn\tN\tG\t.\t.\t.",  # 12
        "chr2\t2999\toob\tAAAA\tG\t.\t.\t.",  # 13 past the end of chrII
        "chrUn\t5\tunknown\tA\tG\t.\t.\t.",  # 14
        f"chr2\t102\tsv\t{genome_base(genome, 'chrII', 102)}\t<DEL>\t.\t.\t.",  # 15
        f"chr2\t103\tlong\t{genome_base(genome, 'chrII', 103)}\t{'A' * 30}\t.\t.\t.",  # 16
        f"chr2\t104\tnoalt\t{genome_base(genome, 'chrII', 104)}\t.\t.\t.\t.",  # 17
        "chr2\t105\tbadref\tXYZ\tG\t.\t.\t.",  # 18
    ]
    summary = run(write_vcf(tmp_path / "v.vcf", lines), genome, model, tmp_path / "out")
    assert summary["status"] == {
        "ok": 1,
        "ref_mismatch": 1,
        "malformed": 3,
        "ref_n": 1,
        "out_of_bounds": 1,
        "unknown_chrom": 1,
        "unsupported_allele": 1,
        "allele_too_long": 1,
        "no_alt": 1,
    }
    assert summary["lines"] == {
        "malformed": [9, 10, 18],
        "ref_mismatch": [11],
        "ref_n": [12],
        "out_of_bounds": [13],
        "unknown_chrom": [14],
        "unsupported_allele": [15],
        "allele_too_long": [16],
        "no_alt": [17],
    }
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["records"] == 11
    # skipped records keep their explanation, hint included (chrom_aliases for names)
    assert saved["first_problem"]["unknown_chrom"].startswith("line 14: chromosome 'chrUn' is not in the genome")
    assert "chrom_aliases" in saved["first_problem"]["unknown_chrom"]
    assert saved["first_problem"]["malformed"] == "line 9: POS 'abc' is not a positive integer"
    table = read_tsv(tmp_path / "out")
    assert list(table["status"])[:4] == ["ok", "malformed", "malformed", "ref_mismatch"]
    assert table.loc[table["status"] != "ok", "diff_E-box"].isna().all()
    with pysam.VariantFile(str(tmp_path / "out" / "scores.vcf.gz")) as vf:
        flagged = {r.id: r.info["GDL_STATUS"] for r in vf}
    assert flagged["mismatch"] == "ref_mismatch" and flagged["unknown"] == "unknown_chrom" and "pos" not in flagged


@pytest.mark.parametrize(
    ("line", "settings", "message"),
    [
        (
            "chr2\t100\tx\t{wrong}\tG\t.\t.\t.",
            {"ref_mismatch": "fail"},
            "v.vcf, line 9: REF {wrong} at chr2:100 does not match the genome ({good} on chrII)",
        ),
        ("chr2\t1e3\tx\tA\tG\t.\t.\t.", {"bad_records": "fail"}, "v.vcf, line 9: POS '1e3' is not a positive integer"),
        ("chr9\t5\tx\tA\tG\t.\t.\t.", {"bad_records": "fail"}, "v.vcf, line 9: chromosome 'chr9' is not in the genome"),
        ("chr2\t3000\tx\tAA\tG\t.\t.\t.", {"bad_records": "fail"}, "v.vcf, line 9: chr2:3000 AA ends past the end"),
        ("chr2\t10\tx\tN\tG\t.\t.\t.", {"bad_records": "fail"}, "v.vcf, line 9: REF 'N' contains N"),
    ],
)
def test_fail_policies_name_file_and_line_and_leave_nothing(
    genome: Path, model: Path, tmp_path: Path, line: str, settings: dict, message: str
) -> None:
    good = genome_base(genome, "chrII", 100)
    wrong = "A" if good != "A" else "C"
    first = f"chr2\t50\tfirst\t{genome_base(genome, 'chrII', 50)}\tG\t.\t.\t."
    vcf = write_vcf(tmp_path / "v.vcf", [first, line.format(wrong=wrong)])
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        run(vcf, genome, model, out, chunk_size=1, **settings)
    assert message.format(wrong=wrong, good=good) in str(err.value)
    assert not out.exists() or not list(out.iterdir())  # no output, not even a temporary one


def test_not_a_vcf_is_named(genome: Path, model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.vcf"
    bad.write_text("chr2\t100\t.\tA\tG\t.\t.\t.\n")
    with pytest.raises(InputError, match=r"bad\.vcf: not a VCF file"):
        run(bad, genome, model, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_chunking_does_not_change_the_output(genome: Path, model: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    lines = []
    for pos in sorted(rng.choice(np.arange(10, 2990), 40, replace=False)):
        ref = genome_base(genome, "chrII", int(pos))
        lines.append(f"chr2\t{pos}\t.\t{ref}\t{'ACGT'[(('ACGT'.index(ref)) + 1) % 4]}\t.\t.\t.")
    vcf = write_vcf(tmp_path / "v.vcf", lines)
    run(vcf, genome, model, tmp_path / "a", chunk_size=1)
    run(vcf, genome, model, tmp_path / "b", chunk_size=1000)
    for name in ("scores.tsv.gz", "scores.vcf.gz"):
        a = gzip.decompress((tmp_path / "a" / name).read_bytes())
        assert a == gzip.decompress((tmp_path / "b" / name).read_bytes())


def test_classical_baselines_score_variants(genome: Path, tmp_path: Path) -> None:
    from genomicdl.kinds.targets import Target
    from genomicdl.models.baselines.serial import save_baseline

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, (200, WINDOW)).astype(np.uint8)
    codes[:100, 20:26] = to_codes("CACGTG")
    labels = np.zeros((200, 1), dtype=np.uint8)
    labels[:100] = 1
    target = Target("binary", ("E-box",))
    baseline = build_baseline("kmer_logreg", target=target, alphabet="dna", double_stranded=True, seed=1,
                              params={"k": 4})  # fmt: skip
    baseline.fit(baseline.features(codes, np.full(len(codes), WINDOW)), labels, np.ones(1, np.float32))
    path = tmp_path / "model.npz"
    save_baseline(baseline, path, {"tasks": ["E-box"], "window": WINDOW, "target": target.to_json()})
    lines = [f"chr2\t{MOTIF_AT + 3}\tbreak\tC\tT\t.\t.\t."]
    vcf = write_vcf(tmp_path / "v.vcf", lines)
    score_variants(
        str(vcf), str(genome), str(path), "sklearn", SETTINGS, *(str(tmp_path / n) for n in ("v.gz", "t.gz", "s.json"))
    )
    table = pd.read_csv(tmp_path / "t.gz", sep="\t")
    assert table["diff_E-box"].item() < 0


# ------------------------------------------------------------------ end to end


@pytest.mark.e2e
def test_workflow_scores_variants_and_interprets(tmp_path: Path) -> None:
    """The real snakemake, both stages on: tiny yeast dataset, the bundled demo VCF."""
    vcf = tmp_path / "inputs" / "yeast.vcf.gz"
    vcf.parent.mkdir()
    shutil.copy(DEMO / "variants" / "yeast.vcf.gz", vcf)
    cfg = {
        "datasets": {
            "tiny": {
                "genome": {"url": str(DEMO / "yeast" / "genome.fa.gz")},
                "targets": {"Reb1": {"url": str(DEMO / "yeast" / "Reb1.bed")}},
                "window": 100,
                "negatives": {"strategy": "gc_matched", "per_positive": 1},
                "split": {"valid": ["chrXVI"], "test": ["chrIV"]},
                "variants": {"url": "inputs/yeast.vcf.gz", "chunk_size": 50},
            }
        },
        "models": ["deepbind"],
        "balance": ["none"],
        "train": {"max_epochs": 2, "patience": 1},
        "evaluate": {"bootstrap": 0},
        "interpret": {
            "enabled": True,
            "top_k": 20,
            "filters": {"sequences": 300},
            "jaspar": {"tax_group": ["fungi"]},
            "plots": {"logos": 3, "tracks": 1},
        },
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    plan = snakemake(["--configfile", "c.yaml", "-n"], cwd=tmp_path)  # `rule all` asks for both stages
    assert plan.returncode == 0, plan.stderr[-3000:]
    for rule in ("interpret", "score_variants", "download_variants"):
        assert f"rule {rule}:" in plan.stdout, plan.stdout[-3000:]
    targets = [
        f"results/tiny/deepbind/none/1/{name}"
        for name in ("interpret/motifs.tsv", "interpret/logos.png", "interpret/tracks.png", "variants/summary.json")
    ]
    # targets first: --configfile takes several values
    result = snakemake([*targets, "--cores", "2", "--configfile", "c.yaml"], cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    run_dir = tmp_path / "results" / "tiny" / "deepbind" / "none" / "1"
    summary = json.loads((run_dir / "variants" / "summary.json").read_text())
    assert summary["status"]["ok"] > 200 and summary["status"]["ref_mismatch"] == 1
    assert summary["renamed_chromosomes"]["chr2"] == "chrII"
    with pysam.VariantFile(str(run_dir / "variants" / "scores.vcf.gz")) as vf:
        assert "GDL_DIFF_Reb1" in vf.header.info and sum(1 for _ in vf) == summary["alleles"] - 1  # less malformed
    table = pd.read_csv(run_dir / "interpret" / "motifs.tsv", sep="\t")
    assert {"motif", "jaspar_id", "jaspar_name", "q_value"} <= set(table.columns) and len(table)
    for name in ("logos.png", "tracks.png", "motifs.meme", "attributions.npz", "modisco.html", "modisco/Reb1.md"):
        assert (run_dir / "interpret" / name).stat().st_size > 0
    log = (tmp_path / "logs" / "score_variants" / "tiny" / "deepbind" / "none" / "1.log").read_text()
    assert "alleles not scored (malformed) at lines 139" in log
    assert not list(tmp_path.rglob("*.tmp[0-9]*"))
    again = snakemake([*targets, "--cores", "2", "--configfile", "c.yaml", "-n"], cwd=tmp_path)
    assert "Nothing to be done" in again.stdout + again.stderr
