"""Tables of labelled sequences: CSV/TSV with named columns, or FASTA with the label in
each header. Records are streamed and validated (errors name the file and line), twice:
a scan (lengths, label counts, sequence hashes for the leakage check), then encoding
into the dataset store."""

from __future__ import annotations

import csv
import logging
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genomicdl.encode import KIND_CODE, SPLIT_CODE, SPLITS, StoreWriter
from genomicdl.errors import GenomicdlError, InputError
from genomicdl.files import open_text, write_json_atomic, write_text_atomic
from genomicdl.genome import CODE_N, to_codes
from genomicdl.negatives import dinucleotide_shuffle, gc_fraction, stable_seed
from genomicdl.summary import DatasetReport, per_positive_count

log = logging.getLogger(__name__)

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


# ------------------------------------------------------------------ building the store


def _fit(seq: str, window: int) -> tuple[np.ndarray, int]:
    """Codes of ``seq`` centre-cropped or N-padded to ``window``; -1 crop, +1 pad, 0 fit."""
    codes = to_codes(seq)
    n = len(codes)
    if n == window:
        return codes, 0
    if n > window:
        lo = (n - window) // 2
        return codes[lo : lo + window], -1
    out = np.full(window, CODE_N, dtype=np.uint8)
    lo = (window - n) // 2
    out[lo : lo + n] = codes
    return out, 1


def _hash(codes: np.ndarray) -> int:
    return stable_seed(codes.tobytes())


