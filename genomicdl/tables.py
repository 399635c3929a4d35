"""Tables of labelled sequences: CSV/TSV with named columns, or FASTA with the label in
each header. Records are streamed and validated; errors name the file and line."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genomicdl.errors import InputError
from genomicdl.files import open_text

_VALID_SEQ = re.compile(r"^[ACGTUNRYSWKMBDHV]+$", re.IGNORECASE)
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
    """One labelled sequence and where it came from."""

    line: int
    id: str
    seq: str
    labels: np.ndarray
    split: str | None


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
    ):
        if name.endswith(suffix):
            return fmt
    with open_text(path) as fh:
        first = next((line for line in fh if line.strip()), "")
    if first.startswith(">"):
        return "fasta"
    return "tsv" if "\t" in first else "csv"


def _label(value: str, path: str | Path, line: int, column: str) -> int:
    text = value.strip().lower()
    if text in ("1", "1.0", "true", "yes"):
        return 1
    if text in ("0", "0.0", "false", "no"):
        return 0
    raise InputError(path, f"label {column!r} must be 0 or 1, got {value!r}", line)


def _check_seq(seq: str, path: str | Path, line: int) -> str:
    if not seq:
        raise InputError(path, "empty sequence", line)
    if not _VALID_SEQ.match(seq):
        bad = sorted({c for c in seq if not _VALID_SEQ.match(c)})
        raise InputError(path, f"sequence has characters other than nucleotides: {''.join(bad)!r}", line)
    return seq


def iter_records(path: str | Path, table: Mapping[str, Any]) -> Iterator[Record]:
    """Stream the records of one table file, validated."""
    fmt = sniff_format(path, table["format"])
    if fmt == "fasta":
        yield from _iter_fasta(path, re.compile(table["label_pattern"]))
    else:
        yield from _iter_delimited(path, "," if fmt == "csv" else "\t", table)


def tasks_of(table: Mapping[str, Any], path: str | Path) -> list[str]:
    """Task names of a table: the label columns, or the FASTA task name."""
    if sniff_format(path, table["format"]) == "fasta":
        return [table["task"]]
    return list(table["label_columns"])


def _iter_delimited(path: str | Path, sep: str, table: Mapping[str, Any]) -> Iterator[Record]:
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=sep)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(path, "table is empty (no header line)") from None
        want = [table["sequence_column"], *table["label_columns"]]
        if table["id_column"]:
            want.append(table["id_column"])
        missing = [c for c in want if c not in header]
        if missing:
            raise InputError(path, f"missing column(s) {missing}; the header has {header}", 1)
        i_seq = header.index(table["sequence_column"])
        i_labels = [header.index(c) for c in table["label_columns"]]
        i_id = header.index(table["id_column"]) if table["id_column"] else None
        i_split = header.index(table["split_column"]) if table["split_column"] in header else None
        for row in reader:
            line = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InputError(path, f"expected {len(header)} columns, got {len(row)}", line)
            labels = np.array([_label(row[i], path, line, header[i]) for i in i_labels], dtype=np.uint8)
            split = None
            if i_split is not None:
                split = _SPLIT_ALIASES.get(row[i_split].strip().lower())
                if split is None:
                    raise InputError(path, f"split must be train, valid or test, got {row[i_split]!r}", line)
            yield Record(
                line,
                row[i_id] if i_id is not None else str(line - 1),
                _check_seq(row[i_seq].strip(), path, line),
                labels,
                split,
            )


def _iter_fasta(path: str | Path, pattern: re.Pattern[str]) -> Iterator[Record]:
    header, header_line, parts = None, 0, []

    def emit() -> Record:
        match = pattern.search(header)
        if match is None:
            raise InputError(path, f"no label in header {header!r} (label_pattern {pattern.pattern!r})", header_line)
        label = _label(match.group(1), path, header_line, "label")
        seq = _check_seq("".join(parts), path, header_line)
        return Record(
            header_line,
            header.split()[0] if header.split() else str(header_line),
            seq,
            np.array([label], dtype=np.uint8),
            None,
        )

    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                if header is not None:
                    yield emit()
                header, header_line, parts = line[1:].strip(), lineno, []
            elif header is None:
                raise InputError(path, "not a FASTA file: sequence before the first '>' header", lineno)
            else:
                parts.append(line)
    if header is not None:
        yield emit()
