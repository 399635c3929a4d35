"""Deep mutational scans: a CSV of mutants (``H24A`` or ``H24A:G25C``) and a fitness column.

Positions are numbered as the focus row (lower-case insert columns included) plus the
header's start (DeepSequence's numbering). Every mutant ends in exactly one class:

* ``scored``: every substitution on a kept match column;
* ``insert``: a substitution on an insert (lower-case) or filtered column: a
  match-column model cannot score it, so it is counted and listed;
* ``bad``: malformed, position outside the focus, or a wild type that differs from the
  focus: reported with its line number; ``bad_mutants: fail`` raises at the first one.
Missing fitness values are counted (``missing_fitness``) and left out as well.

ProteinGym's substitution files load as they are distributed: ``mutant`` (multi-mutants
joined by ``:``), ``DMS_score`` (the default fitness column) and ``mutated_sequence``,
the full UniProt sequence with the mutations; positions are UniProt numbers, which are
the focus's when its header says ``NAME/START-END``. When ``mutated_sequence`` is there,
its residues START..END must be the focus with the mutant's substitutions (a bad mutant
otherwise): a check that the two numberings agree.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genomicdl.core.errors import InputError
from genomicdl.core.files import open_text
from genomicdl.io.alignment import AMINO_ACIDS, Alignment

_MUTANT = re.compile(r"^([A-Za-z])(\d+)([A-Za-z])$")
_INDEX = {a: i for i, a in enumerate(AMINO_ACIDS)}


@dataclass
class Scan:
    """The scorable mutants of a scan, as (column, code) substitutions, and the rest counted."""

    mutants: list[str] = field(default_factory=list)
    fitness: list[float] = field(default_factory=list)
    substitutions: list[list[tuple[int, int]]] = field(default_factory=list)
    insert: list[str] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)  # (line, mutant, problem)
    missing_fitness: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "scored": len(self.mutants),
            "insert_columns": len(self.insert),
            "insert_mutants": self.insert,
            "bad": len(self.bad),
            "bad_mutants": [{"line": ln, "mutant": m, "problem": p} for ln, m, p in self.bad],
            "missing_fitness": len(self.missing_fitness),
        }


def _classify(mutant: str, aln: Alignment, columns: dict[int, int]) -> tuple[str, object]:
    """("scored", substitutions) | ("insert", None) | ("bad", problem)."""
    subs, insert = [], False
    end = aln.start + len(aln.focus_row) - 1
    for part in mutant.split(":"):
        found = _MUTANT.match(part.strip())
        if not found:
            return "bad", f"malformed substitution {part!r} (expected like H24A)"
        wt, pos, mt = found.group(1).upper(), int(found.group(2)), found.group(3).upper()
        if not aln.start <= pos <= end:
            return "bad", f"position {pos} outside the focus {aln.focus} ({aln.start}-{end})"
        focus_wt = aln.focus_row[pos - aln.start].upper()
        if wt != focus_wt:
            return "bad", f"wild type {wt} at {pos} but the focus has {focus_wt}"
        if mt not in _INDEX:
            return "bad", f"mutant residue {mt} is not one of the 20 amino acids"
        if pos not in columns:
            insert = True
        else:
            subs.append((columns[pos], _INDEX[mt]))
    return ("insert", None) if insert else ("scored", subs)


def _sequence_problem(mutant: str, sequence: str, aln: Alignment) -> str | None:
    """Where a ProteinGym ``mutated_sequence`` disagrees with the focus plus ``mutant``."""
    expected = list(aln.focus_row.upper())
    for part in mutant.split(":"):
        found = _MUTANT.match(part.strip())
        expected[int(found.group(2)) - aln.start] = found.group(3).upper()  # type: ignore[union-attr]
    region = sequence.strip().upper()[aln.start - 1:aln.start - 1 + len(expected)]
    if len(region) < len(expected):
        return (f"mutated_sequence has {len(sequence.strip())} residues, shorter than the focus's end "
                f"{aln.start + len(expected) - 1}")
    for offset, (have, want) in enumerate(zip(region, expected, strict=True)):
        if have != want:
            return (f"mutated_sequence has {have} at {aln.start + offset} where the focus {aln.focus} "
                    f"with {mutant} has {want} (numbering offset differs?)")
    return None


def read_scan(
    path: str | Path,
    aln: Alignment,
    *,
    mutant_column: str = "mutant",
    fitness_column: str = "DMS_score",
    bad_mutants: str = "skip",
) -> Scan:
    """Parse a scan against a prepared alignment; see the module docstring."""
    if bad_mutants not in ("skip", "fail"):
        raise ValueError(f"bad_mutants must be skip or fail, not {bad_mutants!r}")
    columns = {int(p): i for i, p in enumerate(aln.positions)}
    scan = Scan()
    with open_text(path) as fh:
        reader = csv.DictReader(fh)
        for col in (mutant_column, fitness_column):
            if col not in (reader.fieldnames or []):
                raise InputError(path, f"no column {col!r}; the header has {reader.fieldnames}", 1)
        full = "mutated_sequence" in (reader.fieldnames or [])
        for line, record in enumerate(reader, 2):
            mutant = (record[mutant_column] or "").strip()
            kind, detail = _classify(mutant, aln, columns)
            if full and kind != "bad":
                problem = _sequence_problem(mutant, record["mutated_sequence"] or "", aln)
                kind, detail = ("bad", problem) if problem else (kind, detail)
            if kind == "bad":
                if bad_mutants == "fail":
                    raise InputError(path, f"mutant {mutant!r}: {detail}", line)
                scan.bad.append((line, mutant, str(detail)))
            elif kind == "insert":
                scan.insert.append(mutant)
            else:
                value = _number(record[fitness_column])
                if math.isnan(value):
                    scan.missing_fitness.append(line)
                    continue
                scan.mutants.append(mutant)
                scan.fitness.append(value)
                scan.substitutions.append(detail)  # type: ignore[arg-type]
    return scan


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def mutant_codes(wild_type: np.ndarray, substitutions: list[list[tuple[int, int]]]) -> np.ndarray:
    """(m, L) codes of every mutant sequence (the focus with its substitutions)."""
    out = np.repeat(wild_type[None, :], len(substitutions), axis=0)
    for row, subs in enumerate(substitutions):
        for col, code in subs:
            out[row, col] = code
    return out
