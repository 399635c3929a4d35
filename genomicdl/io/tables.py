"""Reading tables of labelled sequences: CSV/TSV with named columns, or FASTA with the
label in each header. Records are streamed and validated (errors name the file and
line); labels stay raw strings here and are parsed for the target kind by
:mod:`genomicdl.datasets.labels`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomicdl.core.errors import InputError
from genomicdl.core.files import MAX_LINE, bounded_lines, csv_rows, open_text, printable_prefix

SNIFF_BYTES = 1 << 16  # what format sniffing reads at most
FIELD_LIMIT = 1 << 24  # longest field or FASTA record read when a table names no max_field
FIELD_FACTOR = 4  # max_field = 4 x the dataset's max_length (labels may be longer than the sequence), >= 1 MiB


def field_limit(max_length: int) -> int:
    """The longest field, line or FASTA record read for a dataset whose sequences are at
    most ``max_length`` long (longer ones are an error naming the line, not a read of
    gigabytes)."""
    return max(MAX_LINE, FIELD_FACTOR * int(max_length))


TOO_LONG_HINT = "a field or record past 4 x max_length (raise the dataset's max_length if it is real data)"


def _max_field(table: Mapping[str, Any]) -> int:
    return int(table.get("max_field") or FIELD_LIMIT)


_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "valid": "valid",
    "val": "valid",
    "validation": "valid",
    "test": "test",
    "testing": "test",
}


@dataclass
class Record:
    """One labelled sequence and where it came from; ``labels`` are the raw label
    strings (one per label column), ``mask`` an optional per-position mask string."""

    line: int
    id: str
    seq: str
    labels: list[str]
    split: str | None
    mask: str | None = None
    group: str | None = None  # cross-validation partition (split.folds column)


def sniff_format(path: str | Path, declared: str = "auto") -> str:
    """csv, tsv or fasta: as declared, else from the file name, else from the content."""
    if declared != "auto":
        return declared
    name = str(path).lower().removesuffix(".gz").removesuffix(".bgz")
    for suffix, fmt in (
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".txt", "tsv"),
        (".seq", "tsv"),
        (".fa", "fasta"),
        (".fasta", "fasta"),
        (".fna", "fasta"),
        (".faa", "fasta"),
    ):
        if name.endswith(suffix):
            return fmt
    with open_text(path) as fh:
        first = fh.readline(SNIFF_BYTES)
        while first and not first.strip():
            first = fh.readline(SNIFF_BYTES)
    if first.startswith(">"):
        return "fasta"
    return "tsv" if "\t" in first else "csv"


def parse_split(value: str, path: str | Path, line: int) -> str:
    split = _SPLIT_ALIASES.get(value.strip().lower())
    if split is None:
        raise InputError(path, f"split must be train, valid or test, got {printable(value)!r}", line)
    return split


def printable(text: str, limit: int = 40) -> str:
    """A short printable prefix of untrusted text, for error messages."""
    clean = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return clean + ("..." if len(text) > limit else "")


def iter_records(
    path: str | Path, table: Mapping[str, Any], paired: Mapping[str, str] | None = None
) -> Iterator[Record]:
    """Stream the records of one table file. ``paired`` may name a FASTA of per-residue
    labels (``labels``) and one of 0/1 masks (``mask``) matched to the sequences by id
    (FLIP's layout); the split then comes from the label file's headers."""
    fmt = sniff_format(path, table["format"])
    paired = dict(paired or {})
    limit = _max_field(table)
    if fmt == "fasta" and paired.get("labels"):
        yield from _iter_paired(path, table, paired, limit)
    elif fmt == "fasta":
        yield from _iter_fasta(path, table, limit)
    else:
        yield from _iter_delimited(path, "," if fmt == "csv" else "\t", table, limit)


def tasks_of(table: Mapping[str, Any], path: str | Path) -> list[str]:
    """Label names of a table: the label columns, or the FASTA task name."""
    if sniff_format(path, table["format"]) == "fasta":
        return [table["task"]]
    return list(table["label_columns"])


def header_split(header: str, table: Mapping[str, Any], path: str | Path, line: int) -> str | None:
    """The split a FASTA header names: the first group of ``split_pattern`` (train, valid,
    test or an alias), turned into valid when ``valid_pattern`` also matches a train
    record (FLIP: ``SET=train VALIDATION=True``); None without a split_pattern."""
    pattern = table.get("split_pattern")
    if not pattern:
        return None
    match = re.search(pattern, header)
    if match is None:
        raise InputError(path, f"no split in header {printable(header)!r} (split_pattern {pattern!r})", line)
    split = parse_split(match.group(1), path, line)
    valid = table.get("valid_pattern")
    if split == "train" and valid and re.search(valid, header):
        return "valid"
    return split


def _columns(header: list[str], table: Mapping[str, Any], path: str | Path, sep: str) -> dict[str, Any]:
    want = [table["sequence_column"], *table["label_columns"]]
    want += [table[k] for k in ("id_column", "mask_column", "group_column") if table.get(k)]
    missing = [c for c in want if c not in header]
    if missing:
        shown = printable_prefix(sep.join(header))  # the file may be anything: a short printable prefix only
        raise InputError(path, f"missing column(s) {missing}; the header starts {shown}", 1)

    def at(key: str) -> int | None:
        name = table.get(key)
        return header.index(name) if name and name in header else None

    return {
        "seq": header.index(table["sequence_column"]),
        "labels": [header.index(c) for c in table["label_columns"]],
        "id": at("id_column"),
        "split": at("split_column"),
        "mask": at("mask_column"),
        "group": at("group_column"),
    }


def _header(rows: Iterator[tuple[int, list[str]]], table: Mapping[str, Any], path: str | Path) -> list[str]:
    """Column names: ``table.columns`` for a file without a header line, else its first line."""
    if table.get("columns"):
        return list(table["columns"])
    for _, row in rows:
        return [h.strip() for h in row]
    raise InputError(path, "table is empty (no header line)")


def _iter_delimited(path: str | Path, sep: str, table: Mapping[str, Any], limit: int) -> Iterator[Record]:
    """Records of a CSV/TSV file; fields and lines read with the bound ``limit``."""
    with open_text(path) as fh:
        rows = csv_rows(fh, path=path, delimiter=sep, max_field=limit, max_line=limit + 1, hint=TOO_LONG_HINT)
        header = _header(rows, table, path)
        col = _columns(header, table, path, sep)
        for line, row in rows:
            if not row or not any(cell.strip() for cell in row):
                continue
            if row == header:  # a header repeated where files were joined
                continue
            if len(row) != len(header):
                raise InputError(path, f"expected {len(header)} columns, got {len(row)}", line)
            yield Record(
                line,
                row[col["id"]].strip() if col["id"] is not None else str(line - 1),
                "".join(row[col["seq"]].split()),  # residues may be space-separated (NetSurfP CSV)
                [row[i] for i in col["labels"]],
                parse_split(row[col["split"]], path, line) if col["split"] is not None else None,
                row[col["mask"]] if col["mask"] is not None else None,
                row[col["group"]].strip() if col["group"] is not None else None,
            )


def read_fasta(path: str | Path, limit: int = FIELD_LIMIT) -> Iterator[tuple[int, str, str]]:
    """(line of the header, header without '>', sequence) of each FASTA record; lines and
    records longer than ``limit`` characters are an InputError naming the line."""
    header, header_line, parts, size = None, 0, [], 0
    with open_text(path) as fh:
        for lineno, line in enumerate(bounded_lines(fh, path=path, limit=limit, hint=TOO_LONG_HINT), start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                if header is not None:
                    yield header_line, header, "".join(parts)
                header, header_line, parts, size = line[1:].strip(), lineno, [], 0
            elif header is None:
                raise InputError(path, "not a FASTA file: sequence before the first '>' header", lineno)
            else:
                size += len(line)
                if size > limit:
                    raise InputError(path, f"record longer than {limit:,} characters: {TOO_LONG_HINT}", header_line)
                parts.append(line)
    if header is not None:
        yield header_line, header, "".join(parts)


def _record_id(header: str, line: int) -> str:
    return header.split()[0] if header.split() else str(line)


def _iter_fasta(path: str | Path, table: Mapping[str, Any], limit: int) -> Iterator[Record]:
    pattern = re.compile(table["label_pattern"])
    for line, header, seq in read_fasta(path, limit):
        match = pattern.search(header)
        if match is None:
            raise InputError(
                path, f"no label in header {printable(header)!r} (label_pattern {pattern.pattern!r})", line
            )
        yield Record(line, _record_id(header, line), seq, [match.group(1)], header_split(header, table, path, line))


def _by_id(path: str | Path, limit: int) -> dict[str, tuple[int, str, str]]:
    """id -> (line, header, text) of a FASTA file; a repeated id is an error."""
    out: dict[str, tuple[int, str, str]] = {}
    for line, header, text in read_fasta(path, limit):
        rid = _record_id(header, line)
        if rid in out:
            raise InputError(path, f"record id {printable(rid)!r} appears twice (first at line {out[rid][0]})", line)
        out[rid] = (line, header, text)
    return out


def _iter_paired(path: str | Path, table: Mapping[str, Any], paired: Mapping[str, str], limit: int) -> Iterator[Record]:
    """Sequences in one FASTA, per-residue labels (and masks) in others, matched by id.
    The labels and masks are held in memory (one string per record, the size of the
    sequences); every sequence needs its labels, and a label without a sequence is an error."""
    labels = _by_id(paired["labels"], limit)
    masks = _by_id(paired["mask"], limit) if paired.get("mask") else None
    seen = 0
    for line, header, seq in read_fasta(path, limit):
        rid = _record_id(header, line)
        if rid not in labels:
            raise InputError(paired["labels"], f"no labels for record {printable(rid)!r} of {path} (line {line})")
        if masks is not None and rid not in masks:
            raise InputError(paired["mask"], f"no mask for record {printable(rid)!r} of {path} (line {line})")
        seen += 1
        lab_line, lab_header, lab = labels[rid]
        split = header_split(lab_header, table, paired["labels"], lab_line)
        yield Record(line, rid, seq, [lab], split, masks[rid][2] if masks is not None else None)
    if seen != len(labels):
        raise InputError(paired["labels"], f"{len(labels) - seen} labelled record(s) have no sequence in {path}")
