"""genomicdl.io.bgzf writes BGZF that gzip, htslib (pysam) and tabix read."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pysam

from genomicdl.io.bgzf import BLOCK_DATA, BgzfWriter


def test_round_trip_through_gzip_and_htslib(tmp_path: Path) -> None:
    text = b"".join(b"chr1\t%d\t%.4e\n" % (i, i / 7) for i in range(60_000))  # several blocks
    noise = os.urandom(3 * BLOCK_DATA + 17)  # incompressible: stored blocks
    path = tmp_path / "x.gz"
    with BgzfWriter(path) as out:
        out.write(text[:1000])
        out.write(text[1000:])
        out.write(noise)
    assert gzip.decompress(path.read_bytes()) == text + noise
    with pysam.BGZFile(str(path), "rb") as fh:
        assert fh.read() == text + noise
    assert path.read_bytes().endswith(bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000"))


def test_tabix_indexes_a_vcf_written_with_it(tmp_path: Path) -> None:
    header = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    rows = "".join(f"chr1\t{p}\tv{p}\tA\tG\t.\t.\t.\n" for p in range(1, 900_000, 37))
    path = tmp_path / "v.vcf.gz"
    with BgzfWriter(path) as out:
        out.write((header + rows).encode())
    pysam.tabix_index(str(path), preset="vcf")
    with pysam.VariantFile(str(path)) as vf:
        hits = [r.pos for r in vf.fetch("chr1", 500_000, 500_100)]
    assert hits and all(500_000 < p <= 500_100 for p in hits)
