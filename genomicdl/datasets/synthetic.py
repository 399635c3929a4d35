"""Seeded synthetic genomes with planted JASPAR motifs: ground truth at any size, for
tests and benchmarks. Written in chunks (memory does not grow with genome size)."""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
CHUNK = 1 << 20


def jaspar_pwm(name_or_id: str) -> np.ndarray:
    """(length, 4) base probabilities (A, C, G, T) of a JASPAR motif, from pyjaspar's
    offline database; ``name_or_id`` is a matrix id (MA0139.2) or a TF name (CTCF)."""
    from pyjaspar import jaspardb

    db = jaspardb()
    if name_or_id.startswith("MA") and "." in name_or_id:
        motif = db.fetch_motif_by_id(name_or_id)
    else:
        found = db.fetch_motifs_by_name(name_or_id)
        if not found:
            raise KeyError(f"no JASPAR motif named {name_or_id!r}")
        motif = found[0]
    counts = np.array([motif.counts[b] for b in "ACGT"], dtype=np.float64).T
    return counts / counts.sum(axis=1, keepdims=True)


def sample_motif(pwm: np.ndarray, rng: np.random.Generator) -> bytes:
    """One instance of a motif drawn from its PWM."""
    cum = pwm.cumsum(axis=1)
    idx = (rng.random((len(pwm), 1)) > cum).sum(axis=1)
    return bytes(BASES[np.minimum(idx, 3)])


@dataclass(frozen=True)
class Planted:
    """A planted site: chromosome, start, motif (task) name, strand."""

    chrom: str
    start: int
    end: int
    motif: str
    strand: str


def write_genome(
    path: str | Path,
    chroms: Mapping[str, int],
    seed: int,
    gc: float = 0.42,
    motifs: Mapping[str, np.ndarray] | None = None,
    sites_per_mb: float = 0.0,
    bgzip: bool = False,
    line_width: int = 60,
) -> list[Planted]:
    """Write a random FASTA (i.i.d. bases at the given GC) with motif instances planted
    at random positions (``sites_per_mb`` per motif and Mb, either strand). Returns the
    planted sites, sorted. ``bgzip`` compresses with BGZF afterwards."""
    rng = np.random.default_rng(seed)
    probs = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    motifs = dict(motifs or {})
    comp = bytes.maketrans(b"ACGT", b"TGCA")
    planted: list[Planted] = []
    path = Path(path)
    plain = path.with_name(path.name.removesuffix(".gz")) if bgzip else path
    with open(plain, "wb") as fh:
        for chrom, size in chroms.items():
            fh.write(f">{chrom}\n".encode())
            carry = b""
            for lo in range(0, size, CHUNK):
                n = min(CHUNK, size - lo)
                seq = bytearray(BASES[rng.choice(4, size=n, p=probs)].tobytes())
                for name, pwm in motifs.items():
                    k = len(pwm)
                    count = rng.poisson(sites_per_mb * n / 1e6) if n > k else 0
                    for pos in np.sort(rng.choice(n - k, size=min(count, max(n - k, 0)), replace=False)):
                        site = sample_motif(pwm, rng)
                        strand = "+" if rng.random() < 0.5 else "-"
                        if strand == "-":
                            site = site.translate(comp)[::-1]
                        seq[pos : pos + k] = site
                        planted.append(Planted(chrom, lo + int(pos), lo + int(pos) + k, name, strand))
                data = carry + bytes(seq)
                full = len(data) - len(data) % line_width
                body = np.frombuffer(data[:full], dtype=np.uint8).reshape(-1, line_width)
                fh.write(np.hstack([body, np.full((len(body), 1), 10, np.uint8)]).tobytes())
                carry = data[full:]
            if carry:
                fh.write(carry + b"\n")
    if bgzip:
        pysam.tabix_compress(str(plain), str(path), force=True)
        plain.unlink()
    planted.sort(key=lambda s: (list(chroms).index(s.chrom), s.start))
    return planted


def write_sites_bed(sites: Sequence[Planted], path: str | Path, motif: str | None = None, gz: bool = False) -> int:
    """Write planted sites (optionally of one motif) as BED6; returns the count."""
    rows = [s for s in sites if motif is None or s.motif == motif]
    text = "".join(f"{s.chrom}\t{s.start}\t{s.end}\t{s.motif}\t0\t{s.strand}\n" for s in rows)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        Path(path).write_text(text)
    return len(rows)
