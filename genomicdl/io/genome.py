"""Genome and interval files: FASTA via pysam, BED/narrowPeak parsing, chromosome names."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import struct
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pysam
from isal import igzip_threaded, isal_zlib

from genomicdl.core import sequence
from genomicdl.core.errors import InputError
from genomicdl.core.files import is_bgzf, is_gzip, open_text
from genomicdl.io.bgzf import BLOCK_DATA, EOF_BLOCK, block

STRAND_CODE = {"+": 1, "-": -1}  # BED strand column -> store strand (0: unknown or unstranded)
log = logging.getLogger(__name__)

# Byte -> base code (genomicdl.core.sequence, lenient DNA): A C G T/U = 0..3, anything else = N.
CODE_N = sequence.get("dna").unknown
_LUT = sequence.lenient_table("dna")


def to_codes(seq: str | bytes) -> np.ndarray:
    """Integer-code genome sequence (A,C,G,T,U -> 0..3, any other byte -> N; case-insensitive)."""
    return sequence.encode(seq, "dna", strict=False)


# Byte classes of the FASTA scan: what htslib counts as a base (isgraph) is kept and coded,
# everything else (newline, carriage return, blanks, control and non-ASCII bytes) is dropped.
_NOT_BASE = bytes(c for c in range(256) if not 0x21 <= c <= 0x7E)
_CODE_TABLE = bytes(_LUT)
CHUNK = 1 << 23  # bytes of uncompressed FASTA handled at a time
MAX_HEADER = 1 << 20  # longest header line accepted (a file without newlines is not FASTA)


def _bases(data: bytes) -> int:
    return len(data.translate(None, _NOT_BASE))


@dataclass
class FaiEntry:
    """One line of a samtools .fai index."""

    name: str
    length: int
    offset: int
    line_bases: int
    line_width: int

    def line(self) -> str:
        return f"{self.name}\t{self.length}\t{self.offset}\t{self.line_bases}\t{self.line_width}\n"


@dataclass
class _Record:
    name: str
    line: int  # line of the header
    offset: int  # uncompressed offset of the first base
    length: int = 0
    width: int = 0  # bytes per line, newline included (0: no full line yet)
    line_bases: int = 0
    first_bases: int = 0  # bases of the first line seen so far
    ended: bool = False  # a short or blank line was seen: only blank lines may follow
    partial: int = 0  # bytes of the current, unfinished line


class FastaScan:
    """One pass over a FASTA's bytes, fed in chunks of any size: writes the integer codes
    of every record to ``codes`` and collects the faidx index, checking what htslib needs
    (equal line lengths within a record) and what genomicdl needs (unique UTF-8 names)."""

    def __init__(self, *, path: str | Path, codes: BinaryIO) -> None:
        self.path = Path(path)
        self.codes = codes
        self.entries: list[FaiEntry] = []
        self._seen: dict[str, int] = {}
        self._offset = 0  # uncompressed offset of the chunk being fed
        self._line = 1  # line number at the current position
        self._at_line_start = True
        self._header: bytearray | None = None
        self._record: _Record | None = None

    def feed(self, buf: bytes) -> None:
        """Scan the next bytes of the file."""
        pos, size = 0, len(buf)
        while pos < size:
            if self._header is not None:
                pos = self._header_bytes(buf, pos)
                continue
            gt = self._next_header(buf, pos)
            end = size if gt < 0 else gt
            if end > pos:
                self._sequence(buf[pos:end] if (pos or end < size) else buf)
            if gt < 0:
                break
            self._end_record()
            self._header = bytearray()
            pos = gt + 1
        self._offset += size

    def finish(self) -> list[FaiEntry]:
        """The index, once the whole file has been fed."""
        if self._header is not None:
            self._start_record(self._offset)
        if self._record is None:
            raise InputError(self.path, "FASTA file is empty (no '>' header line)")
        rec = self._record
        if rec.partial and not rec.ended:  # a last line without newline
            self._complete_line(rec.partial + 1, self._line)
        self._end_record()
        return self.entries

    def _header_bytes(self, buf: bytes, pos: int) -> int:
        assert self._header is not None
        nl = buf.find(b"\n", pos)
        self._header += buf[pos : len(buf) if nl < 0 else nl]
        if len(self._header) > MAX_HEADER:
            raise InputError(
                self.path, f"header line longer than {MAX_HEADER} bytes (is this a FASTA file?)", self._line
            )
        if nl < 0:
            return len(buf)
        self._start_record(self._offset + nl + 1)
        self._line += 1
        self._at_line_start = True
        return nl + 1

    def _next_header(self, buf: bytes, pos: int) -> int:
        """Index of the next '>' that starts a line, or -1."""
        gt = buf.find(b">", pos)
        while gt >= 0:
            if (gt == pos and self._at_line_start) or (gt > pos and buf[gt - 1] == 10):
                return gt
            gt = buf.find(b">", gt + 1)
        return -1

    def _start_record(self, offset: int) -> None:
        assert self._header is not None
        raw, self._header = bytes(self._header), None
        words = raw.split(maxsplit=1)
        if not words:
            raise InputError(self.path, "header line '>' has no sequence name", self._line)
        try:
            name = words[0].decode("utf-8")
        except UnicodeDecodeError as err:
            column = 2 + (len(raw) - len(raw.lstrip())) + err.start
            raise InputError(
                self.path,
                f"sequence name {words[0]!r} has byte 0x{words[0][err.start]:02x} (column {column}), which is "
                "not UTF-8 text: rename the sequence",
                self._line,
            ) from None
        if name in self._seen:
            raise InputError(
                self.path,
                f"sequence name {name!r} appears twice, on lines {self._seen[name]} and {self._line}: "
                "names must be unique",
                self._line,
            )
        self._seen[name] = self._line
        self._record = _Record(name=name, line=self._line, offset=offset)

    def _end_record(self) -> None:
        rec = self._record
        if rec is None:
            return
        if rec.length == 0:
            raise InputError(self.path, f"sequence {rec.name!r} has no bases", rec.line)
        self.entries.append(FaiEntry(rec.name, rec.length, rec.offset, rec.line_bases, rec.width))

    def _sequence(self, seg: bytes) -> None:
        """Bytes of the current record's sequence lines (or, before any record, junk)."""
        if self._record is None:
            self._preamble(seg)
            return
        codes = seg.translate(_CODE_TABLE, _NOT_BASE)
        self.codes.write(codes)
        self._record.length += len(codes)
        newlines = np.flatnonzero(np.frombuffer(seg, dtype=np.uint8) == 10)
        self._check_lines(seg, newlines)
        self._line += len(newlines)
        self._at_line_start = seg[-1] == 10

    def _preamble(self, seg: bytes) -> None:
        text = seg.lstrip()
        if text:
            line = self._line + seg[: len(seg) - len(text)].count(b"\n")
            raise InputError(self.path, "not a FASTA file: first line does not start with '>'", line)
        self._line += seg.count(b"\n")
        self._at_line_start = seg[-1] == 10

    def _check_lines(self, seg: bytes, newlines: np.ndarray) -> None:
        """Line lengths as faidx needs them: all equal but the last of each record."""
        rec = self._record
        assert rec is not None
        if newlines.size == 0:
            self._open_line(rec, seg, 0, self._line)
            return
        widths = np.diff(newlines, prepend=-1)
        widths[0] += rec.partial
        start = 0
        if not rec.width and not rec.ended:
            rec.first_bases += _bases(seg[: newlines[0]])
            self._complete_line(int(widths[0]), self._line)
            start = 1
        if not rec.ended:
            odd = np.flatnonzero(widths[start:] != rec.width)
            start = len(widths) if not odd.size else start + int(odd[0])
            if start < len(widths):
                self._complete_line(int(widths[start]), self._line + start)
                start += 1
        if rec.ended:
            for j in range(start, len(newlines)):
                self._blank_only(seg[newlines[j - 1] + 1 if j else 0 : newlines[j]], self._line + j)
        rec.partial = 0
        self._open_line(rec, seg, int(newlines[-1]) + 1, self._line + len(newlines))

    def _open_line(self, rec: _Record, seg: bytes, start: int, line: int) -> None:
        """The unfinished last line of a segment (``seg[start:]``, on line ``line``)."""
        rest = seg[start:] if start else seg
        rec.partial += len(rest)
        if rec.ended:
            self._blank_only(rest, line)
        elif not rec.width:
            rec.first_bases += _bases(rest)

    def _complete_line(self, width: int, line: int) -> None:
        """A sequence line of ``width`` bytes (newline included) that breaks the pattern."""
        rec = self._record
        assert rec is not None
        if not rec.width:
            if rec.first_bases == 0:
                rec.ended = True
            else:
                rec.width, rec.line_bases = width, rec.first_bases
        elif width > rec.width:
            raise InputError(
                self.path,
                f"line of {width - 1} characters in sequence {rec.name!r}, whose lines have {rec.width - 1}: "
                "faidx needs equal line lengths within a sequence (rewrap it, e.g. `seqkit seq -w 60`)",
                line,
            )
        elif width < rec.width:
            rec.ended = True

    def _blank_only(self, data: bytes, line: int) -> None:
        rec = self._record
        assert rec is not None
        if _bases(data):
            raise InputError(
                self.path,
                f"sequence {rec.name!r} goes on after a shorter or blank line: faidx needs equal line "
                "lengths within a sequence (rewrap it, e.g. `seqkit seq -w 60`)",
                line,
            )


