"""The export stage: every network of the zoo to ONNX and TorchScript, checked with
onnxruntime against PyTorch; refusals (incomplete runs, a mismatch); and predictions from
the exported files alone (python -m genomicdl.export.runtime) equal to the predict stage's."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO

from genomicdl.core.files import write_json_atomic
from genomicdl.core.sequence import encode
from genomicdl.evaluation.predict import predict_table
from genomicdl.export.convert import OPSET, TOLERANCE, ExportError, encode_batch, export_model
from genomicdl.export.runtime import main as exported_main
from genomicdl.kinds.targets import Target
from genomicdl.models import NETWORKS, build_network
from genomicdl.training.checkpoints import MODEL_FORMAT, save_torch, versions

SIGNAL_TASKS = tuple(f"cov.{s}:{b}" for s in ("fwd", "rev") for b in range(4))


pytestmark = pytest.mark.usefixtures("one_thread")


def write_run(
    out: Path,
    name: str,
    target: Target,
    *,
    window: int = 64,
    alphabet: str = "dna",
    variable: bool = False,
    rc_average: bool = True,
) -> Path:
    """A finished run (model.pt in the engine's format + train_stats.json) of a seeded,
    untrained network: exporting does not depend on what the weights learnt."""
    torch.manual_seed(0)
    net = build_network(name, target=target, window=window, alphabet=alphabet, variable=variable, params={})
    for m in net.modules():  # non-trivial batch-norm statistics, as after training
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    out.mkdir(parents=True, exist_ok=True)
    save_torch(
        {
            "format": MODEL_FORMAT,
            "family": "torch",
            "model": name,
            "params": {},
            "target": target.to_json(),
            "tasks": list(target.tasks),
            "window": window,
            "variable": variable,
            "alphabet": alphabet,
            "double_stranded": rc_average,
            "output_length": None,
            "train": {},
            "seed": 1,
            "balance": "none",
            "versions": versions(),
            "rc_average": rc_average,
            "best_epoch": 1,
            "best_valid_score": 0.5,
            "parameters": sum(p.numel() for p in net.parameters()),
            "state_dict": net.state_dict(),
        },
        out / "model.pt",
    )
    write_json_atomic(out / "train_stats.json", {"model": name})
    return out / "model.pt"


def windows(alphabet: str, window: int, variable: bool, n: int = 37) -> list:
    """Two batches of random windows (unknown letters included; random lengths if variable)."""
    rng = np.random.default_rng(3)
    from genomicdl.core.sequence import get

    codes = rng.integers(0, get(alphabet).channels + 1, (n, window)).astype(np.uint8)
    lengths = rng.integers(window // 2, window + 1, n) if variable else np.full(n, window)
    for row, length in zip(codes, lengths):
        row[length:] = get(alphabet).unknown
    return [
        encode_batch(codes[:20], lengths[:20], alphabet, window),
        encode_batch(codes[20:], lengths[20:], alphabet, window),
    ]


ZOO = {name: ("binary", "dna", False) for name in NETWORKS} | {
    "bpnet": ("signal", "dna", False),
    "binned": ("signal", "dna", False),
    "deeploc": ("multiclass", "protein", True),
    "light_attention": ("multiclass", "protein", True),
}


def exported_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m genomicdl.export.runtime`` with ``args``, run from the repository."""
    cmd = [sys.executable, "-m", "genomicdl.export.runtime", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_zoo_network_exports_and_onnxruntime_matches_pytorch(name: str, tmp_path: Path) -> None:
    kind, alphabet, variable = ZOO[name]
    target = {
        "binary": Target("binary", ("a", "b")),
        "signal": Target("regression", SIGNAL_TASKS, (), "poisson"),
        "multiclass": Target("multiclass", ("loc",), ("c1", "c2", "c3")),
    }[kind]
    model = write_run(
        tmp_path / "run", name, target, alphabet=alphabet, variable=variable, rc_average=alphabet == "dna"
    )
    info = export_model(model, tmp_path / "export", windows(alphabet, 64, variable))
    for f in ("model.onnx", "model.ts", "export.json"):
        assert (tmp_path / "export" / f).is_file(), f
    v = info["validation"]
    assert v["windows"] == 37
    assert v["max_abs_diff_onnxruntime"] <= TOLERANCE and v["max_abs_diff_torchscript"] <= TOLERANCE, v
    assert json.loads((tmp_path / "export" / "export.json").read_text())["opset"] == OPSET
    import onnx

    assert onnx.load(str(tmp_path / "export" / "model.onnx")).opset_import[0].version == OPSET


@pytest.mark.parametrize("name", ["deepbind", "danq", "cnn_birnn"])
def test_variable_length_strand_averaged_networks_export(name: str, tmp_path: Path) -> None:
    """Masked pooling, packed recurrent layers and per-row reverse complements trace."""
    model = write_run(tmp_path / "run", name, Target("binary", ("a",)), variable=True)
    info = export_model(model, tmp_path / "export", windows("dna", 64, True))
    assert info["inputs"].keys() == {"x", "lengths"}
    assert info["validation"]["max_abs_diff_onnxruntime"] <= TOLERANCE


def test_a_mismatch_above_the_tolerance_fails_and_leaves_nothing(tmp_path: Path) -> None:
    model = write_run(tmp_path / "run", "deepbind", Target("binary", ("a",)))
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_model(model, tmp_path / "export", windows("dna", 64, False), tolerance=-1.0)
    assert not (tmp_path / "export").exists()
    assert not list(tmp_path.glob(".export*")), "no temporary folder left"


@pytest.mark.parametrize("state", ["checkpoint", "no_stats", "no_model"])
def test_exporting_an_incomplete_run_is_a_clear_error(state: str, tmp_path: Path) -> None:
    model = write_run(tmp_path / "run", "deepbind", Target("binary", ("a",)))
    if state == "checkpoint":  # training was interrupted and resumed: a checkpoint is still there
        (tmp_path / "run" / "checkpoint.pt").write_bytes(b"x")
    elif state == "no_stats":
        (tmp_path / "run" / "train_stats.json").unlink()
    else:
        model.unlink()
    expected = {
        "checkpoint": "checkpoint.pt still there",
        "no_stats": "train_stats.json is missing",
        "no_model": "no trained model",
    }[state]
    with pytest.raises(ExportError, match=expected) as err:
        export_model(model, tmp_path / "export", windows("dna", 64, False))
    assert str(model) in str(err.value)
    assert not (tmp_path / "export").exists()
    proc = exported_cli("--model", tmp_path / "export" / "model.onnx", "--fasta", tmp_path / "none.fa")
    assert proc.returncode == 1 and "no such exported model" in proc.stderr


def write_fasta(path: Path) -> list[tuple[str, np.ndarray]]:
    """Records shorter and longer than the window, with N; and their codes."""
    rng = np.random.default_rng(5)
    records = []
    with open(path, "w") as fh:
        for i, length in enumerate([64, 30, 100, 64, 63, 1, 200]):
            seq = "".join(rng.choice(list("ACGTN"), length, p=[0.24, 0.24, 0.24, 0.24, 0.04]))
            fh.write(f">seq{i} description\n{seq}\n")
            records.append((f"seq{i}", encode(seq, "dna")))
    return records


def read_table(path: Path) -> tuple[list[str], np.ndarray]:
    with gzip.open(path, "rt") if str(path).endswith(".gz") else open(path) as fh:
        lines = [line.rstrip("\n").split("\t") for line in fh]
    return lines[0], np.array([[float(x) for x in r[1:]] for r in lines[1:]])


@pytest.mark.parametrize(("name", "kind"), [("deepbind", "binary"), ("danq", "binary"), ("bpnet", "signal")])
def test_exported_model_predicts_a_fasta_as_the_predict_stage(name: str, kind: str, tmp_path: Path) -> None:
    target = Target("binary", ("a", "b")) if kind == "binary" else Target("regression", SIGNAL_TASKS, (), "poisson")
    model = write_run(tmp_path / "run", name, target)
    export_model(model, tmp_path / "export", windows("dna", 64, False))
    records = write_fasta(tmp_path / "seqs.fa")
    predict_table(str(model), records, tmp_path / "stage.tsv.gz")
    header, expected = read_table(tmp_path / "stage.tsv.gz")
    for f in ("model.onnx", "model.ts"):
        out = tmp_path / f"{f}.tsv"
        assert (
            exported_main(
                ["--model", str(tmp_path / "export" / f), "--fasta", str(tmp_path / "seqs.fa"), "--out", str(out)]
            )
            == 0
        )
        got_header, got = read_table(out)
        assert got_header == header
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    names = [line.split("\t")[0] for line in (tmp_path / "model.onnx.tsv").read_text().splitlines()[1:]]
    assert names == [r[0] for r in records]


def test_a_bad_letter_names_the_record_and_writes_nothing(tmp_path: Path) -> None:
    model = write_run(tmp_path / "run", "deepbind", Target("binary", ("a",)))
    export_model(model, tmp_path / "export", windows("dna", 64, False))
    (tmp_path / "bad.fa").write_text(">ok\nACGT\n>broken\nACGTJ\n")
    proc = exported_cli(
        "--model", tmp_path / "export" / "model.onnx", "--fasta", tmp_path / "bad.fa", "--out", tmp_path / "p.tsv"
    )
    assert proc.returncode == 1
    assert "bad.fa" in proc.stderr and "record 2 (broken)" in proc.stderr and "J" in proc.stderr
    assert not (tmp_path / "p.tsv").exists()


def test_fasta_headers_with_a_space_after_the_marker_keep_their_name(tmp_path: Path) -> None:
    """RBP-31's FASTA writes "> chr1,+,899156,899256; class:1": the record is named by its first word."""
    from genomicdl.export.runtime import read_fasta

    (tmp_path / "s.fa").write_text("> chr1,+,899156,899256; class:1\nACGT\nAC\n>plain\nGG\n")
    assert [(n, len(c)) for n, c in read_fasta(tmp_path / "s.fa", "dna")] == [
        ("chr1,+,899156,899256;", 6),
        ("plain", 2),
    ]
