"""Fine-tuning (genomicdl.training.finetune): the leakage guard against a planted duplicate,
near-duplicate and overlapping window; the trunk copied, a new head, frozen layers and
the trunk's learning rate through the real engine; refusals of another alphabet or window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import write_protein_store
from test_train import train_cfg

from genomicdl.io.store import Store, StoreWriter
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training.checkpoints import load_torch
from genomicdl.training.engine import train_network
from genomicdl.training.finetune import InitError, guard, param_groups
from genomicdl.training.rebalance import rebalance

pytestmark = pytest.mark.usefixtures("one_thread")


def write_store(
    path: Path,
    seq: np.ndarray,
    split: np.ndarray,
    *,
    tasks: tuple[str, ...] = ("a",),
    start: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> Path:
    """A store of the given codes and splits (a table without ``start``, genome windows on chr1 with it)."""
    target = Target("binary", tasks)
    if labels is None:  # learnable labels: task t is positive where the window holds the code t+ ... at its centre
        labels = np.stack([(seq[:, seq.shape[1] // 2] == t) for t in range(len(tasks))], axis=1).astype(np.uint8)
    writer = StoreWriter(path, window=seq.shape[1], target=target, chroms=["chr1"], ids=start is None)
    extra: dict[str, Any] = {"start": start} if start is not None else {"ids": [f"r{i}" for i in range(len(seq))]}
    writer.append(seq, labels=labels, split=split, **extra)
    writer.close()
    return path


def splits(n: int) -> np.ndarray:
    s = np.zeros(n, np.uint8)
    s[int(0.7 * n) : int(0.85 * n)] = 1
    s[int(0.85 * n) :] = 2
    return s


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A table store (300 random 40-mers) and its training index."""
    root = tmp_path_factory.mktemp("source")
    seq = np.random.default_rng(1).integers(0, 4, (300, 40)).astype(np.uint8)
    store = write_store(root / "source.h5", seq, splits(300))
    rebalance(store, "none", 1, 1.0, root / "index.npz", root / "counts.tsv")
    return {"store": store, "index": root / "index.npz", "seq": seq, "root": root}


def planted(source: dict[str, Any], root: Path) -> tuple[Path, list[int]]:
    """A new table store whose test split holds two copies of source training rows, one
    copy with 2 substitutions, and one copy of a source *validation* row (not trained on)."""
    rng = np.random.default_rng(2)
    seq = rng.integers(0, 4, (100, 40)).astype(np.uint8)
    split = splits(100)
    test = np.flatnonzero(split == 2)
    src = source["seq"]
    seq[test[0]], seq[test[1]] = src[3], src[100]  # rows 3 and 100 are source training rows
    near = src[7].copy()
    near[[5, 30]] = (near[[5, 30]] + 1) % 4
    seq[test[2]] = near
    seq[test[3]] = src[220]  # a source validation row: not in the training data
    return write_store(root / "new.h5", seq, split), test[:3].tolist()


def test_the_guard_finds_a_planted_duplicate_and_near_duplicate(source: dict[str, Any], tmp_path: Path) -> None:
    new, leaked = planted(source, tmp_path)
    counts = guard(store=str(new), source_store=str(source["store"]), source_index=str(source["index"]), policy="warn")
    assert (counts["identical"], counts["near_identical"], counts["overlapping"], counts["leaked"]) == (2, 1, 0, 3)
    assert counts["dropped_test_rows"] == []
    exact_only = guard(
        store=str(new),
        source_store=str(source["store"]),
        source_index=str(source["index"]),
        policy="drop",
        max_mismatches=0,
    )
    assert (exact_only["identical"], exact_only["near_identical"]) == (2, 0)
    assert exact_only["dropped_test_rows"] == leaked[:2]
    with pytest.raises(InitError, match=r"3 of 15 test sequences .*\(2 identical, 1 within 2 mismatches") as err:
        guard(store=str(new), source_store=str(source["store"]), source_index=str(source["index"]), policy="fail")
    assert "r85" in str(err.value)  # an example id of a leaked test row


