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
    for path in sorted(args.out.rglob("*")):
        if path.is_file() and path.suffix in (".gz", ".bed"):
            print(hashlib.sha256(path.read_bytes()).hexdigest(), path)


if __name__ == "__main__":
    main()