# ---------------------------------------------------------------- genome preparation


def prepare_genome(src: str | Path, out: str | Path, *, threads: int = 1) -> Path:
    """Make ``out`` an indexed FASTA holding ``src``, with its integer codes beside it.

    One streaming pass reads ``src`` and writes, as it goes, ``<out>.codes`` (every base
    integer-coded, one byte per base, the sequences in file order), the faidx index
    ``<out>.fai`` and the BGZF index ``<out>.gzi``. A plain or BGZF FASTA is indexable as
    it is and is hard-linked (copied across file systems), never recompressed; a plain
    gzip is decompressed with ISA-L and recompressed to BGZF on ``threads`` threads while
    it is read. The files appear together or not at all.
    """
    src, out = Path(src), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    made = [tmp, Path(f"{tmp}.fai"), Path(f"{tmp}.gzi"), codes_path(tmp)]
    try:
        entries, index = _scan_into(src, tmp, made[3], threads=threads)
        made[1].write_text("".join(entry.line() for entry in entries))
        _write_gzi(made[2], index)
        for path in made[1:]:
            os.replace(path, str(path).replace(str(tmp), str(out)))
        os.replace(tmp, out)
    finally:
        for path in made:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return out


def _scan_into(src: Path, fasta: Path, codes: Path, *, threads: int) -> tuple[list[FaiEntry], list[tuple[int, int]]]:
    """Read ``src`` once: the FASTA copy to ``fasta``, codes to ``codes``; the indexes."""
    index: list[tuple[int, int]] = []
    try:
        kind = "bgzf" if is_bgzf(src) else "gzip" if is_gzip(src) else "plain"
        with open(codes, "wb") as fh:
            scan = FastaScan(path=src, codes=fh)
            if kind == "gzip":
                log.info("genome %s is plain gzip: recompressing it to BGZF on %d threads as it is read", src, threads)
                with BgzfThreaded(fasta, threads=threads) as writer:
                    for chunk in _gzip_chunks(src):
                        writer.write(chunk)
                        scan.feed(chunk)
                index = writer.index
            else:
                log.info("genome %s is %s: indexing it as it is", src, "BGZF" if kind == "bgzf" else "uncompressed")
                _link_or_copy(src, fasta)
                for chunk in _bgzf_chunks(src, index) if kind == "bgzf" else _plain_chunks(src):
                    scan.feed(chunk)
            return scan.finish(), index
    except (EOFError, OSError, isal_zlib.error) as err:
        raise InputError(src, f"cannot read FASTA ({err})") from err


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _write_gzi(path: Path, index: list[tuple[int, int]]) -> None:
    """htslib's .gzi: the count, then (compressed, uncompressed) offsets of every block
    but the first, little-endian uint64 (empty for an uncompressed FASTA)."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(index)))
        fh.write(np.asarray(index, dtype="<u8").tobytes())


def _plain_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _gzip_chunks(path: Path) -> Iterator[bytes]:
    """Decompressed bytes of a gzip file (ISA-L, in a reader thread)."""
    with igzip_threaded.open(path, "rb", threads=1) as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


_GZIP_HEAD = struct.Struct("<4BI2BH")  # ID1 ID2 CM FLG MTIME XFL OS XLEN


def _bgzf_size(path: Path, data: bytes, pos: int, offset: int) -> tuple[int, int]:
    """(block size, header size) of the BGZF block at ``data[pos:]`` (file offset ``offset``)."""
    id1, id2, method, flags, _, _, _, xlen = _GZIP_HEAD.unpack_from(data, pos)
    extra = data[pos + _GZIP_HEAD.size : pos + _GZIP_HEAD.size + xlen]
    while (id1, id2, method) == (0x1F, 0x8B, 8) and flags & 4 and len(extra) >= 6:
        length = struct.unpack_from("<H", extra, 2)[0]
        if extra[:2] == b"BC" and length == 2:
            return struct.unpack_from("<H", extra, 4)[0] + 1, _GZIP_HEAD.size + xlen
        extra = extra[4 + length :]
    raise InputError(path, f"not a BGZF block at byte {offset} (file damaged, or gzip and BGZF concatenated)")


def _bgzf_blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """(file offset, decompressed data) of every block of a BGZF file, CRC-checked."""
    with open(path, "rb") as fh:
        data, pos, base = b"", 0, 0
        while True:
            if len(data) - pos < 0x10000:
                data, base, pos = data[pos:] + fh.read(max(CHUNK, 1 << 17)), base + pos, 0
                if pos == len(data):
                    return
            if len(data) - pos < _GZIP_HEAD.size + 6:
                raise InputError(path, f"BGZF file truncated at byte {base + pos}")
            size, head = _bgzf_size(path, data, pos, base + pos)
            if pos + size > len(data):
                raise InputError(path, f"BGZF file truncated in the block at byte {base + pos}")
            crc, isize = struct.unpack_from("<II", data, pos + size - 8)
            try:
                out = isal_zlib.decompress(data[pos + head : pos + size - 8], -15)
            except isal_zlib.error as err:
                raise InputError(path, f"BGZF block at byte {base + pos} is corrupt ({err})") from None
            if len(out) != isize or isal_zlib.crc32(out) != crc:
                raise InputError(path, f"BGZF block at byte {base + pos} is corrupt (CRC or size mismatch)")
            yield base + pos, out
            pos += size


def _bgzf_chunks(path: Path, index: list[tuple[int, int]]) -> Iterator[bytes]:
    """Decompressed bytes of a BGZF file in chunks; fills ``index`` as htslib's .gzi."""
    pieces: list[bytes] = []
    size = offset = 0
    for coffset, data in _bgzf_blocks(path):
        if not data:
            continue
        if offset:
            index.append((coffset, offset))
        offset += len(data)
        pieces.append(data)
        size += len(data)
        if size >= CHUNK:
            yield b"".join(pieces)
            pieces, size = [], 0
    if pieces:
        yield b"".join(pieces)


