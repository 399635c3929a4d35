"""Streaming VCF access: the header through pysam (htslib), the records line by line.

Records are read as text so that every problem can be reported with its line number,
one line at a time (memory does not depend on the file's size). Multi-allelic records
are split into one allele per record; INFO values with one entry per allele (Number=A)
or per allele including REF (Number=R) are subset to the allele, per-genotype ones
(Number=G) dropped. Output VCFs are sites-only (no sample columns).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pysam

from genomicdl.core.errors import InputError
from genomicdl.core.files import open_text

DNA = re.compile(r"^[ACGTNacgtn]+$")
FIXED = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")


@dataclass
class Allele:
    """One allele of a VCF record, as read (``problem`` is set when the line is malformed)."""

    line: int
    chrom: str
    pos: int  # 1-based, as in the file
    id: str
    ref: str
    alt: str
    qual: str
    filter: str
    info: str
    problem: str | None = None


class VcfReader:
    """A VCF or VCF.gz (plain gzip or BGZF): header via pysam, records streamed."""

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        self.path = str(path)
        self.name = name or self.path
        quiet = pysam.set_verbosity(0)  # htslib would complain, on stderr, that there is no index
        try:
            with pysam.VariantFile(self.path) as vf:
                self.header = vf.header.copy()
        except (ValueError, OSError) as err:
            raise InputError(self.name, f"not a VCF file: htslib cannot read its header ({err})") from None
        finally:
            pysam.set_verbosity(quiet)
        self.info_number = {key: str(meta.number) for key, meta in self.header.info.items()}
        self.contigs = list(self.header.contigs)
        self.meta: list[str] = []
        self.header_lines = 0
        with open_text(self.path) as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                self.header_lines += 1
                if line.startswith("##"):
                    self.meta.append(line.rstrip("\r\n"))

    def chrom_names(self) -> list[str]:
        """Chromosome names of the header's contigs, then of the well-formed records (a
        streamed pass over the file's first two columns)."""
        names = dict.fromkeys(self.contigs)
        with open_text(self.path) as fh:
            for lineno, line in enumerate(fh, start=1):
                if lineno > self.header_lines:
                    fields = line.split("\t", 2)
                    if len(fields) == 3 and fields[0] and fields[1].isdigit():
                        names[fields[0]] = None
        return list(names)

    def _lines(self) -> Iterator[tuple[int, list[str]]]:
        with open_text(self.path) as fh:
            for lineno, line in enumerate(fh, start=1):
                if lineno <= self.header_lines:
                    continue
                yield lineno, line.rstrip("\r\n").split("\t")

    def alleles(self) -> Iterator[Allele]:
        """Every allele of every record, in file order; malformed lines come as one
        Allele whose ``problem`` says what is wrong."""
        for lineno, fields in self._lines():
            if len(fields) < 8:
                problem = (
                    "empty line"
                    if fields == [""]
                    else (f"expected at least 8 tab-separated columns ({' '.join(FIXED)}), got {len(fields)}")
                )
                yield Allele(lineno, fields[0], 0, "", "", "", "", "", "", problem)
                continue
            chrom, pos_text, vid, ref, alts, qual, filt, info = fields[:8]
            problem = None
            if not pos_text.isdigit() or int(pos_text) < 1:
                problem = f"POS {pos_text!r} is not a positive integer"
            elif not DNA.match(ref):
                problem = f"REF {ref!r} is not a sequence of A, C, G, T, N"
            elif not chrom:
                problem = "CHROM is empty"
            pos = int(pos_text) if problem is None else 0
            if problem:
                yield Allele(lineno, chrom, pos, vid, ref, alts, qual, filt, info, problem)
                continue
            split = alts.split(",")
            for k, alt in enumerate(split):
                sub = info if len(split) == 1 else self.subset_info(info, k, len(split))
                yield Allele(lineno, chrom, pos, vid, ref, alt, qual, filt, sub)

    def subset_info(self, info: str, k: int, n_alts: int) -> str:
        """INFO of allele ``k`` of ``n_alts``: Number=A/R values subset, Number=G dropped."""
        if info in ("", "."):
            return info
        kept = []
        for item in info.split(";"):
            key, eq, value = item.partition("=")
            number = self.info_number.get(key, ".")
            if eq and number in ("A", "R"):
                values = value.split(",")
                wanted = [k] if number == "A" else [0, k + 1]
                if all(i < len(values) for i in wanted):
                    kept.append(f"{key}={','.join(values[i] for i in wanted)}")
                continue
            if number == "G":
                continue
            kept.append(item)
        return ";".join(kept) or "."

    def output_header(
        self, info_lines: list[str], meta_lines: list[str], drop_prefix: str, contigs: list[str] | None = None
    ) -> str:
        """The sites-only header of the annotated VCF: the input's meta lines (less
        FORMAT lines and INFO fields starting with ``drop_prefix``), contig lines for
        ``contigs`` the input did not declare, then ours."""
        extra = [f"##contig=<ID={c}>" for c in contigs or [] if c not in self.contigs]
        keep = [
            line
            for line in self.meta
            if not line.startswith("##FORMAT=") and not line.startswith(f"##INFO=<ID={drop_prefix}")
        ]
        if not keep or not keep[0].startswith("##fileformat="):
            keep.insert(0, "##fileformat=VCFv4.2")
        return "\n".join([*keep, *extra, *info_lines, *meta_lines, "#" + "\t".join(FIXED)]) + "\n"


def allele_kind(alt: str, max_length: int, ref: str) -> str | None:
    """Why an ALT allele cannot be scored (None when it can)."""
    if alt in (".", ""):
        return "no_alt"
    if not DNA.match(alt) or "N" in alt.upper():
        return "unsupported_allele"  # symbolic (<DEL>), *, breakends, N
    if max(len(alt), len(ref)) > max_length:
        return "allele_too_long"
    return None


def drop_info(info: str, prefix: str) -> str:
    """INFO without fields whose key starts with ``prefix`` (re-annotation)."""
    if info in ("", "."):
        return ""
    return ";".join(item for item in info.split(";") if not item.startswith(prefix))
