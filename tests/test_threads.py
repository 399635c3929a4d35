"""Training threads from the network's counted cost: the count itself, the rule, and the
thread count Snakemake gives each train_network job (a real dry run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
import yaml
from conftest import snakemake
from torch import nn

from genomicdl.training import threads


def test_forward_macs_counts_convolutions_linear_layers_and_recurrences() -> None:
    net = nn.Sequential(nn.Conv1d(4, 8, 5, padding=2), nn.Flatten(), nn.Linear(8 * 20, 3))
    assert threads.forward_macs(net, 20, 4) == 20 * 8 * 4 * 5 + 8 * 20 * 3

    class Rnn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(4, 6, batch_first=True, bidirectional=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.gru(x.transpose(1, 2))[0]

    assert threads.forward_macs(Rnn(), 10, 4) == 10 * 3 * 6 * (4 + 6) * 2


def test_small_networks_get_one_thread_and_large_ones_more_when_cores_allow() -> None:
    small = threads.network_macs("deepbind", json.dumps({"pool": "local_max"}), 101, "rna")
    large = threads.network_macs("basset", json.dumps({"filters": [128, 128, 128]}), 1000, "dna")
    assert small < 1e6 < threads.SMALL_MACS < large
    assert threads.choose_threads(small, 16) == 1
    assert threads.choose_threads(large, 2) == 1  # on 2 cores a second thread lost (bench/threads.py)
    assert threads.choose_threads(large, 4) == 2 and threads.choose_threads(large, 64) == threads.LARGE_THREADS


def test_train_threads_reads_the_built_store_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"datasets": {"d": {"window": None, "alphabet": "dna"}}}
    params = {"filters": [128, 128, 128]}
    monkeypatch.chdir(tmp_path)
    built = threads.network_macs.cache_info().misses
    assert threads.train_threads(config, "d", "basset", params, 2) == 1  # 2 cores: one thread ...
    assert threads.network_macs.cache_info().misses == built  # ... decided without building the network
    assert threads.train_threads(config, "d", "basset", params, 8) == 2  # nominal 1,000 bp: large
    (tmp_path / "data" / "d").mkdir(parents=True)
    (tmp_path / "data" / "d" / "summary.json").write_text(json.dumps({"window": 101}))
    assert threads.train_threads(config, "d", "basset", params, 8) == 1  # the store's 101 bp: small
    assert threads.train_threads(config, "d", "basset", {"filters": "many"}, 8) == 1  # the job reports it


def test_each_training_job_asks_for_the_threads_of_its_network(tmp_path: Path) -> None:
    (tmp_path / "t.fa").write_text("".join(f">r{i} class:{i % 2}\nACGTACGTAA\n" for i in range(20)))
    cfg = {
        "datasets": {"d": {"table": {"url": "t.fa", "label_pattern": r"class:(\d)"}}},
        "models": ["deepbind", "basset"],
        "model_params": {"basset": {"filters": [128, 128, 128]}},
        "seeds": [1],
        "train": {"device": "cpu"},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    targets = [f"models/d/{m}/none/1/model.pt" for m in ("deepbind", "basset")]
    result = snakemake(["-n", *targets, "--cores", "4", "--configfile", "c.yaml"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = re.findall(r"rule train_network:.*?model=(\w+).*?\n(?:    threads: (\d+)\n)?", result.stdout, re.S)
    assert dict(jobs) == {"deepbind": "", "basset": "2"}  # Snakemake prints threads only above 1
