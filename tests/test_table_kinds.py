"""Tables of every target kind and alphabet: labels parsed for the kind, variable
lengths kept, bad inputs failing before anything is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.errors import ConfigError, GenomicdlError, InputError
from genomicdl.datasets.table_dataset import build_table_dataset
from genomicdl.io.store import Store

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
AMINO = "ACDEFGHIKLMNPQRSTVWY"


def dataset(table: dict, **over: object) -> dict:
    raw = {"table": {"url": "t.csv", **table}, "split": {"valid": 0.2, "test": 0.2}, **over}
    return gconfig.validate({"datasets": {"t": raw}}, SCHEMA)["datasets"]["t"]


def build(tmp_path: Path, text: str, ds: dict) -> tuple[dict, Store]:
    path = tmp_path / "t.csv"
    path.write_text(text)
    out = tmp_path / "out"
    summary = build_table_dataset(
        dataset_spec("t", ds), {"table": str(path)}, str(out / "d.h5"), str(out / "s.json"), str(out / "g.tsv")
    )
    return summary, Store(out / "d.h5")


def proteins(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(AMINO), size=int(rng.integers(8, 60)))) for _ in range(n)]


def test_multiclass_proteins_keep_their_lengths(tmp_path: Path) -> None:
    rows = ["id,sequence,label"] + [f"p{i},{s},{['Nucleus', 'Cytoplasm', 'Membrane'][i % 3]}"
                                     for i, s in enumerate(proteins(60))]  # fmt: skip
    summary, store = build(tmp_path, "\n".join(rows) + "\n", dataset({"id_column": "id"}, alphabet="protein",
                                                                      kind="multiclass"))  # fmt: skip
    with store:
        assert store.kind == "multiclass" and store.alphabet == "protein"
        assert store.classes == ["Cytoplasm", "Membrane", "Nucleus"]  # sorted, from the data
        assert store.variable and store.window == max(len(s) for s in proteins(60))
        assert store.lengths.tolist() == [len(s) for s in proteins(60)]
        assert store.labels.tolist() == [[2, 0, 1][i % 3] for i in range(60)]
    assert summary["target"]["kind"] == "multiclass"


def test_multilabel_from_joined_names(tmp_path: Path) -> None:
    names = ["Nucleus", "Cytoplasm|Nucleus", "Membrane", "Cytoplasm"]
    rows = ["sequence,label"] + [f"{s},{names[i % 4]}" for i, s in enumerate(proteins(40))]
    ds = dataset({}, alphabet="protein", kind="multilabel", classes=["Nucleus", "Cytoplasm", "Membrane"])
    _, store = build(tmp_path, "\n".join(rows) + "\n", ds)
    with store:
        assert store.tasks == ["Nucleus", "Cytoplasm", "Membrane"]
        assert store.labels[:4].tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]]


def test_per_position_labels_with_q3_mapping_and_mask(tmp_path: Path) -> None:
    seqs = proteins(30)
    q8 = "HGIEBTSL"
    rows = ["sequence,expected,mask"]
    for i, s in enumerate(seqs):
        labels = "".join(q8[(i + j) % 8] for j in range(len(s)))
        mask = "".join("0" if j == 0 else "1" for j in range(len(s)))
        rows.append(f"{s},{labels},{mask}")
    ds = dataset(
        {"label_columns": ["expected"], "mask_column": "mask"},
        alphabet="protein",
        kind="per_position",
        classes=["C", "E", "H"],
        class_map={"G": "H", "I": "H", "B": "E", "T": "C", "S": "C", "L": "C"},
    )
    _, store = build(tmp_path, "\n".join(rows) + "\n", ds)
    with store:
        pos = store.positions(np.arange(store.n))
        first = seqs[0]
        expected = [{"H": 2, "G": 2, "I": 2, "E": 1, "B": 1}.get(q8[j % 8], 0) for j in range(len(first))]
        assert pos[0, 0] == -1 and pos[0, 1 : len(first)].tolist() == expected[1:]
        assert (pos[0, len(first) :] == -1).all()


def test_regression_missing_values_are_nan(tmp_path: Path) -> None:
    values = ["1.5,NA", ",2", "-3,4e-1", "0,0"]
    rng = np.random.default_rng(2)
    rows = ["sequence,a,b"] + [f"{''.join(rng.choice(list('ACGT'), 12))},{values[i % 4]}" for i in range(20)]
    _, store = build(tmp_path, "\n".join(rows) + "\n", dataset({"label_columns": ["a", "b"]}, kind="regression"))
    with store:
        y = store.labels
        assert y.dtype == np.float32 and np.isnan(y[0, 1]) and np.isnan(y[1, 0]) and y[2, 1] == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("text", "over", "line", "message"),
    [
        ("sequence,label\nACDEFZZQ,Nucleus\nACDE1,Nucleus\n", {"kind": "multiclass"}, 3,
         "record '2': letter '1' at position 5 is not in the protein alphabet"),
        ("sequence,label\nACDEF,Nucleus\nACDEF,Golgi\n", {"kind": "multiclass", "classes": ["Nucleus", "Cytoplasm"]},
         3, "class 'Golgi' is not in the class list ['Nucleus', 'Cytoplasm']"),
        ("sequence,label\nACDEF,HHEEC\nACDEF,HHE\n", {"kind": "per_position"}, 3,
         "per-position labels have length 3 but the sequence has 5 residues"),
        ("sequence,label\nACDEF,1.5\nACDEF,high\n", {"kind": "regression"}, 3,
         "value 'label' must be a number (or NA), got 'high'"),
    ],
)  # fmt: skip
def test_bad_labels_and_letters_fail_before_writing(
    tmp_path: Path, text: str, over: dict, line: int, message: str
) -> None:
    ds = dataset({}, alphabet="protein", **over)
    with pytest.raises(InputError) as err:
        build(tmp_path, text, ds)
    assert f"t.csv, line {line}: " in str(err.value) and message in str(err.value)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_bad_letters_drop_is_counted(tmp_path: Path) -> None:
    text = "sequence,label\n" + "".join(f"{s},{i % 2}\n" for i, s in enumerate(proteins(20))) + "AC#DE,1\n"
    summary, store = build(tmp_path, text, dataset({}, alphabet="protein", bad_letters="drop"))
    store.close()
    assert summary["dropped"] == {"records with letters outside the protein alphabet": 1}


def test_nonstandard_amino_acids_map_and_are_counted(tmp_path: Path) -> None:
    text = "sequence,label\n" + "".join(f"{s}BZUOX,{i % 2}\n" for i, s in enumerate(proteins(20)))
    summary, store = build(tmp_path, text, dataset({}, alphabet="protein"))
    store.close()
    assert summary["nonstandard_letters"] == {"B": 20, "Z": 20, "U": 20, "O": 20, "X": 20}


def test_too_long_sequences_error_or_crop_ends(tmp_path: Path) -> None:
    long = "M" + "A" * 95 + "KDEL"
    text = "sequence,label\n" + "".join(f"{s},{i % 2}\n" for i, s in enumerate(proteins(20))) + f"{long},1\n"
    with pytest.raises(
        GenomicdlError, match="line 22, record '21': sequence of length 100 is longer than max_length 70"
    ):
        build(tmp_path, text, dataset({}, alphabet="protein", max_length=70))
    _, store = build(tmp_path, text, dataset({}, alphabet="protein", max_length=70, too_long="crop", crop="ends"))
    with store:
        from genomicdl.core.sequence import decode

        last = store.read_seq(store.n - 1, store.n)[0][: store.lengths[-1]]
        assert decode(last, "protein") == "M" + "A" * 65 + "KDEL"  # the N- and C-terminal halves


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"alphabet": "protein", "double_stranded": True}, "protein has no reverse complement"),
        ({"kind": "ordinal"}, "config key datasets.t.kind"),
        ({"kind": "binary", "classes": ["a", "b"]}, "classes: only for kinds"),
        ({"kind": "regression", "loss": "poisson", "classes": None, "alphabet": "rna"}, None),
    ],
)
def test_config_checks_of_alphabet_and_kind(over: dict, message: str | None) -> None:
    if message is None:
        dataset({}, **over)
        return
    with pytest.raises(ConfigError, match=message):
        dataset({}, **over)


def test_headerless_table_split_by_families_keeps_relatives_together(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = []
    for _ in range(40):  # 40 parents, each with 3 point mutants (1-2 substitutions)
        parent = list(rng.choice(list("ACGT"), 30))
        for k in range(4):
            child = parent.copy()
            for pos in rng.choice(30, size=min(k, 2), replace=False):
                child[pos] = "ACGT"[("ACGT".index(child[pos]) + 1) % 4]
            rows.append(f"{''.join(child)}\t{rng.normal():.3f}\t{'NA' if k == 3 else f'{rng.normal():.3f}'}")
    text = "\n".join(rows) + "\n"
    ds = dataset({"columns": ["sequence", "jurkat", "beas2b"], "label_columns": ["jurkat", "beas2b"], "format": "tsv"},
                 kind="regression", split={"valid": 0.2, "test": 0.2, "families": {"max_mismatches": 2}})  # fmt: skip
    summary, store = build(tmp_path, text, ds)
    with store:
        assert store.n == 160 and np.isnan(store.labels[3::4, 1]).all()
        split = store.split
        for family in range(40):  # a family's four members share one split
            assert len(set(split[4 * family : 4 * family + 4].tolist())) == 1
    assert list(summary["leakage_near_duplicates"].values()) == [{"train/valid": 0, "train/test": 0}]
    random = dataset({"columns": ["sequence", "jurkat", "beas2b"], "label_columns": ["jurkat", "beas2b"],
                      "format": "tsv"}, kind="regression")  # fmt: skip
    (tmp_path / "r").mkdir()
    _, store = build(tmp_path / "r", text, random)
    with store:
        mixed = sum(len(set(store.split[4 * f : 4 * f + 4].tolist())) > 1 for f in range(40))
    assert mixed > 10  # a record-by-record split scatters the families
