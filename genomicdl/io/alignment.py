"""Multiple sequence alignments (A2M / A3M / aligned FASTA) -> match-column codes on disk.

The focus sequence (the first record unless named) fixes the match columns: its
upper-case residues. Numbering follows DeepSequence: a focus column's position is its
index in the whole focus row (lower-case insert columns included) plus the start of the
header's ``NAME/START-END`` range. Two readings of a record:

* every record as long as the focus row (plmc / DeepSequence A2M, aligned FASTA): the
  match columns are taken position by position;
* otherwise (A2M with insert states, A3M): lower-case letters and ``.`` are insertions
  and are deleted; what is left must be as long as the focus row's match states.

Filters (the paper's defaults): sequences covering less than ``min_coverage`` of the
focus columns are dropped, then columns whose gap fraction exceeds ``max_gap_fraction``;
sequences with a non-standard residue in a kept column are dropped and counted.
Codes: ``ACDEFGHIKLMNPQRSTVWY`` = 0..19, gap = 20 (one-hot 21 channels). The file is
read twice in a stream and written in chunks, so memory is bounded by the chunk size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from genomicdl.core.errors import InputError
from genomicdl.core.files import atomic_output, open_text

# TODO(core refactor): the 20 letters are genomicdl.core.sequence's protein alphabet; the
# alignment adds a gap state (code 20 here, where sequence.py has X = 20 for unknown).
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
GAP = 20
STATES = 21
_LOOKUP = np.full(256, 255, dtype=np.uint8)
for _i, _a in enumerate(AMINO_ACIDS):
    _LOOKUP[ord(_a)] = _i
    _LOOKUP[ord(_a.lower())] = _i
_LOOKUP[ord("-")] = GAP
_LOOKUP[ord(".")] = GAP
_RANGE = re.compile(r"/(\d+)-(\d+)$")


@dataclass
class Focus:
    """The focus row: its name, numbering offset and match columns."""

    name: str
    row: str
    start: int
    match: np.ndarray  # indices of the focus row's match (upper-case) columns
    positional: bool  # True: every record as long as the focus row

    @property
    def positions(self) -> np.ndarray:
        """Numbering (header start + row index) of every match column."""
        return self.match + self.start

    @property
    def wild_type(self) -> str:
        return "".join(self.row[i] for i in self.match)


@dataclass
class AlignmentSummary:
    """Counts of what the data stage kept and dropped."""

    sequences_read: int = 0
    sequences_kept: int = 0
    low_coverage: int = 0
    invalid_residues: int = 0
    focus_columns: int = 0
    columns_kept: int = 0
    dropped_positions: list[int] = field(default_factory=list)


def read_records(path: str | Path) -> Iterator[tuple[int, str, str]]:
    """Yield (header line number, name, aligned row) of an A2M/A3M/FASTA file.

    A3M/A2M comment lines (``#``) are skipped; a record without residues is an error.
    """
    name, line_no, parts = None, 0, []
    with open_text(path) as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(">"):
                if name is not None:
                    yield _finish(path, line_no, name, parts)
                name, line_no, parts = line[1:].split()[0] if line[1:].strip() else "", number, []
            elif name is None:
                raise InputError(path, "sequence data before the first '>' header", number)
            else:
                parts.append(line)
    if name is None:
        raise InputError(path, "no '>' records: not an A2M/A3M/FASTA alignment")
    yield _finish(path, line_no, name, parts)


def _finish(path: str | Path, line_no: int, name: str, parts: list[str]) -> tuple[int, str, str]:
    row = "".join(parts)
    if not row:
        raise InputError(path, f"record {name!r} has no sequence", line_no)
    return line_no, name, row


def find_focus(path: str | Path, focus: str | None = None) -> Focus:
    """The focus record (first, or the one named ``focus``) and its match columns."""
    for line_no, name, row in read_records(path):
        if focus is None or name == focus or name.split("/")[0] == focus:
            match = np.array([i for i, c in enumerate(row) if c.isupper()], dtype=np.int64)
            if len(match) == 0:
                raise InputError(path, f"focus {name!r} has no upper-case (match) columns", line_no)
            found = _RANGE.search(name)
            start = int(found.group(1)) if found else 1
            return Focus(name, row, start, match, positional=_all_same_length(path, len(row)))
    raise InputError(path, f"focus sequence {focus!r} not found")


def _all_same_length(path: str | Path, width: int) -> bool:
    return all(len(row) == width for _, _, row in read_records(path))


def match_states(row: str, focus: Focus, where: tuple[str | Path, int, str]) -> str:
    """The residues of ``row`` at the focus's match columns."""
    if focus.positional:
        return "".join(row[i] for i in focus.match)
    states = "".join(c for c in row if not (c.islower() or c == "."))
    focus_states = [c for c in focus.row if not (c.islower() or c == ".")]
    if len(states) != len(focus_states):
        path, line, name = where
        raise InputError(
            path,
            f"record {name!r} has {len(states)} match states, the focus {len(focus_states)}",
            line,
        )
    keep = [i for i, c in enumerate(focus_states) if c.isupper()]
    return "".join(states[i] for i in keep)


def encode_rows(rows: list[str]) -> np.ndarray:
    """(n, L) uint8 codes; 255 marks a non-standard residue."""
    raw = np.frombuffer("".join(rows).encode("ascii", "replace"), dtype=np.uint8)
    return _LOOKUP[raw].reshape(len(rows), -1)


def _chunks(path: str | Path, focus: Focus, size: int) -> Iterator[np.ndarray]:
    batch: list[str] = []
    for line, name, row in read_records(path):
        batch.append(match_states(row, focus, (path, line, name)))
        if len(batch) == size:
            yield encode_rows(batch)
            batch = []
    if batch:
        yield encode_rows(batch)


def _survey(path, focus, *, min_coverage, chunk) -> tuple[np.ndarray, np.ndarray, AlignmentSummary]:
    """First pass: which sequences cover enough, and gap counts per focus column."""
    keep, gaps = [], np.zeros(len(focus.match), dtype=np.int64)
    summary = AlignmentSummary(focus_columns=len(focus.match))
    for codes in _chunks(path, focus, chunk):
        coverage = (codes != GAP).mean(axis=1)
        ok = coverage >= min_coverage
        summary.low_coverage += int((~ok).sum())
        gaps += (codes[ok] == GAP).sum(axis=0)
        keep.append(ok)
    kept = np.concatenate(keep)
    summary.sequences_read = len(kept)
    return kept, gaps, summary


def prepare_alignment(
    path: str | Path,
    out: str | Path,
    *,
    focus: str | None = None,
    max_gap_fraction: float = 0.3,
    min_coverage: float = 0.5,
    chunk: int = 4096,
) -> AlignmentSummary:
    """Filter the alignment and write ``codes`` (n, L) + focus metadata to HDF5, atomically."""
    fc = find_focus(path, focus)
    kept, gaps, summary = _survey(path, fc, min_coverage=min_coverage, chunk=chunk)
    if not kept.any():
        raise InputError(path, f"no sequence covers {min_coverage:.0%} of the focus columns")
    columns = np.flatnonzero(gaps / kept.sum() <= max_gap_fraction)
    if len(columns) == 0:
        raise InputError(path, f"every focus column has more than {max_gap_fraction:.0%} gaps")
    summary.columns_kept = len(columns)
    summary.dropped_positions = [int(p) for p in np.delete(fc.positions, columns)]
    wt = encode_rows([fc.wild_type])[0]
    with atomic_output(out) as tmp, h5py.File(tmp, "w") as h5:
        codes = h5.create_dataset(
            "codes", shape=(0, len(columns)), maxshape=(None, len(columns)), dtype="u1",
            chunks=(min(chunk, 1024), len(columns)), compression="gzip",
        )
        offset = 0
        for block in _chunks(path, fc, chunk):
            ok = kept[offset : offset + len(block)]
            offset += len(block)
            block = block[ok][:, columns]
            valid = (block != 255).all(axis=1)
            summary.invalid_residues += int((~valid).sum())
            block = block[valid]
            codes.resize(codes.shape[0] + len(block), axis=0)
            codes[-len(block) :] = block
        summary.sequences_kept = codes.shape[0]
        h5["positions"] = fc.positions[columns]
        h5["wild_type"] = wt[columns]
        h5.attrs.update(
            focus=fc.name, start=fc.start, focus_row=fc.row, alphabet=AMINO_ACIDS + "-",
            max_gap_fraction=max_gap_fraction, min_coverage=min_coverage,
        )
    if summary.sequences_kept == 0:
        raise InputError(path, "no sequence left after the filters")
    return summary


@dataclass
class Alignment:
    """A prepared alignment read back from HDF5 (codes in memory: n x L bytes)."""

    codes: np.ndarray
    positions: np.ndarray
    wild_type: np.ndarray
    focus: str
    focus_row: str
    start: int
    weights: np.ndarray | None = None

    @property
    def length(self) -> int:
        return self.codes.shape[1]


def load_alignment(path: str | Path) -> Alignment:
    """Read ``codes``, focus metadata and (when present) ``weights`` from a prepared file."""
    with h5py.File(path, "r") as h5:
        weights = h5["weights"][:] if "weights" in h5 else None
        return Alignment(
            codes=h5["codes"][:], positions=h5["positions"][:], wild_type=h5["wild_type"][:],
            focus=str(h5.attrs["focus"]), focus_row=str(h5.attrs["focus_row"]),
            start=int(h5.attrs["start"]), weights=weights,
        )


def one_hot(codes: np.ndarray) -> np.ndarray:
    """(n, L) codes -> (n, L, 21) float32 one-hot (20 amino acids + gap)."""
    return np.eye(STATES, dtype=np.float32)[codes]
