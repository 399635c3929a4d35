"""Cut the bundled demo data from the real data sets in ../shared/data (see README.md).

    python demo/cut.py ../shared/data demo

Deterministic: the same inputs give byte-identical outputs (BGZF and gzip without
timestamps). Prints the sha256 of every file for config/config.yaml.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import re
from pathlib import Path

import pysam

# Six yeast chromosomes (6.6 Mb); chrIV is the test and chrXVI the validation hold-out.
CHROMS = ["chrII", "chrIV", "chrVII", "chrXII", "chrXV", "chrXVI"]
ROMAN_TO_ARABIC = {
    "chrII": "chr2",
    "chrIV": "chr4",
    "chrVII": "chr7",
    "chrXII": "chr12",
    "chrXV": "chr15",
    "chrXVI": "chr16",
}
TFS = ["Reb1", "Abf1", "Cbf1"]
CLIP_SET = "23_PARCLIP_PUM2_hg19"
CLIP_TRAIN, CLIP_TEST = 6000, 2000  # records kept, in the source's 1:4 bound:unbound ratio
# Stranded RNA-seq coverage (tidyCoverage) on stretches of three of the six chromosomes,
# named as in the source (II, IV, XVI: reconciled with the genome's chrII...).
SIGNAL_TRACKS = ["RNA.fwd", "RNA.rev"]
# Train on 300 kb of chrIV, validate on 50 kb of chrXVI, test on 100 kb of chrII.
SIGNAL_STRETCHES = {"II": (100_000, 200_000), "IV": (100_000, 400_000), "XVI": (100_000, 150_000)}
SIGNAL_TILE = 500  # the demo's signal output length: one BED region per output tile


def cut_genome(src: Path, out: Path) -> None:
    plain = out.with_suffix("")  # genome.fa
    with pysam.FastxFile(str(src)) as fasta, open(plain, "w") as fh:
        for record in fasta:
            if record.name in CHROMS:
                seq = record.sequence
                fh.write(f">{record.name}\n")
                for i in range(0, len(seq), 60):
                    fh.write(seq[i : i + 60] + "\n")
    pysam.tabix_compress(str(plain), str(out), force=True)
    plain.unlink()


def cut_peaks(src: Path, out: Path) -> None:
    keep = set(ROMAN_TO_ARABIC.values())
    lines = [line for line in src.read_text().splitlines() if line.split("\t")[0] in keep]
    out.write_text("\n".join(lines) + "\n")


def cut_clip(src: Path, out: Path, n: int, seed: int) -> None:
    """Keep n records with the source's class ratio, chosen with a seeded RNG."""
    records = {0: [], 1: []}
    with pysam.FastxFile(str(src)) as fasta:
        for record in fasta:
            header = f"{record.name} {record.comment or ''}".strip()
            label = int(re.search(r"class:\s*(\d)", header).group(1))
            records[label].append((header, record.sequence))
    rng = random.Random(seed)
    n_pos = n // 5
    chosen = rng.sample(records[1], n_pos) + rng.sample(records[0], n - n_pos)
    rng.shuffle(chosen)
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for header, seq in chosen:
            fh.write(f">{header}\n{seq}\n".encode())


def cut_track(src: Path, out: Path, stretches: dict[str, tuple[int, int]]) -> None:
    """A bigWig with the source's header (chromosome sizes) and its intervals inside
    ``stretches`` (clipped to them); elsewhere the track is uncovered."""
    import pyBigWig

    bw_in = pyBigWig.open(str(src))
    sizes = bw_in.chroms()
    bw_out = pyBigWig.open(str(out), "w")
    chroms = [c for c in sizes if c in stretches]  # the source's order
    bw_out.addHeader([(c, sizes[c]) for c in chroms], maxZooms=4)
    for chrom in chroms:
        lo, hi = stretches[chrom]
        ivs = bw_in.intervals(chrom, lo, hi) or []
        starts = [max(a, lo) for a, _, _ in ivs]
        ends = [min(b, hi) for _, b, _ in ivs]
        bw_out.addEntries([chrom] * len(ivs), starts, ends=ends, values=[float(v) for _, _, v in ivs])
    bw_out.close()
    bw_in.close()


def cut_tiles(out: Path, stretches: dict[str, tuple[int, int]], tile: int) -> None:
    """A BED of consecutive ``tile``-bp regions covering each stretch (genome names)."""
    lines = [
        f"chr{chrom}\t{s}\t{s + tile}" for chrom, (lo, hi) in stretches.items() for s in range(lo, hi - tile + 1, tile)
    ]
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared_data", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    yeast, clip = args.shared_data / "yeast_chexmix", args.shared_data / "clip_rbp" / CLIP_SET
    (args.out / "yeast").mkdir(parents=True, exist_ok=True)
    (args.out / "clip").mkdir(parents=True, exist_ok=True)
    cut_genome(yeast / "sacCer3.fa.gz", args.out / "yeast" / "genome.fa.gz")
    for tf in TFS:
        cut_peaks(yeast / "peaks" / f"{tf}_CX.bed", args.out / "yeast" / f"{tf}.bed")
    blacklist = yeast / "rossi2021_ChExMix_Peak_Filter_List_190612.bed"
    (args.out / "yeast" / "blacklist.bed").write_bytes(blacklist.read_bytes())
    cut_clip(clip / "training.fa.gz", args.out / "clip" / "train.fa.gz", CLIP_TRAIN, seed=1)
    cut_clip(clip / "test.fa.gz", args.out / "clip" / "test.fa.gz", CLIP_TEST, seed=2)
    (args.out / "signal").mkdir(parents=True, exist_ok=True)
    for track in SIGNAL_TRACKS:
        src = args.shared_data / "yeast_signal" / f"{track}.bw"
        cut_track(src, args.out / "signal" / f"{track}.bw", SIGNAL_STRETCHES)
    cut_tiles(args.out / "signal" / "tiles.bed", SIGNAL_STRETCHES, SIGNAL_TILE)
    for path in sorted(args.out.rglob("*")):
        if path.is_file() and path.suffix in (".gz", ".bed", ".bw"):
            print(hashlib.sha256(path.read_bytes()).hexdigest(), path)


if __name__ == "__main__":
    main()