def build_table_dataset(
    ds: Mapping[str, Any], files: Mapping[str, str], out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Labelled sequences (one file or one per split) -> store, summary and GC table."""
    t0 = time.time()
    table, split_cfg, seed = ds["table"], ds["split"], int(ds["seed"])
    roles = [r for r in ("table", "table.train", "table.valid", "table.test") if r in files]
    tasks = tasks_of(table, files[roles[0]])
    for role in roles[1:]:
        if tasks_of(table, files[role]) != tasks:
            raise InputError(
                files[role], f"tasks {tasks_of(table, files[role])} differ from {tasks} of {files[roles[0]]}"
            )
    has_valid_file = "table.valid" in files
    has_test_file = "table.test" in files

    valid_frac = 0.0 if has_valid_file else float(split_cfg["valid"])
    test_frac = 0.0 if has_test_file else float(split_cfg["test"])

    def split_stream(role: str) -> Iterator[tuple[Any, str]]:
        """Records of one file with their split (the same seeded draws in both passes)."""
        rng = np.random.default_rng(stable_seed("table-split", seed, role))
        fixed = role.split(".")[1] if "." in role else None
        for rec in iter_records(files[role], table):
            u = rng.random()
            if fixed in ("valid", "test"):
                yield rec, fixed
            elif rec.split is not None:
                yield rec, rec.split
            else:
                yield rec, ("valid" if u < valid_frac else "test" if u < valid_frac + test_frac else "train")

    # pass 1: lengths, label counts per split, sequence hashes for the leakage check
    max_len, n_records = 0, 0
    neg_seen = {s: 0 for s in SPLITS}
    pos_seen = {s: 0 for s in SPLITS}
    hashes: dict[str, list[int]] = {s: [] for s in SPLITS}
    window = ds["window"]
    for role in roles:
        for rec, split in split_stream(role):
            n_records += 1
            max_len = max(max_len, len(rec.seq))
            pos_seen[split] += int(rec.labels.any())
            neg_seen[split] += int((rec.labels == 0).any())
            hashes[split].append(_hash(to_codes(rec.seq)))
    if n_records == 0:
        raise InputError(files[roles[0]], "no records")
    window = int(window or max_len)
    hash_sets = {s: np.unique(np.array(h, dtype=np.uint64)) for s, h in hashes.items()}
    del hashes
    leaks = {
        ("train", "valid"): np.intersect1d(hash_sets["train"], hash_sets["valid"]),
        ("train", "test"): np.intersect1d(hash_sets["train"], hash_sets["test"]),
        ("valid", "test"): np.intersect1d(hash_sets["valid"], hash_sets["test"]),
    }
    n_leaks = {f"{a}/{b}": len(v) for (a, b), v in leaks.items() if len(v)}
    policy = split_cfg["leakage"]
    if n_leaks:
        message = f"leakage: sequences shared between splits: {n_leaks}"
        if policy == "fail":
            raise GenomicdlError(f"{message} (set split.leakage: drop to drop them from train/valid, or warn)")
        log.warning("%s; %s", message, "dropping the copies from train/valid" if policy == "drop" else "kept")
    drop = {
        "train": np.union1d(leaks[("train", "valid")], leaks[("train", "test")]),
        "valid": leaks[("valid", "test")],
        "test": np.empty(0, dtype=np.uint64),
    }
    complete = {s for s in SPLITS if pos_seen[s] and not neg_seen[s]}
    if complete:
        log.info(
            "splits %s hold positives only: adding %s dinucleotide-shuffled negatives per positive",
            sorted(complete),
            ds["negatives"]["per_positive"],
        )

    # pass 2: encode and write
    report = DatasetReport(tasks)
    writer = StoreWriter(out_store, window, tasks, [""], attrs={"dataset_kind": "table"}, ids=True)
    fitted = {"cropped": 0, "padded": 0}
    try:
        buf: dict[str, list[Any]] = {k: [] for k in ("seq", "labels", "split", "kind", "id")}

        def flush() -> None:
            if not buf["seq"]:
                return
            codes = np.stack(buf["seq"])
            labels = np.stack(buf["labels"])
            split = np.array(buf["split"], dtype=np.uint8)
            kind = np.array(buf["kind"], dtype=np.uint8)
            gc, _ = gc_fraction(codes)
            n = len(codes)
            writer.append(codes, labels, split, np.zeros(n, np.uint16), np.full(n, -1, np.int64), gc, kind, buf["id"])
            report.add(split, labels, gc, kind)
            for v in buf.values():
                v.clear()

        for role in roles:
            for rec, split in split_stream(role):
                codes, fit = _fit(rec.seq, window)
                if fit < 0:
                    fitted["cropped"] += 1
                elif fit > 0:
                    fitted["padded"] += 1
                if policy == "drop" and len(drop[split]) and np.isin(np.uint64(_hash(to_codes(rec.seq))), drop[split]):
                    report.drop(f"{split} sequences also in a held-out split", 1)
                    continue
                code = SPLIT_CODE[split]
                buf["seq"].append(codes)
                buf["labels"].append(rec.labels)
                buf["split"].append(code)
                buf["kind"].append(KIND_CODE["table"])
                buf["id"].append(rec.id)
                if split in complete and rec.labels.any():
                    count = per_positive_count(
                        float(ds["negatives"]["per_positive"]), "table-shuffle", seed, role, rec.line
                    )
                    for k in range(count):
                        rng = np.random.default_rng(stable_seed("dinuc", seed, role, rec.line, k))
                        buf["seq"].append(dinucleotide_shuffle(codes, rng))
                        buf["labels"].append(np.zeros_like(rec.labels))
                        buf["split"].append(code)
                        buf["kind"].append(KIND_CODE["table_shuffle"])
                        buf["id"].append(f"{rec.id}|shuffle{k}")
                if len(buf["seq"]) >= 8192:
                    flush()
        flush()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    if fitted["cropped"] or fitted["padded"]:
        log.info(
            "sequences fitted to %d bp: %d centre-cropped, %d N-padded", window, fitted["cropped"], fitted["padded"]
        )
    summary = {
        "dataset_kind": "table",
        "window": window,
        "tasks": tasks,
        "n_windows": writer.n,
        "fitted": fitted,
        "leakage_shared_sequences": n_leaks,
        "leakage_policy": policy,
        "generated_negatives_for": sorted(complete),
        **report.summary(),
        "seconds": round(time.time() - t0, 2),
    }
    report.log_counts(log)
    write_text_atomic(out_gc, report.gc_table())
    write_json_atomic(out_summary, summary)
    log.info("wrote %d sequences to %s in %.1f s", writer.n, out_store, time.time() - t0)
    return summary