def test_the_guard_finds_overlapping_genome_windows(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    src_seq, new_seq = (rng.integers(0, 4, (40, 50)).astype(np.uint8) for _ in range(2))
    src = write_store(tmp_path / "src.h5", src_seq, splits(40), start=np.arange(40) * 100)  # train: starts 0..2700
    rebalance(src, "none", 1, 1.0, tmp_path / "index.npz", tmp_path / "counts.tsv")
    start = np.arange(40) * 100 + 10_000
    start[[34, 35]] = [120, 2725]  # two test windows overlapping source training windows [100,150) and [2700,2750)
    start[36] = 3000  # within the source's span but on its validation windows
    new = write_store(tmp_path / "new.h5", new_seq, splits(40), start=start)
    counts = guard(store=str(new), source_store=str(src), source_index=str(tmp_path / "index.npz"), policy="drop")
    assert (counts["overlapping"], counts["identical"], counts["leaked"]) == (2, 0, 2)
    assert counts["dropped_test_rows"] == [34, 35]


def run(store: Path, index: Path, out: Path, init_from: dict[str, Any] | None = None, **cfg: Any) -> dict[str, Any]:
    return train_network(
        store=str(store),
        index=str(index),
        model="deepbind",
        params={"filters": 8},
        seed=1,
        threads=1,
        train=train_cfg(max_epochs=2, patience=2, batch_size=32, **cfg),
        double_stranded=True,
        out_model=str(out / "model.pt"),
        out_history=str(out / "history.csv"),
        out_stats=str(out / "train_stats.json"),
        init_from=init_from,
    )


def init(source: dict[str, Any], model: Path, **kw: Any) -> dict[str, Any]:
    return {
        "dataset": "source",
        "model": "deepbind",
        "balance": "none",
        "seed": 1,
        "file": str(model),
        "store": str(source["store"]),
        "index": str(source["index"]),
        "freeze": False,
        "trunk_lr": 0.1,
        "leakage": "warn",
        "max_mismatches": 2,
    } | kw


@pytest.fixture(scope="module")
def trained(source: dict[str, Any]) -> Path:
    out = source["root"] / "trained"
    run(source["store"], source["index"], out)
    return out / "model.pt"


def test_fine_tuning_copies_the_trunk_freezes_it_and_trains_a_new_head(
    source: dict[str, Any], trained: Path, tmp_path: Path
) -> None:
    seq = np.random.default_rng(6).integers(0, 4, (200, 40)).astype(np.uint8)
    new = write_store(tmp_path / "new.h5", seq, splits(200), tasks=("x", "y"))  # other targets: a new head
    rebalance(new, "none", 1, 1.0, tmp_path / "index.npz", tmp_path / "counts.tsv")
    stats = run(new, tmp_path / "index.npz", tmp_path / "ft", init(source, trained, freeze=True))
    report = stats["init_from"]
    assert report["new_head"] == ["head"] and report["same_targets"] is False and report["frozen"] > 0
    assert report["guard"]["leaked"] == 0 and report["guard"]["dropped"] == 0
    before, after = load_torch(trained)["state_dict"], load_torch(tmp_path / "ft" / "model.pt")["state_dict"]
    assert torch.equal(before["conv.weight"], after["conv.weight"]), "a frozen trunk stays as trained"
    assert after["head.1.weight"].shape[0] == 2 != before["head.1.weight"].shape[0]
    saved = load_torch(tmp_path / "ft" / "model.pt")
    assert saved["init_from"]["file"] == str(trained)
    assert json.loads((tmp_path / "ft" / "train_stats.json").read_text())["init_from"]["copied"] > 0
    # not frozen: the trunk moves (at a tenth of the head's learning rate), the same targets keep the head
    new1 = write_store(tmp_path / "same.h5", seq, splits(200))
    rebalance(new1, "none", 1, 1.0, tmp_path / "index1.npz", tmp_path / "counts1.tsv")
    stats = run(new1, tmp_path / "index1.npz", tmp_path / "ft1", init(source, trained))
    assert stats["init_from"]["new_head"] == [] and stats["init_from"]["frozen"] == 0
    moved = load_torch(tmp_path / "ft1" / "model.pt")["state_dict"]
    assert not torch.equal(before["conv.weight"], moved["conv.weight"])


def test_the_trunk_learns_at_a_fraction_of_the_heads_rate() -> None:
    net = build_network(
        "deepbind", target=Target("binary", ("a",)), window=40, alphabet="dna", variable=False, params={"filters": 8}
    )
    groups = param_groups(net, 0.002, 0.1)
    assert [g["lr"] for g in groups] == [0.002, pytest.approx(0.0002)]
    head = {id(p) for p in net.head.parameters()}
    assert {id(p) for p in groups[0]["params"]} == head
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))


