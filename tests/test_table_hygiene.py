"""Table hygiene: mostly-N records dropped (counted), a leakage message that says what is
shared, and summary.json's length facts named for what they are."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import GenomicdlError
from genomicdl.datasets.table_dataset import build_table_dataset

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
ALL_N = "N" * 40


def fasta(path: Path, seqs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"> {rid}; class:{i % 2}\n{seq}\n" for i, (rid, seq) in enumerate(seqs)))
    return path


def two_files(tmp_path: Path) -> dict[str, str]:
    """Train and test files that both hold the all-N placeholder (3 and 2 copies, as
    RBP-31 does) and one real shared sequence (train line 11, test line 1)."""
    rng = np.random.default_rng(0)
    rand = ["".join(rng.choice(list("ACGT"), 40)) for _ in range(40)]
    shared = rand[0]
    train = [(f"t{i}", rand[i + 1]) for i in range(30)]
    train[2:2] = [("n1", ALL_N), ("n2", ALL_N), ("n3", ALL_N), ("s1", shared)]
    train.append(("tenth", "ACGT" * 9 + "N" * 4))  # exactly 10% N: kept
    test = [("s2", shared), ("m1", ALL_N), ("m2", "NNNNNNNNNNNNNNNNNNNNNNNNNNNNNA" + "ACGTACGTAC")]
    test += [(f"u{i}", rand[31 + i]) for i in range(8)]
    return {
        "table.train": str(fasta(tmp_path / "train.fa", train)),
        "table.test": str(fasta(tmp_path / "test.fa", test)),
    }


def build(tmp_path: Path, files: dict[str, str], **over: object) -> dict:
    raw = {"table": {"train": {"url": "x"}, "test": {"url": "y"}, "label_pattern": r"class:(\d)"},
           "split": {"valid": 0.2, "leakage": "drop"}, **over}  # fmt: skip
    ds = gconfig.validate({"datasets": {"t": raw}}, SCHEMA)["datasets"]["t"]
    out = tmp_path / "out"
    return build_table_dataset(dataset_spec("t", ds), files, str(out / "d.h5"), str(out / "s.json"), str(out / "g"))


def test_mostly_n_records_are_dropped_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = two_files(tmp_path)
    with caplog.at_level("WARNING"):
        summary = build(tmp_path / "a", files)
    assert summary["dropped"]["records more than 10% N (max_n_fraction)"] == 5  # n1-n3, m1, m2 (72% N)
    assert summary["n_windows"] == 31 + 9  # 30 + 'tenth' (kept) + 8 + 's2': the shared copy leaves train/valid
    assert sum(summary["leakage_shared_sequences"].values()) == 1
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "carried by 2 records (" in warning and "'test': 1}), e.g. 's1;'" in warning
    assert "train.fa, line 11: 40 letters, 0% N" in warning


def test_leakage_message_names_the_all_n_placeholder_when_kept(tmp_path: Path) -> None:
    files = two_files(tmp_path)
    with pytest.raises(GenomicdlError, match=r"carried by 6 records .* 'n1;' \(.*train\.fa, "
                       r"line 5: 40 letters, 100% N\)"):  # fmt: skip
        build(tmp_path / "b", files, max_n_fraction=1.0, split={"valid": 0.2, "leakage": "fail"})
    assert not (tmp_path / "b" / "out").exists() or not any((tmp_path / "b" / "out").iterdir())


def test_summary_says_whether_lengths_differ_and_whether_a_window_was_set(tmp_path: Path) -> None:
    files = two_files(tmp_path)
    summary = build(tmp_path / "c", files)
    assert summary["variable_length"] is False and summary["window_set"] is False  # all 40 letters, no window
    assert summary["lengths"] == {"min": 40, "max": 40}
    text = Path(files["table.train"]).read_text() + "> short; class:1\nACGTACGTAC\n"
    Path(files["table.train"]).write_text(text)
    summary = build(tmp_path / "d", files)
    assert summary["variable_length"] is True and summary["lengths"] == {"min": 10, "max": 40}
    summary = build(tmp_path / "e", files, window=30)
    assert summary["variable_length"] is False and summary["window_set"] is True
    assert json.loads((tmp_path / "e" / "out" / "s.json").read_text())["lengths"] == {"min": 30, "max": 30}
