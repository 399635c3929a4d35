"""Make the demo VCF (demo/variants/yeast.vcf.gz) from the demo yeast genome and peaks.

    python demo/variants/make_vcf.py            # writes demo/variants/yeast.vcf.gz, prints its sha256

Deterministic (seeded; BGZF without timestamps): rerunning reproduces the same bytes.
Every REF is read from demo/yeast/genome.fa.gz, chromosomes are named as in the peak
files (chr2, chr4, ... where the genome says chrII, chrIV, ...). See README.md.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import re
from pathlib import Path

import pysam

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent
ARABIC = {"chrII": "chr2", "chrIV": "chr4", "chrVII": "chr7", "chrXII": "chr12", "chrXV": "chr15", "chrXVI": "chr16"}
# Core motifs of the three factors (JASPAR MA0363 REB1, MA0265 ABF1, MA0281 CBF1), both strands.
MOTIFS = {
    "Reb1": r"(?=(TTACCCG|CGGGTAA))",
    "Abf1": r"(?=(TCA.{5}ACG|CGT.{5}TGA))",
    "Cbf1": r"(?=(CACGTG))",
}
SEED = 7


def read_genome(path: Path) -> dict[str, str]:
    """The demo genome in memory (6.6 Mb), upper case."""
    seqs: dict[str, list[str]] = {}
    name = ""
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            else:
                seqs[name].append(line.strip().upper())
    return {k: "".join(v) for k, v in seqs.items()}


def summits(path: Path) -> list[tuple[str, int]]:
    out = []
    for line in path.read_text().splitlines():
        chrom, start, _ = line.split("\t")[:3]
        out.append((chrom, int(start)))
    return out


def other(base: str, rng: random.Random) -> str:
    return rng.choice([b for b in "ACGT" if b != base])


def records(genome: dict[str, str], rng: random.Random) -> list[tuple[str, int, str, str, str]]:
    """(chrom as in the peaks, 1-based POS, REF, ALT, ORIGIN) of every variant."""
    to_genome = {v: k for k, v in ARABIC.items()}
    chroms = list(ARABIC.values())
    out: list[tuple[str, int, str, str, str]] = []
    # SNVs hitting motif instances within 50 bp of a ChIP-exo summit: strong expected effects
    for tf, pattern in MOTIFS.items():
        sites = []
        for chrom, summit in summits(DEMO / "yeast" / f"{tf}.bed"):
            seq = genome[to_genome[chrom]]
            lo = max(0, summit - 50)
            for m in re.finditer(pattern, seq[lo : summit + 50]):
                sites.append((chrom, lo + m.start(), len(m.group(1))))
        for chrom, start, length in rng.sample(sites, min(25, len(sites))):
            at = start + rng.choice([1, length - 2])  # an informative inner base
            ref = genome[to_genome[chrom]][at]
            out.append((chrom, at + 1, ref, other(ref, rng), f"motif_{tf}"))
    # background SNVs, some multi-allelic
    for i in range(150):
        chrom = rng.choice(chroms)
        seq = genome[to_genome[chrom]]
        at = rng.randrange(1000, len(seq) - 1000)
        ref = seq[at]
        alt = other(ref, rng)
        if i % 15 == 0:
            alt = ",".join(sorted({alt, other(ref, rng)} | {other(ref, rng)}))
        out.append((chrom, at + 1, ref, alt, "background"))
    # short indels, VCF-style with the preceding base as anchor
    for i in range(40):
        chrom = rng.choice(chroms)
        seq = genome[to_genome[chrom]]
        at = rng.randrange(1000, len(seq) - 1000)
        size = rng.randint(1, 10)
        if i % 2:
            ref, alt = seq[at : at + size + 1], seq[at]
        else:
            ref, alt = seq[at], seq[at] + "".join(rng.choice("ACGT") for _ in range(size))
        out.append((chrom, at + 1, ref, alt, "indel"))
    return out


def problems(genome: dict[str, str]) -> list[tuple[str, str, str, str, str, str]]:
    """A few records of the kinds real VCFs hold and the stage must count, not score."""
    seq = genome["chrVII"]
    wrong = "A" if seq[200_000] != "A" else "C"
    size = len(genome["chrXV"])
    return [
        ("chr7", "200001", wrong, "G" if wrong != "G" else "T", "problem_ref_mismatch", ""),
        ("chr15", str(size + 10), "A", "G", "problem_out_of_bounds", ""),
        ("chr1", "5000", "A", "G", "problem_chromosome_not_in_the_demo_genome", ""),
        ("chr12", "300000", genome["chrXII"][299_999], "<DEL>", "problem_symbolic_allele", ";SVTYPE=DEL"),
    ]


def main() -> None:
    genome = read_genome(DEMO / "yeast" / "genome.fa.gz")
    rng = random.Random(SEED)
    rows = [(c, str(p), r, a, o, "") for c, p, r, a, o in records(genome, rng)]
    rows += problems(genome)
    order = {c: i for i, c in enumerate([*ARABIC.values(), "chr1"])}
    rows.sort(key=lambda r: (order[r[0]], int(r[1])))
    header = [
        "##fileformat=VCFv4.2",
        "##source=genomicdl demo/variants/make_vcf.py (seed 7)",
        "##reference=sacCer3 chromosomes II, IV, VII, XII, XV, XVI (demo/yeast/genome.fa.gz)",
        *(f"##contig=<ID={ARABIC[c]},length={len(genome[c])}>" for c in ARABIC),
        '##INFO=<ID=ORIGIN,Number=1,Type=String,Description="How the demo variant was made">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Made-up allele frequency, one per ALT">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    lines = []
    freq = random.Random(SEED + 1)
    for i, (chrom, pos, ref, alt, origin, extra) in enumerate(rows, start=1):
        af = ",".join(f"{freq.uniform(0.01, 0.5):.3f}" for _ in alt.split(","))
        lines.append(f"{chrom}\t{pos}\tdemo{i}\t{ref}\t{alt}\t50\tPASS\tORIGIN={origin};AF={af}{extra}")
    lines.insert(len(lines) // 2, "chr4\t12x4\tdemo_bad\tA\tG\t50\tPASS\tORIGIN=problem_malformed_position")
    plain = HERE / "yeast.vcf"
    plain.write_text("\n".join(header + lines) + "\n")
    out = HERE / "yeast.vcf.gz"
    pysam.tabix_compress(str(plain), str(out), force=True)
    plain.unlink()
    print(f"{out}: {len(lines)} records, sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
