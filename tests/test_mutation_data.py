"""Mutation effects data stage: A2M parsing, filters, sequence weights, DMS scans."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import InputError
from genomicdl.io.alignment import GAP, find_focus, load_alignment, prepare_alignment
from genomicdl.io.scans import read_scan
from genomicdl.mutation.data import prepare_dataset
from genomicdl.mutation.seqweights import effective_number, naive_weights, sequence_weights

DATA = Path(__file__).parent / "data"

# Every record as long as the focus row: lower-case columns are inserts of the focus.
POSITIONAL = """>F/5-10 focus
mKLAVw
>s1
-KL-Vw
>s2
aKIAV.
>s3 too short
--L---
>s4 with B
xKBAVx
"""
# A2M with insert states of varying length (lower case and '.' deleted from each row).
INSERTS = """>F/1-6
kLVdeW
>s2
LIcW
>s3
..L-W
"""

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")

def alignment_settings() -> Mapping[str, Any]:
    """The alignment section as the workflow passes it: validated, the schema's defaults filled."""
    cfg = gconfig.validate({"datasets": {"a": {"alignment": {"url": "a.a2m"}}}, "models": ["site_independent"]}, SCHEMA)
    return dataset_spec("a", cfg["datasets"]["a"]).alignment


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_positional_a2m_filters_and_numbering(tmp_path):
    path = write(tmp_path, "p.a2m", POSITIONAL)
    summary = prepare_alignment(path, tmp_path / "p.h5")
    aln = load_alignment(tmp_path / "p.h5")
    assert summary.sequences_read == 5 and summary.low_coverage == 1 and summary.invalid_residues == 1
    assert aln.positions.tolist() == [6, 7, 8, 9]  # row index + header start 5
    assert "".join("ACDEFGHIKLMNPQRSTVWY-"[c] for c in aln.codes[1]) == "KL-V"
    assert "".join("ACDEFGHIKLMNPQRSTVWY-"[c] for c in aln.codes[2]) == "KIAV"
    assert len(aln.codes) == 3


def test_a2m_with_lowercase_insertions_and_gaps(tmp_path):
    path = write(tmp_path, "i.a2m", INSERTS)
    focus = find_focus(path)
    assert not focus.positional and focus.positions.tolist() == [2, 3, 6]
    summary = prepare_alignment(path, tmp_path / "i.h5", max_gap_fraction=0.5)
    aln = load_alignment(tmp_path / "i.h5")
    letters = ["".join("ACDEFGHIKLMNPQRSTVWY-"[c] for c in row) for row in aln.codes]
    assert letters == ["LVW", "LIW", "L-W"] and summary.dropped_positions == []
    # the default 30% gap limit drops column 3 (1 gap in 3)
    summary = prepare_alignment(path, tmp_path / "j.h5")
    assert summary.dropped_positions == [3] and load_alignment(tmp_path / "j.h5").positions.tolist() == [2, 6]


def test_a2m_wrong_number_of_match_states_names_record(tmp_path):
    path = write(tmp_path, "bad.a2m", INSERTS + ">s4\nLIVW\n")
    with pytest.raises(InputError, match=r"line 7: record 's4' has 4 match states, the focus 3"):
        prepare_alignment(path, tmp_path / "bad.h5")


def test_weights_match_brute_force():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 20, size=12)
    codes = np.array([np.where(rng.random(12) < 0.25, rng.integers(0, 21, 12), base) for _ in range(40)])
    codes[rng.random(codes.shape) < 0.1] = GAP
    for theta in (0.2, 0.5):
        brute = naive_weights(codes, theta=theta)
        assert np.allclose(sequence_weights(codes, theta=theta, block=7, device="cpu"), brute)
        # independent check of one sequence: neighbours counted by hand
        i = 3
        residues = codes[i] != GAP
        ident = [((codes[i] == codes[j]) & residues).sum() / residues.sum() for j in range(len(codes))]
        assert brute[i] == pytest.approx(1.0 / sum(x >= 1 - theta - 1e-6 for x in ident))
    assert effective_number(np.full(4, 0.5)) == 2.0


def test_weights_of_identical_sequences():
    codes = np.zeros((5, 6), dtype=np.uint8)
    assert np.allclose(sequence_weights(codes, device="cpu"), 0.2)


SCAN = """mutant,fitness
L2A,0.5
k1A,0.1
D4A,0.2
V3A:W6Y,-1.0
A2C,0.3
W99A,0.0
garbage,1
L2C,
"""


