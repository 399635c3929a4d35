"""Protein tables (issue 14): FLIP's paired FASTA files, space-separated NetSurfP CSVs,
DeepLoc header fields, cross-validation by partition, the homology leakage check, and
clear errors on bad protein inputs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from genomicdl.config import plan, sources
from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import GenomicdlError, InputError
from genomicdl.datasets.homology import find_homologues
from genomicdl.datasets.table_dataset import build_table_dataset
from genomicdl.io.store import Store

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
AMINO = "ACDEFGHIKLMNPQRSTVWY"
Q3 = {"G": "H", "I": "H", "B": "E", "T": "C", "S": "C", "L": "C"}


def validated(raw: dict) -> dict:
    return gconfig.validate({"datasets": raw, "models": ["cnn_birnn"]}, SCHEMA)["datasets"]


def build(tmp_path: Path, ds: dict, files: dict) -> tuple[dict, Store]:
    out = tmp_path / "out"
    summary = build_table_dataset(
        dataset_spec("t", ds), files, str(out / "d.h5"), str(out / "s.json"), str(out / "g.tsv")
    )
    return summary, Store(out / "d.h5")


def random_protein(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list(AMINO), size=n))


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def flip_fasta(tmp_path: Path) -> tuple[str, str]:
    """FLIP's paired layout: sequences, and labels whose headers name the split (a train, a
    validation and a test record)."""
    seqs = {"a": "MKTAYIA", "b": "GGSLLKV", "c": "PPQWERT"}
    labs = {"a": ("CCHHHHC", "SET=train VALIDATION=False"), "b": ("CEEEECC", "SET=train VALIDATION=True"),
            "c": ("CCCHHHC", "SET=test VALIDATION=False")}  # fmt: skip
    return (write(tmp_path / "seq.fasta", "".join(f">{k}\n{v}\n" for k, v in seqs.items())),
            write(tmp_path / "lab.fasta", "".join(f">{k} {h}\n{v}\n" for k, (v, h) in labs.items())))  # fmt: skip


def test_flip_paired_fasta_with_split_headers(tmp_path: Path) -> None:
    seq, lab = flip_fasta(tmp_path)
    files = {
        "table": seq,
        "table.labels": lab,
        "table.mask": write(tmp_path / "mask.fasta", ">a\n0111111\n>b\n1111111\n>c\n1111110\n"),
    }
    ds = validated({"flip": {"table": {"url": "seq.fasta", "labels": {"url": "lab.fasta"}, "mask": {"url": "m.fa"},
                                       "split_pattern": r"SET=(\w+)", "valid_pattern": "VALIDATION=True"},
                             "alphabet": "protein", "kind": "per_position", "classes": ["C", "E", "H"]}})["flip"]  # fmt: skip  # noqa: E501
    roles = dict(sources.iter_sources(ds))
    assert set(roles) == {"table", "table.labels", "table.mask"}
    _summary, store = build(tmp_path, ds, files)
    with store:
        assert [store.rows(s).tolist() for s in ("train", "valid", "test")] == [[0], [1], [2]]
        positions = store.positions(np.arange(3))
        assert positions[0, :7].tolist() == [-1, 0, 2, 2, 2, 2, 0]  # first residue masked
        assert positions[2, :7].tolist() == [0, 0, 0, 2, 2, 2, -1]


def test_separate_test_file_is_the_whole_test_split(tmp_path: Path) -> None:
    """FLIP's training files name their own test records (NEW364); with a separate test file
    (CB513) those records stay out of the store, counted, so the test split is the test file."""
    seq, lab = flip_fasta(tmp_path)
    files = {
        "table.train": seq,
        "table.train.labels": lab,
        "table.test": write(tmp_path / "test.csv", "input,dssp3\nMKWWAY,CHHHEC\n"),
    }
    ds = validated({"s": {"table": {"train": {"url": "seq.fasta", "labels": {"url": "lab.fasta"}},
                                    "test": {"url": "test.csv", "sequence_column": "input", "label_columns": ["dssp3"]},
                                    "split_pattern": r"SET=(\w+)", "valid_pattern": "VALIDATION=True", "task": "q3"},
                          "alphabet": "protein", "kind": "per_position", "classes": ["C", "E", "H"]}})["s"]  # fmt: skip
    summary, store = build(tmp_path, ds, files)
    with store:
        (row,) = store.rows("test")
        assert store.lengths[row] == 6 and len(store.rows("train")) == 1 and len(store.rows("valid")) == 1
    assert summary["dropped"]["test records of a training file (the separate test file is the test set)"] == 1


def test_flip_label_without_sequence_is_an_error(tmp_path: Path) -> None:
    files = {"table": write(tmp_path / "s.fa", ">a\nMKT\n"),
             "table.labels": write(tmp_path / "l.fa", ">a SET=train\nCCH\n>zz SET=test\nCCC\n")}  # fmt: skip
    ds = validated({"f": {"table": {"url": "s.fa", "labels": {"url": "l.fa"}, "split_pattern": r"SET=(\w+)"},
                          "alphabet": "protein", "kind": "per_position", "classes": ["C", "E", "H"]}})["f"]  # fmt: skip
    with pytest.raises(InputError, match="1 labelled record"):
        build(tmp_path, ds, files)


def test_netsurfp_csv_space_separated_with_mask_beside_fasta_training(tmp_path: Path) -> None:
    """CB513 as NetSurfP ships it (residues and labels space-separated, a mask column)
    as the test file of a dataset trained from CB6133-style letters."""
    train = write(tmp_path / "train.csv", "id,input,expected\n1,MKTAYIAK,LLHHHGGE\n2,GGSLLKVA,LEEEBTSL\n")
    test = write(tmp_path / "test.csv", "input, dssp3, dssp8, disorder, cb513_mask\n"
                 "M K T A , C H H E , L H H E , 0 0 0 0 , 1.0 1.0 0.0 1.0 \n")  # fmt: skip
    ds = validated({"s": {"table": {"train": {"url": "train.csv"}, "sequence_column": "input",
                                    "label_columns": ["expected"],
                                    "test": {"url": "test.csv", "label_columns": ["dssp3"], "position_separator": " ",
                                             "mask_column": "cb513_mask"}},
                          "alphabet": "protein", "kind": "per_position", "classes": ["C", "E", "H"], "class_map": Q3,
                          "split": {"valid": 0.4}}})["s"]  # fmt: skip
    _, store = build(tmp_path, ds, {"table.train": train, "table.test": test})
    with store:
        (row,) = store.rows("test")
        assert store.lengths[row] == 4
        assert store.positions(np.array([row]))[0, :4].tolist() == [0, 2, -1, 1]


def test_deeploc1_header_fields_and_multilabel_rows_dropped(tmp_path: Path) -> None:
    """DeepLoc 1.0 header (label, membrane flag, split); DeepLoc 2.0 multi-location rows
    dropped from a multiclass training set."""
    test = write(tmp_path / "t.fasta", ">P1 Cell.membrane-M test\nMKTAYIAK\n>P2 Nucleus-S test\nGGSLLKVA\n")
    train = write(tmp_path / "tr.csv", "accession,sequence,label\nA,MKKLLA,Nucleus\nB,MKKLLG,Nucleus|Cytoplasm\n"
                  "C,MPPLLA,Cell membrane\nD,MPQLLA,Cell membrane\n")  # fmt: skip
    ds = validated({"d": {"table": {"train": {"url": "tr.csv"}, "id_column": "accession",
                                    "test": {"url": "t.fasta", "label_pattern": r"^\S+\s+(\S+)-[MSU]\b",
                                             "split_pattern": r"\s(test|train)$"},
                                    "multiple_labels": "drop"},
                          "alphabet": "protein", "kind": "multiclass", "classes": ["Cell membrane", "Nucleus"],
                          "class_map": {"Cell.membrane": "Cell membrane"}, "split": {"valid": 0.3}}})["d"]  # fmt: skip
    summary, store = build(tmp_path, ds, {"table.train": train, "table.test": test})
    with store:
        assert len(store.rows("test")) == 2 and store.labels[store.rows("test")].tolist() == [0, 1]
        assert store.n == 5
    assert any("several classes" in k for k in summary["dropped"])


def test_multiclass_row_with_several_classes_fails_by_default(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "sequence,label\nMKKL,Nucleus|Cytoplasm\nMKKA,Nucleus\n")
    ds = validated({"d": {"table": {"url": "t.csv"}, "alphabet": "protein", "kind": "multiclass",
                          "classes": ["Nucleus", "Cytoplasm"]}})["d"]  # fmt: skip
    with pytest.raises(InputError, match="several classes"):
        build(tmp_path, ds, {"table": path})


def _partition_csv(tmp_path: Path, n: int = 40) -> str:
    rng = np.random.default_rng(1)
    rows = ["accession,sequence,label,partition"]
    rows += [f"p{i},{random_protein(rng, 30)},{'Nucleus' if i % 2 else 'Cytoplasm|Nucleus'},{i % 5}" for i in range(n)]
    return write(tmp_path / "parts.csv", "\n".join(rows) + "\n")


def test_folds_expand_into_one_dataset_per_partition(tmp_path: Path) -> None:
    raw = {"loc": {"table": {"url": "parts.csv", "id_column": "accession"}, "alphabet": "protein",
                   "kind": "multilabel", "split": {"folds": "partition"}}}  # fmt: skip
    cfg = gconfig.validate({"datasets": raw, "models": ["cnn_birnn"]}, SCHEMA)
    assert list(cfg["datasets"]) == [f"loc_fold{k}" for k in range(5)]
    assert plan.fold_of("loc_fold3", cfg) == ("loc", 3) and plan.fold_of("loc") == ("loc", None)
    assert plan.expand_folds(cfg) == cfg  # idempotent
    path = _partition_csv(tmp_path)
    _, store = build(tmp_path, cfg["datasets"]["loc_fold3"], {"table": path})
    with store:
        test, valid = store.rows("test"), store.rows("valid")
        assert sorted(test.tolist()) == [i for i in range(40) if i % 5 == 3]
        assert sorted(valid.tolist()) == [i for i in range(40) if i % 5 == 4]  # the next partition
        assert store.ids(test)[0] == "p3"
    sub = gconfig.validate({"datasets": {"loc": {**raw["loc"], "split": {"folds": "partition", "run_folds": [0, 2]}}},
                            "models": ["cnn_birnn"]}, SCHEMA)  # fmt: skip
    assert list(sub["datasets"]) == ["loc_fold0", "loc_fold2"]


def test_partition_outside_the_folds_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "sequence,label,partition\nMKKL,Nucleus,0\nMKKA,Nucleus,7\n")
    cfg = gconfig.validate({"datasets": {"d": {"table": {"url": "p.csv"}, "alphabet": "protein", "kind": "multilabel",
                                               "split": {"folds": "partition"}}}, "models": ["cnn_birnn"]}, SCHEMA)  # fmt: skip  # noqa: E501
    with pytest.raises(InputError, match="partition '7'"):
        build(tmp_path, cfg["datasets"]["d_fold0"], {"table": path})


def _planted(rng: np.random.Generator) -> tuple[str, str, list[tuple[str, str]]]:
    base = random_protein(rng, 150)
    mutant = list(base)
    for k in rng.choice(150, 60, replace=False):  # ~60% identity after substitutions
        mutant[k] = rng.choice(list(AMINO))
    others = [(f"t{i}", random_protein(rng, 150)) for i in range(30)]
    return base, "".join(mutant), others


def test_homology_finds_the_planted_homologue_only() -> None:
    rng = np.random.default_rng(7)
    base, mutant, others = _planted(rng)
    report = find_homologues([("query", base)], [*others, ("homologue", mutant)], identity=0.3)
    assert report.offending == {"homologue"}
    (hit,) = report.hits
    assert 0.5 < hit.identity < 0.8 and hit.aligned >= 100
    assert find_homologues([("query", base)], [*others, ("homologue", mutant)], identity=0.9).offending == set()
    assert report.summary()["held_out_with_homologue"] == 1


def test_homology_found_proteins_leave_the_database_with_the_same_result() -> None:
    """Searching in chunks, training homologues already found removed from later searches,
    finds the same training proteins with the same E-values (Z stays the whole database)."""
    rng = np.random.default_rng(11)
    base, mutant, others = _planted(rng)
    base2, mutant2, _ = _planted(rng)
    queries = [("q1", base), ("q2", base), ("q3", base2), ("q4", mutant2)]  # q2 repeats q1, q4 is q3's target
    training = [*others, ("h1", mutant), ("h2", mutant2), ("h3", mutant2[:100] + random_protein(rng, 40))]
    every = find_homologues(queries, training, chunk=len(queries))
    one_by_one = find_homologues(queries, training, chunk=1)
    assert every.offending == one_by_one.offending == {"h1", "h2", "h3"}
    evalues = {h.target: h.evalue for h in every.hits if h.query == "q3"}
    assert {h.target: h.evalue for h in one_by_one.hits if h.query == "q3"} == evalues
    assert {h.query for h in every.hits} == {"q1", "q2", "q3", "q4"}
    assert {h.query for h in one_by_one.hits} == {"q1", "q2", "q3", "q4"}  # q4 finds its identical copy h2


def test_homology_drop_in_the_data_stage(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    base, mutant, others = _planted(rng)
    rows = ["sequence,label,split", f"{base},Nucleus,test", f"{mutant},Nucleus,train"]
    rows += [
        f"{s},{'Nucleus' if i % 2 else 'Cytoplasm'},{'valid' if i < 5 else 'train'}" for i, (_, s) in enumerate(others)
    ]
    path = write(tmp_path / "h.csv", "\n".join(rows) + "\n")
    raw = {"d": {"table": {"url": "h.csv"}, "alphabet": "protein", "kind": "multiclass",
                 "split": {"homology": {"policy": "drop"}}}}  # fmt: skip
    summary, store = build(tmp_path, validated(raw)["d"], {"table": path})
    with store:
        assert store.n == 31 and len(store.rows("test")) == 1
    assert summary["homology"]["training_homologues"] == 1
    raw["d"]["split"]["homology"]["policy"] = "fail"
    with pytest.raises(GenomicdlError, match="homologue"):
        build(tmp_path / "b", validated(raw)["d"], {"table": path})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,input,expected\n1,MKTZ1,LLHH\n", "letter"),
        ("id,input,expected\n1,MKTA,LLH\n", "length 3 but the sequence has 4"),
        ("id,input,expected\n1,MKTA,LLHQ\n", "class 'Q' is not in the class list"),
    ],
)
def test_bad_protein_inputs_fail_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    ds = validated({"s": {"table": {"url": "bad.csv", "sequence_column": "input", "label_columns": ["expected"]},
                          "alphabet": "protein", "kind": "per_position", "classes": ["C", "E", "H"],
                          "class_map": Q3}})["s"]  # fmt: skip
    with pytest.raises(InputError, match=message):
        build(tmp_path, ds, {"table": path})
    assert not (tmp_path / "out" / "d.h5").exists()


def test_real_slices_load(tmp_path: Path) -> None:
    """The bundled DeepLoc 1.0 slice: label, membrane flag and split from the header."""
    src = REPO / "tests" / "data" / "deeploc1_300.fasta.gz"
    with gzip.open(src, "rt") as fh:
        first = fh.readline()
    assert first.rstrip().endswith("test")
    ds = validated({"d": {"table": {"url": str(src), "label_pattern": r"^\S+\s+(\S+)-[MSU]\b",
                                    "task": "location"},
                          "alphabet": "protein", "kind": "multiclass"}})["d"]  # fmt: skip
    summary, store = build(tmp_path, ds, {"table": str(src)})
    with store:
        assert len(store.classes) == 10 and store.n == 300
    json.dumps(summary)