def test_a_planted_duplicate_fails_a_fine_tuning_run_before_training(
    source: dict[str, Any], trained: Path, tmp_path: Path
) -> None:
    new, _ = planted(source, tmp_path)
    rebalance(new, "none", 1, 1.0, tmp_path / "index.npz", tmp_path / "counts.tsv")
    with pytest.raises(InitError, match="init_from leakage: 3 of 15"):
        run(new, tmp_path / "index.npz", tmp_path / "ft", init(source, trained, leakage="fail"))
    assert not (tmp_path / "ft" / "model.pt").exists()
    stats = run(new, tmp_path / "index.npz", tmp_path / "drop", init(source, trained, leakage="drop"))
    assert stats["init_from"]["guard"]["dropped"] == 3
    from genomicdl.training.finetune import excluded_test_rows

    with Store(new) as st:
        assert set(excluded_test_rows(tmp_path / "drop" / "model.pt").tolist()) <= set(st.rows("test").tolist())
    assert len(excluded_test_rows(tmp_path / "drop" / "model.pt")) == 3


@pytest.mark.parametrize("mismatch", ["alphabet", "window"])
def test_init_from_a_model_of_another_alphabet_or_window_is_a_clear_error(
    mismatch: str, source: dict[str, Any], trained: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(8)
    if mismatch == "window":
        seq = rng.integers(0, 4, (100, 60)).astype(np.uint8)
        new = write_store(tmp_path / "new.h5", seq, splits(100))
        expected = r"trained on windows of 40; .* has windows of 60"
    else:
        seq = rng.integers(0, 20, (100, 40)).astype(np.uint8)
        writer = StoreWriter(
            tmp_path / "new.h5",
            window=40,
            target=Target("binary", ("a",)),
            chroms=["chr1"],
            alphabet="protein",
            ids=True,
        )
        writer.append(
            seq, labels=(seq[:, :1] < 10).astype(np.uint8), split=splits(100), ids=[f"p{i}" for i in range(100)]
        )
        writer.close()
        new = tmp_path / "new.h5"
        expected = (
            "trained on dna sequences; .* has protein sequences -- a network cannot start from a model of another"
        )
    rebalance(new, "none", 1, 1.0, tmp_path / "index.npz", tmp_path / "counts.tsv")
    with pytest.raises(InitError, match=expected) as err:
        run(new, tmp_path / "index.npz", tmp_path / "ft", init(source, trained))
    assert str(trained) in str(err.value)
    assert not (tmp_path / "ft" / "model.pt").exists()


def test_init_from_an_exported_torchscript_file(source: dict[str, Any], trained: Path, tmp_path: Path) -> None:
    """An export folder's model.ts (with its export.json and model card beside it) starts a network too."""
    from genomicdl.core.files import write_json_atomic
    from genomicdl.export.convert import encode_batch, export_model

    with Store(source["store"]) as st:
        rows = st.rows("test")[:16]
        batch = encode_batch(st.batches(rows, 16).__next__()[1], st.lengths[rows], "dna", 40)
    saved = load_torch(trained)
    export_model(
        trained,
        tmp_path / "export",
        [batch],
        finish=lambda d, _: write_json_atomic(d / "model_card.json", {"model": {"params": saved["params"]}}),
    )
    seq = np.random.default_rng(9).integers(0, 4, (120, 40)).astype(np.uint8)
    new = write_store(tmp_path / "new.h5", seq, splits(120))
    rebalance(new, "none", 1, 1.0, tmp_path / "index.npz", tmp_path / "counts.tsv")
    stats = run(
        new,
        tmp_path / "index.npz",
        tmp_path / "ft",
        init(source, trained, file=str(tmp_path / "export" / "model.ts"), freeze=True),
    )
    assert stats["init_from"]["copied"] > 0 and stats["init_from"]["new_head"] == []
    before, after = saved["state_dict"], load_torch(tmp_path / "ft" / "model.pt")["state_dict"]
    assert torch.equal(before["conv.weight"], after["conv.weight"])


def test_the_config_check_refuses_another_alphabet_or_window_before_any_job() -> None:
    from genomicdl.training.finetune import check_config, spec

    datasets = {
        "src": {"alphabet": "dna", "window": 101},
        "ft": {"alphabet": "dna", "window": 101, "init_from": {"dataset": "src"}},
    }
    check_config({"datasets": datasets})
    assert spec({"datasets": datasets}, "ft", "deepbind", "none", 2)["file"] == "models/src/deepbind/none/2/model.pt"
    for key, value in (("alphabet", "rna"), ("window", 200)):
        bad = {**datasets, "ft": {**datasets["ft"], key: value}}
        with pytest.raises(InitError, match=f"ft has {key} {value}, its source src has .* another {key}"):
            check_config({"datasets": bad})
    with pytest.raises(InitError, match="cannot start from its own model"):
        check_config({"datasets": {"src": {"init_from": {"dataset": "src"}}}})
    named = {"ft": {"init_from": {"file": "m.ts", "model": "danq"}}}
    assert spec({"datasets": named}, "ft", "deepbind", "none", 1) is None  # another architecture: from scratch


def protein_store(path: Path, seqs: list[np.ndarray], split: np.ndarray, classes: tuple[str, ...]) -> Path:
    """A variable-length protein store with random per-residue labels (the window is the longest row)."""
    rng = np.random.default_rng(len(classes))
    pos = np.full((len(seqs), max(len(s) for s in seqs)), -1, np.int8)
    for i, s in enumerate(seqs):
        pos[i, : len(s)] = rng.integers(0, len(classes), len(s))
    return write_protein_store(path, seqs, pos, split, classes)


def test_a_protein_network_starts_from_a_3_state_model_of_another_window(tmp_path: Path) -> None:
    """Secondary structure: a dilated network trained on 3-state labels (proteins up to 50
    residues) starts an 8-state one (proteins up to 30): windows of variable-length stores
    may differ, the trunk is copied, the head is new, and a test protein that the source
    trained on is found and left out."""
    rng = np.random.default_rng(11)
    src_seqs = [rng.integers(0, 20, n).astype(np.uint8) for n in rng.integers(10, 51, 120)]
    src = protein_store(tmp_path / "src.h5", src_seqs, splits(120), ("C", "E", "H"))
    rebalance(src, "none", 1, 1.0, tmp_path / "src_index.npz", tmp_path / "src_counts.tsv")
    new_seqs = [rng.integers(0, 20, n).astype(np.uint8) for n in rng.integers(8, 31, 100)]
    new_split = splits(100)
    test = np.flatnonzero(new_split == 2)
    trained_row = next(i for i in range(84) if len(src_seqs[i]) <= 30)  # a source training protein
    new_seqs[test[0]] = src_seqs[trained_row]
    new = protein_store(tmp_path / "new.h5", new_seqs, new_split, ("L", "B", "E", "G", "I", "H", "S", "T"))
    rebalance(new, "none", 1, 1.0, tmp_path / "new_index.npz", tmp_path / "new_counts.tsv")
    with Store(src) as a, Store(new) as b:
        assert a.variable and b.variable and a.window == 50 and b.window == 30

    def fit(store: Path, index: Path, out: Path, init_from: dict[str, Any] | None = None) -> dict[str, Any]:
        return train_network(
            store=str(store), index=str(index), model="dilated", params={"pool": 1, "layers": 2, "channels": 16},
            seed=1, threads=1, train=train_cfg(max_epochs=1, patience=1, batch_size=16), double_stranded=False,
            out_model=str(out / "model.pt"), out_history=str(out / "history.csv"),
            out_stats=str(out / "train_stats.json"), init_from=init_from,
        )  # fmt: skip

    fit(src, tmp_path / "src_index.npz", tmp_path / "src")
    source = {"store": src, "index": tmp_path / "src_index.npz"}
    init_from = init(source, tmp_path / "src" / "model.pt") | {"model": "dilated", "trunk_lr": 1.0, "leakage": "drop"}
    stats = fit(new, tmp_path / "new_index.npz", tmp_path / "ft", init_from)
    report = stats["init_from"]
    assert report["new_head"] == ["head"] and report["same_targets"] is False and report["copied"] > 0
    assert (report["guard"]["identical"], report["guard"]["dropped"]) == (1, 1)
    from genomicdl.training.finetune import excluded_test_rows

    assert excluded_test_rows(tmp_path / "ft" / "model.pt").tolist() == [test[0]]
    before = load_torch(tmp_path / "src" / "model.pt")["state_dict"]
    after = load_torch(tmp_path / "ft" / "model.pt")["state_dict"]
    head = [k for k in before if k.startswith("head.") and k.endswith("weight")][-1]
    assert (before[head].shape[0], after[head].shape[0]) == (3, 8)