def test_scan_bad_and_insert_mutants_are_counted_with_line_numbers(tmp_path):
    prepare_alignment(write(tmp_path, "i.a2m", INSERTS), tmp_path / "i.h5", max_gap_fraction=0.5)
    aln = load_alignment(tmp_path / "i.h5")
    scan_path = write(tmp_path, "scan.csv", SCAN.replace("k1A", "K1A"))
    scan = read_scan(scan_path, aln, fitness_column="fitness")
    assert scan.mutants == ["L2A", "V3A:W6Y"] and scan.fitness == [0.5, -1.0]
    assert scan.substitutions == [[(0, 0)], [(1, 0), (2, 19)]]
    assert scan.insert == ["K1A", "D4A"]
    assert [(line, m) for line, m, _ in scan.bad] == [(6, "A2C"), (7, "W99A"), (8, "garbage")]
    assert "wild type A at 2 but the focus has L" in scan.bad[0][2]
    assert "outside the focus" in scan.bad[1][2]
    assert scan.missing_fitness == [9]
    json.dumps(scan.summary())
    with pytest.raises(InputError, match=r"scan.csv, line 6: mutant 'A2C': wild type A at 2"):
        read_scan(scan_path, aln, fitness_column="fitness", bad_mutants="fail")
    with pytest.raises(InputError, match="no column 'nope'"):
        read_scan(scan_path, aln, fitness_column="nope")


def test_prepare_dataset_on_real_alignment_slice(tmp_path):
    data = Path(__file__).parent / "data" / "BLAT_ECOLX.head300.a2m.gz"
    report = prepare_dataset(data, out=tmp_path / "a.h5", summary=tmp_path / "s.json", settings=alignment_settings())
    aln = load_alignment(tmp_path / "a.h5")
    assert report["sequences_read"] == 300 and aln.positions[0] == 29 and aln.weights is not None
    assert report["neff"] == pytest.approx(float(aln.weights.sum()), abs=0.01)
    assert json.loads((tmp_path / "s.json").read_text())["neff"] == report["neff"]
    scan = read_scan(Path(__file__).parent / "data" / "BLAT_ECOLX_Ranganathan2015.every20.csv.gz", aln,
                     fitness_column="2500")
    assert not scan.bad and len(scan.insert) > 0 and len(scan.mutants) + len(scan.insert) == 250


def test_proteingym_scan_loads_as_distributed_and_bad_rows_name_their_line(tmp_path):
    """The ProteinGym-format slice (mutant, mutated_sequence, DMS_score; UniProt numbering)
    against the real focus BLAT_ECOLX/24-286; then the same file with a wrong wild type,
    a position past the focus, a multi-mutant and a mutated_sequence shifted by one."""
    import gzip

    with gzip.open(DATA / "BLAT_ECOLX.head300.a2m.gz", "rt") as fh:
        head = ">" + ">".join(fh.read().split(">")[1:41])
    prepare_alignment(write(tmp_path, "b.a2m", head), tmp_path / "b.h5")
    aln = load_alignment(tmp_path / "b.h5")
    source = DATA / "BLAT_ECOLX_Stiffler_2015.proteingym.every25.csv.gz"
    scan = read_scan(source, aln)  # no column names: mutant and DMS_score are the defaults
    assert scan.bad == [] and len(scan.mutants) + len(scan.insert) == 200 and len(scan.insert) < 15
    with gzip.open(source, "rt") as fh:
        lines = fh.read().splitlines()
    full = lines[1].split(",")[1][:23] + aln.focus_row.upper()
    assert full[23] == "H" and len(full) == 286
    double = full[:30] + "A" + full[31] + "C" + full[33:]  # V31A:D33C (match columns; 24-28 are inserts)
    assert full[30] == "V" and full[32] == "D"
    edited = [
        lines[0],
        *lines[1:4],
        "V31A:D33C," + double + ",0.5",  # line 5: a multi-mutant, scored
        "A31C," + full + ",0.1",  # line 6: wrong wild type
        "W300A," + full + ",0.1",  # line 7: past the focus's end 286
        "V31A," + full[1:] + "M,0.1",  # line 8: sequence numbered from 2 (offset off by one)
    ]
    path = write(tmp_path, "pg.csv", "\n".join(edited) + "\n")
    scan = read_scan(path, aln)
    assert "V31A:D33C" in scan.mutants and scan.fitness[scan.mutants.index("V31A:D33C")] == 0.5
    assert [line for line, _, _ in scan.bad] == [6, 7, 8]
    assert "wild type A at 31 but the focus has V" in scan.bad[0][2]
    assert "position 300 outside the focus" in scan.bad[1][2]
    assert "mutated_sequence has" in scan.bad[2][2] and "offset" in scan.bad[2][2]
    with pytest.raises(InputError, match=r"pg.csv, line 6: mutant 'A31C'"):
        read_scan(path, aln, bad_mutants="fail")
