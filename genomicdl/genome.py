"""Genome and interval files: FASTA via pysam, BED/narrowPeak parsing, chromosome names."""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from genomicdl.errors import InputError
from genomicdl.files import is_bgzf, is_gzip, open_text

STRAND_CODE = {"+": 1, "-": -1}  # BED strand column -> store strand (0: unknown or unstranded)
log = logging.getLogger(__name__)

# Byte -> base code: A C G T = 0 1 2 3, anything else (N, IUPAC) = 4; lower case folds.
CODE_N = 4
_LUT = np.full(256, CODE_N, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    _LUT[ord(_b)] = _LUT[ord(_b.lower())] = _i
_LUT[ord("U")] = _LUT[ord("u")] = 3


def to_codes(seq: str | bytes) -> np.ndarray:
    """Integer-code a sequence (A,C,G,T,U -> 0..3, other -> 4; case-insensitive)."""
    raw = seq.encode("ascii", "replace") if isinstance(seq, str) else seq
    return _LUT[np.frombuffer(raw, dtype=np.uint8)]


def prepare_genome(src: str | Path, out: str | Path) -> Path:
    """Make ``out`` a BGZF-compressed, faidx-indexed copy of the FASTA ``src``.

    Plain FASTA is compressed, plain gzip is converted once (logged), BGZF is linked.
    Beside it, ``<out>.codes`` holds every base integer-coded (one byte per base, the
    chromosomes in index order), which Genome memory-maps for fast window access.
    The files appear together or not at all.
    """
    src, out = Path(src), Path(out)
    _check_fasta_start(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    made = [tmp, Path(f"{tmp}.fai"), Path(f"{tmp}.gzi"), Path(f"{tmp}.codes")]
    try:
        if is_bgzf(src):
            log.info("genome %s is BGZF-compressed: indexing it as is", src)
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
        elif is_gzip(src):
            log.info("genome %s is plain gzip: converting it once to BGZF (%s)", src, out)
            plain = tmp.with_suffix(".plain")
            made.append(plain)
            with gzip.open(src, "rb") as fin, open(plain, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
            pysam.tabix_compress(str(plain), str(tmp), force=True)
            plain.unlink()
        else:
            log.info("genome %s is uncompressed: compressing it to BGZF", src)
            pysam.tabix_compress(str(src), str(tmp), force=True)
        try:
            pysam.faidx(str(tmp))
        except pysam.utils.SamtoolsError as err:
            raise InputError(src, f"not a valid FASTA file (faidx failed: {err})") from err
        _write_codes(tmp, Path(f"{tmp}.codes"))
        for path in made[1:4]:
            os.replace(path, str(path).replace(str(tmp), str(out)))
        os.replace(tmp, out)
    finally:
        for path in made:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return out


def _write_codes(fasta: Path, out: Path, block: int = 1 << 23) -> None:
    """Integer-code a whole indexed FASTA into ``out``, block by block."""
    with pysam.FastaFile(str(fasta)) as fa, open(out, "wb") as fh:
        for chrom, size in zip(fa.references, fa.lengths):
            for lo in range(0, size, block):
                fh.write(to_codes(fa.fetch(chrom, lo, min(size, lo + block))).tobytes())


def codes_path(fasta: str | Path) -> Path:
    """Where prepare_genome puts the integer-coded copy of a genome."""
    return Path(f"{fasta}.codes")


def _check_fasta_start(path: Path) -> None:
    try:
        with open_text(path) as fh:
            for line in fh:
                if line.strip():
                    if not line.startswith(">"):
                        raise InputError(path, "not a FASTA file: first line does not start with '>'", 1)
                    return
    except (EOFError, OSError) as err:
        raise InputError(path, f"cannot read FASTA ({err})") from err
    raise InputError(path, "FASTA file is empty")


class Genome:
    """Random access to an indexed FASTA, returning integer-coded bases.

    Reads the ``.codes`` file written by prepare_genome when it is there (positioned
    reads of one byte per base: no decompression, no decoding, nothing kept mapped),
    else decodes through pysam.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._fasta = pysam.FastaFile(self.path)
        self.sizes: dict[str, int] = dict(zip(self._fasta.references, self._fasta.lengths))
        self._codes: int | None = None
        codes = codes_path(path)
        if codes.is_file() and codes.stat().st_size == sum(self.sizes.values()):
            self._codes = os.open(codes, os.O_RDONLY)
            offsets = np.cumsum([0, *self.sizes.values()])
            self._offset = dict(zip(self.sizes, offsets[:-1].tolist()))

    def _read(self, chrom: str, lo: int, hi: int) -> np.ndarray:
        if self._codes is not None:
            data = os.pread(self._codes, hi - lo, self._offset[chrom] + lo)
            return np.frombuffer(data, dtype=np.uint8)
        return to_codes(self._fasta.fetch(chrom, lo, hi))

    def codes(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Codes of [start, end); positions beyond the chromosome are N."""
        size = self.sizes[chrom]
        lo, hi = max(start, 0), min(end, size)
        if lo == start and hi == end:
            return self._read(chrom, lo, hi)
        out = np.full(end - start, CODE_N, dtype=np.uint8)
        if hi > lo:
            out[lo - start : hi - start] = self._read(chrom, lo, hi)
        return out

    def close(self) -> None:
        self._fasta.close()
        if self._codes is not None:
            os.close(self._codes)
            self._codes = None

    def __enter__(self) -> Genome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- chromosome names

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}
_ROMAN_RE = re.compile(r"^(X{0,3})(IX|IV|V?I{0,3})$")
_MITO = {"m", "mt", "mito", "chrm", "chrmt", "mitochondrion"}


def _roman_value(text: str) -> int | None:
    if not text or not _ROMAN_RE.match(text):
        return None
    total, prev = 0, 0
    for ch in reversed(text):
        value = _ROMAN[ch]
        total = total - value if value < prev else total + value
        prev = max(prev, value)
    return total


def _stem(name: str) -> str:
    return name[3:] if name.lower().startswith("chr") else name


def _uses_roman(names: list[str]) -> bool:
    """A naming scheme is roman when it has no arabic numbers and at least two roman
    names, one of them longer than a letter (so human chrX alone is not roman ten)."""
    stems = [_stem(n) for n in names]
    if any(s.isdigit() for s in stems):
        return False
    romans = [s for s in stems if _roman_value(s)]
    return len(romans) >= 2 and any(len(s) > 1 for s in romans)


def _canonical(name: str, roman: bool) -> str:
    stem = _stem(name)
    if name.lower() in _MITO or stem.lower() in _MITO:
        return "M"
    if stem.isdigit():
        return str(int(stem))
    if roman:
        value = _roman_value(stem)
        if value:
            return str(value)
    return stem


class ChromNames:
    """Maps chromosome names of an input file onto the genome's names.

    Exact names win, then the config's alias table, then an unambiguous canonical match
    (``chr1``/``1``, ``chrI``/``chr1``, ``chrM``/``MT``).
    """

    def __init__(self, genome_names: list[str], aliases: Mapping[str, str] | None = None) -> None:
        self.genome = set(genome_names)
        self.aliases = dict(aliases or {})
        for src, dst in self.aliases.items():
            if dst not in self.genome:
                raise InputError("config chrom_aliases", f"alias {src} -> {dst}: {dst} is not in the genome")
        roman = _uses_roman(genome_names)
        by_key: dict[str, list[str]] = {}
        for name in genome_names:
            by_key.setdefault(_canonical(name, roman), []).append(name)
        self._by_key = {k: v[0] for k, v in by_key.items() if len(v) == 1}
        self._cache: dict[tuple[str, bool], str | None] = {}
        self.renamed: dict[str, str] = {}

    def scheme_of(self, names: list[str]) -> bool:
        """Whether an input file's names are roman (decides how its names are read)."""
        return _uses_roman(names)

    def resolve(self, name: str, roman: bool = False) -> str | None:
        """The genome's name for ``name``, or None when there is none."""
        key = (name, roman)
        if key not in self._cache:
            if name in self.genome:
                hit: str | None = name
            elif name in self.aliases:
                hit = self.aliases[name]
            else:
                hit = self._by_key.get(_canonical(name, roman))
            if hit is not None and hit != name:
                self.renamed[name] = hit
            self._cache[key] = hit
        return self._cache[key]


# ---------------------------------------------------------------- BED / narrowPeak


@dataclass
class IntervalStats:
    """What reading an interval file kept, renamed and dropped."""

    kept: int = 0
    dropped_unknown_chrom: int = 0
    dropped_out_of_bounds: int = 0


def _scan_chrom_names(path: Path, limit: int = 100_000) -> list[str]:
    names: dict[str, None] = {}
    with open_text(path) as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                break
            if line.strip() and not line.startswith(("#", "track", "browser")):
                names[line.split("\t", 1)[0].strip()] = None
    return list(names)


def read_intervals(
    path: str | Path,
    sizes: Mapping[str, int],
    names: ChromNames,
    unknown: str = "error",
    stats: IntervalStats | None = None,
    points: bool = True,
    with_strand: bool = False,
) -> Iterator[tuple[str, int, int]] | Iterator[tuple[str, int, int, int]]:
    """Stream validated records of a BED3/BED6+/narrowPeak file, renamed to the genome.

    With ``points`` each record becomes its 1-bp summit: narrowPeak's summit column,
    else the interval's midpoint. Otherwise the interval itself is returned. With
    ``with_strand`` a fourth value is the record's strand (BED column 6): +1 for ``+``,
    -1 for ``-``, 0 when absent or ``.``.
    Records on unknown chromosomes or past a chromosome's end raise InputError (naming
    file, line and chromosome) unless ``unknown == "drop"``, when they are counted.
    """
    path = Path(path)
    stats = stats if stats is not None else IntervalStats()
    roman = names.scheme_of(_scan_chrom_names(path))
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 3:
                fields = line.split()
            if len(fields) < 3:
                raise InputError(
                    path, f"expected at least 3 tab-separated columns (chrom, start, end), got {len(fields)}", lineno
                )
            chrom_in = fields[0]
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise InputError(
                    path, f"start and end must be integers, got {fields[1]!r} and {fields[2]!r}", lineno
                ) from None
            if start < 0 or end <= start:
                raise InputError(path, f"invalid interval {start}-{end} (need 0 <= start < end)", lineno)
            chrom = names.resolve(chrom_in, roman)
            if chrom is None:
                if unknown == "drop":
                    stats.dropped_unknown_chrom += 1
                    continue
                raise InputError(
                    path,
                    f"chromosome {chrom_in!r} is not in the genome (genome has e.g. "
                    f"{', '.join(sorted(sizes)[:5])}); add it to chrom_aliases or set "
                    "unknown_chroms: drop",
                    lineno,
                )
            if end > sizes[chrom]:
                if unknown == "drop":
                    stats.dropped_out_of_bounds += 1
                    continue
                raise InputError(
                    path,
                    f"interval {chrom_in}:{start}-{end} ends past the end of {chrom} "
                    f"({sizes[chrom]} bp); set unknown_chroms: drop to skip such records",
                    lineno,
                )
            stats.kept += 1
            strand = STRAND_CODE.get(fields[5].strip(), 0) if len(fields) >= 6 else 0
            if points:
                summit = (start + end) // 2
                if len(fields) >= 10 and fields[9].lstrip("-").isdigit() and int(fields[9]) >= 0:
                    summit = start + int(fields[9])
                    if summit >= end:
                        raise InputError(
                            path, f"narrowPeak summit offset {fields[9]} lies outside {start}-{end}", lineno
                        )
                start, end = summit, summit + 1
            yield (chrom, start, end, strand) if with_strand else (chrom, start, end)