def _compress_blocks(data: bytes | memoryview, level: int) -> list[tuple[bytes, int]]:
    return [
        (block(data[i : i + BLOCK_DATA], level), min(BLOCK_DATA, len(data) - i))
        for i in range(0, len(data), BLOCK_DATA)
    ]


class BgzfThreaded:
    """A BGZF writer that compresses on ``threads`` threads (ISA-L releases the GIL) and
    records the block offsets of the .gzi index as it writes."""

    def __init__(self, path: str | Path, *, threads: int = 1, level: int = 1) -> None:
        self.level = level
        self.index: list[tuple[int, int]] = []
        self._threads = max(1, threads)
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 (closed by close())
        self._pool = ThreadPoolExecutor(self._threads)
        self._jobs: deque[Future[list[tuple[bytes, int]]]] = deque()
        self._rest = bytearray()  # the start of the next block
        self._coffset = self._offset = 0

    def write(self, data: bytes) -> None:
        """Queue ``data``; whole blocks go to the threads without being copied."""
        view, start = memoryview(data), 0
        if self._rest:
            start = min(len(data), BLOCK_DATA - len(self._rest))
            self._rest += data[:start]
            if len(self._rest) < BLOCK_DATA:
                return
            self._submit(bytes(self._rest))
            self._rest.clear()
        end = start + (len(data) - start) // BLOCK_DATA * BLOCK_DATA
        if end > start:
            self._submit(view[start:end])
        self._rest += view[end:]

    def _submit(self, data: bytes | memoryview) -> None:
        self._jobs.append(self._pool.submit(_compress_blocks, data, self.level))
        while len(self._jobs) > self._threads:
            self._drain()

    def _drain(self) -> None:
        for data, size in self._jobs.popleft().result():
            if self._offset:
                self.index.append((self._coffset, self._offset))
            self._fh.write(data)
            self._coffset += len(data)
            self._offset += size

    def close(self) -> None:
        if self._fh.closed:
            return
        if self._rest:
            self._submit(bytes(self._rest))
            self._rest.clear()
        while self._jobs:
            self._drain()
        self._fh.write(EOF_BLOCK)
        self._fh.close()
        self._pool.shutdown()

    def __enter__(self) -> BgzfThreaded:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.close()
        else:
            self._pool.shutdown(cancel_futures=True)
            self._fh.close()


