"""Data-parallel training (genomicdl.training.distributed) with the real torchrun and gloo on CPU:
two ranks equal one process with the same global batch, a killed rank's run resumes
from its last checkpoint to the same model, and the ranks' batches cover every training
row exactly once per epoch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from conftest import snakemake
from test_models import planted_store
from test_slurm import tiny_config
from test_train import checkpoint_epoch, history, train_cfg, weights

from genomicdl.core.errors import GenomicdlError
from genomicdl.io.store import Store
from genomicdl.training import ddp_launch, distributed
from genomicdl.training.engine import train_network
from genomicdl.training.rebalance import load_index, rebalance

# Two ranks sum their halves' gradients where one process averages the whole batch:
# the same arithmetic in another order. After 3 epochs of AdamW the weights differ by
# float32 rounding only (measured: max |difference| 3e-6; allowed 1e-4).
ATOL = 1e-4
EQUAL = {"max_epochs": 3, "patience": 100, "rc_augment": False}
PLAIN = {"batch_norm": False, "dropout": [0.0, 0.0, 0.0]}  # deepsea without per-rank batch statistics


pytestmark = pytest.mark.usefixtures("restore_torch_settings")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A planted-motif store (600 windows of 40 bp, 2 tasks) and its training index."""
    root = tmp_path_factory.mktemp("ddp")
    store = planted_store(root / "store.h5", n=600, window=40, n_tasks=2, seed=5)
    rebalance(store, "none", 1, 1.0, root / "index.npz", root / "index.tsv")
    return {"store": store, "index": root / "index.npz"}


def args(data: dict[str, Path], out: Path, *, threads: int = 1, **cfg: Any) -> dict[str, Any]:
    """Keyword arguments of train_network / distributed.launch for a deepsea run into ``out``."""
    return {
        "store": str(data["store"]),
        "index": str(data["index"]),
        "model": "deepsea",
        "params": PLAIN,
        "train": train_cfg(**cfg),
        "seed": 3,
        "threads": threads,
        "double_stranded": True,
        "out_model": str(out / "model.pt"),
        "out_history": str(out / "history.csv"),
        "out_stats": str(out / "train_stats.json"),
    }