def codes_path(fasta: str | Path) -> Path:
    """Where prepare_genome puts the integer-coded copy of a genome."""
    return Path(f"{fasta}.codes")


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


def _bed_fields(line: str, path: Path, lineno: int) -> tuple[list[str], int, int]:
    """Columns, start and end of a BED line, validated."""
    fields = line.rstrip("\n\r").split("\t")
    if len(fields) < 3:
        fields = line.split()
    if len(fields) < 3:
        raise InputError(
            path, f"expected at least 3 tab-separated columns (chrom, start, end), got {len(fields)}", lineno
        )
    try:
        start, end = int(fields[1]), int(fields[2])
    except ValueError:
        raise InputError(path, f"start and end must be integers, got {fields[1]!r} and {fields[2]!r}", lineno) from None
    if start < 0 or end <= start:
        raise InputError(path, f"invalid interval {start}-{end} (need 0 <= start < end)", lineno)
    return fields, start, end


def _on_genome(
    chrom_in: str,
    chrom: str | None,
    span: tuple[int, int],
    sizes: Mapping[str, int],
    where: tuple[Path, int],
    unknown: str,
    stats: IntervalStats,
) -> bool:
    """Whether a record lies on the genome; records off it raise InputError, or are
    counted and skipped with ``unknown == "drop"``."""
    path, lineno = where
    start, end = span
    if chrom is None:
        if unknown == "drop":
            stats.dropped_unknown_chrom += 1
            return False
        raise InputError(
            path,
            f"chromosome {chrom_in!r} is not in the genome (genome has e.g. {', '.join(sorted(sizes)[:5])}); "
            "add it to chrom_aliases or set unknown_chroms: drop",
            lineno,
        )
    if end > sizes[chrom]:
        if unknown == "drop":
            stats.dropped_out_of_bounds += 1
            return False
        raise InputError(
            path,
            f"interval {chrom_in}:{start}-{end} ends past the end of {chrom} ({sizes[chrom]} bp); "
            "set unknown_chroms: drop to skip such records",
            lineno,
        )
    return True


def _summit(fields: list[str], start: int, end: int, path: Path, lineno: int) -> int:
    """narrowPeak's summit (column 10, an offset from start), else the midpoint."""
    if len(fields) >= 10 and fields[9].lstrip("-").isdigit() and int(fields[9]) >= 0:
        summit = start + int(fields[9])
        if summit >= end:
            raise InputError(path, f"narrowPeak summit offset {fields[9]} lies outside {start}-{end}", lineno)
        return summit
    return (start + end) // 2


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
            fields, start, end = _bed_fields(line, path, lineno)
            chrom = names.resolve(fields[0], roman)
            if not _on_genome(fields[0], chrom, (start, end), sizes, (path, lineno), unknown, stats):
                continue
            stats.kept += 1
            strand = STRAND_CODE.get(fields[5].strip(), 0) if len(fields) >= 6 else 0
            if points:
                start = _summit(fields, start, end, path, lineno)
                end = start + 1
            yield (chrom, start, end, strand) if with_strand else (chrom, start, end)