@pytest.fixture(scope="module")
def two_ranks(data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 ranks x batch 8 x 1 thread, through the real torchrun (gloo on localhost)."""
    out = tmp_path_factory.mktemp("two")
    ddp_launch.launch(**args(data, out, threads=2, batch_size=8, processes=2, **EQUAL))
    return out


def test_two_ranks_train_the_model_of_one_process_with_the_same_global_batch(
    data: dict[str, Path], two_ranks: Path, tmp_path: Path
) -> None:
    train_network(**args(data, tmp_path, batch_size=16, **EQUAL))
    one, two = weights(tmp_path), weights(two_ranks)
    assert one.keys() == two.keys()
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    print(f"max |weight difference| 1 process vs 2 ranks: {worst:.2e}")
    assert worst <= ATOL
    assert not all(torch.equal(one[k], torch.zeros_like(one[k])) for k in one)
    for a, b in zip(history(tmp_path), history(two_ranks), strict=True):
        assert a["epoch"] == b["epoch"]
        assert float(a["train_loss"]) == pytest.approx(float(b["train_loss"]), abs=1e-4)
        assert float(a["valid_score"]) == pytest.approx(float(b["valid_score"]), abs=1e-3)
    stats = json.loads((two_ranks / "train_stats.json").read_text())
    assert stats["ranks"] == 2 and stats["backend"] == "gloo" and stats["global_batch_size"] == 16
    assert stats["epochs_run"] == 3 and stats["resumed_from_epoch"] is None
    assert not list(two_ranks.glob(".*")) and not (two_ranks / "checkpoint.pt").exists()  # nothing left behind


def children(pid: int) -> list[int]:
    """Every descendant process of ``pid`` (from /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def rank_process(launcher: int, rank: int) -> int | None:
    """The worker process of ``rank`` under the torchrun process ``launcher``."""
    for pid in children(launcher):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in env and b"LOCAL_RANK=" + str(rank).encode() in env:
            return pid
    return None


def test_a_killed_rank_stops_the_run_and_the_rerun_resumes_to_the_same_model(
    data: dict[str, Path], two_ranks: Path, tmp_path: Path
) -> None:
    run = args(data, tmp_path, threads=2, batch_size=8, processes=2, **EQUAL)
    spec = tmp_path / ddp_launch.SPEC_NAME
    spec.write_text(json.dumps({**run, "threads": 1}))
    cmd = ddp_launch.launch_command(spec, processes=2, nodes=1)
    launcher = subprocess.Popen(cmd, env=ddp_launch.worker_env(1), stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / "checkpoint.pt"
    deadline = time.monotonic() + 180
    while checkpoint_epoch(checkpoint) < 1:  # epoch 1 is saved: epoch 2 is running
        assert launcher.poll() is None, launcher.stderr.read() if launcher.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.01)
    victim = rank_process(launcher.pid, 1)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    _, err = launcher.communicate(timeout=120)
    assert launcher.returncode != 0, err[-2000:]
    assert "SIGKILL" in err or "Signal 9" in err, err[-2000:]  # torchrun saw the rank die
    assert not (tmp_path / "model.pt").exists()  # nothing looks finished
    at_kill = checkpoint_epoch(checkpoint)
    assert 1 <= at_kill < EQUAL["max_epochs"]

    stats = ddp_launch.launch(**run)
    assert stats["resumed_from_epoch"] == at_kill and stats["epochs_run"] == EQUAL["max_epochs"]
    assert history(tmp_path) == history(two_ranks)
    a, b = weights(tmp_path), weights(two_ranks)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize("batch_size", [7, 16])
def test_the_ranks_see_every_training_row_once_per_epoch(data: dict[str, Path], world: int, batch_size: int) -> None:
    index = load_index(data["index"])[0]
    with Store(data["store"]) as store:
        shape = {"batch_size": batch_size, "chunks_per_block": 2, "lengths": store.lengths, "seed": 11}
        streams = [
            distributed.RankStream(str(data["store"]), index, store.labels, kind="binary", rank=r, world=world, **shape)
            for r in range(world)
        ]
        per_rank = [[rows for rows, _ in s.rank_batches(store)] for s in streams]
        global_batches = store.batches(index, batch_size * world, shuffle=True, seed=11, chunks_per_block=2)
        single = [rows for rows, _ in global_batches]
    weights_ = [distributed.step_weights(len(index), batch_size, rank, world) for rank in range(world)]
    assert {len(batches) for batches in per_rank} == {len(single)}  # the same number of steps on every rank
    seen: Counter[int] = Counter()
    for k, rows in enumerate(single):
        parts = [per_rank[r][k] for r in range(world) if weights_[r][k] > 0]
        assert np.array_equal(np.concatenate(parts), rows)  # step k: the global batch, split without overlap
        assert sum(weights_[r][k] for r in range(world)) == pytest.approx(1.0)
        seen.update(int(i) for part in parts for i in part)
    assert seen == Counter(int(i) for i in index)  # every row of the index, as often as it is listed


def test_slices_and_weights_of_an_uneven_last_batch() -> None:
    assert [distributed.slice_bounds(5, r, 2) for r in range(2)] == [(0, 3), (3, 5)]
    assert [distributed.slice_bounds(1, r, 3) for r in range(3)] == [(0, 1), (1, 1), (1, 1)]
    # 21 rows, 3 ranks x 3: two full global batches of 9, then 3 rows, one per rank
    assert distributed.step_weights(21, 3, 0, 3) == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    # 19 rows: the last global batch has 1 row, ranks 1 and 2 train a stand-in with weight 0
    assert distributed.step_weights(19, 3, 0, 3)[-1] == 1.0
    assert distributed.step_weights(19, 3, 2, 3)[-1] == 0.0


def test_rule_resources_and_launch_commands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ddp_launch.CLUSTER_GPUS_ENV, "unset")  # restored (or removed) after the test
    assert ddp_launch.rule_resources({"processes": 1, "nodes": 1}, use_gpu=True) == {"gpu": 1}
    assert ddp_launch.rule_resources({"processes": 2, "nodes": 1}, use_gpu=False) == {"gpu": 0}
    multi = ddp_launch.rule_resources({"processes": 4, "nodes": 3}, use_gpu=True)
    assert multi == {"gpu": 4, "nodes": 3, "tasks": 3, "mpi": "srun", "tasks_per_gpu": 0}
    assert ddp_launch.cluster_gpus({"device": "auto", "processes": 4, "nodes": 3}) == 12
    assert ddp_launch.cluster_gpus({"device": "cpu", "processes": 4, "nodes": 3}) == 0
    ddp_launch.export_cluster_gpus({"device": "cuda", "processes": 2, "nodes": 1})
    assert os.environ[ddp_launch.CLUSTER_GPUS_ENV] == "2"  # what profiles/slurm reads
    single = ddp_launch.launch_command(tmp_path / "s.json", processes=2, nodes=1)
    assert "--standalone" in single and "--nproc-per-node=2" in single and single[-1] == str(tmp_path / "s.json")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(GenomicdlError, match=r"train\.nodes is 2.*SLURM allocation"):
        ddp_launch.launch_command(tmp_path / "s.json", processes=1, nodes=2)


@pytest.mark.e2e
def test_snakemake_trains_a_zoo_network_with_two_processes(tmp_path: Path) -> None:
    cfg = yaml.safe_load(tiny_config(tmp_path / "tiny.yaml", "cpu").read_text())
    cfg["models"] = ["deepbind"]  # with batch norm: statistics per rank on CPU
    cfg["train"] |= {"processes": 2, "max_epochs": 2}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    target = "models/tiny/deepbind/none/1/train_stats.json"
    result = snakemake([target, "--cores", "2", "--configfile", "tiny.yaml"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = json.loads((tmp_path / target).read_text())
    assert stats["ranks"] == 2 and stats["nodes"] == 1 and stats["backend"] == "gloo" and stats["threads"] == 1
    assert stats["epochs_run"] == 2 and (tmp_path / "models/tiny/deepbind/none/1/model.pt").is_file()
    log = (tmp_path / "logs/train/tiny/deepbind/none/1.log").read_text()
    assert "torchrun" in log and "--nproc-per-node=2" in log
    assert "rank 0 of 2" in log and "rank 1 of 2" in log  # both ranks logged into the rule's log


def test_a_failing_rank_is_a_clear_error_and_leaves_no_outputs(data: dict[str, Path], tmp_path: Path) -> None:
    run = args(data, tmp_path, threads=2, batch_size=8, processes=2, **EQUAL)
    run["params"] = {"no_such_setting": 1}  # every rank fails building the network
    with pytest.raises(GenomicdlError, match=r"distributed training of .*model\.pt failed: torchrun exited with 1"):
        ddp_launch.launch(**run)
    assert not list(tmp_path.iterdir())  # no model, history, statistics, checkpoint or spec file
