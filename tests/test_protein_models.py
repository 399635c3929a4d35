"""Protein models (issue 14): the DeepLoc-style network and its attention, BLOSUM62
features, the composition baseline, and the attention plot."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.sequence import encode
from genomicdl.datasets.table_dataset import build_table_dataset
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.models.baselines.kmer import KmerSpectrum
from genomicdl.models.catalog import supported_kinds
from genomicdl.models.networks.protein_features import ResidueFeatures, blosum62
from genomicdl.plots.protein import attention_run
from genomicdl.training.checkpoints import MODEL_FORMAT, save_torch

CLASSES = tuple("abcdefghij")


def batch(lengths: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    width = max(lengths)
    x = torch.zeros(len(lengths), 20, width)
    for i, n in enumerate(lengths):
        x[i, torch.randint(0, 20, (n,), generator=gen), torch.arange(n)] = 1.0
    return x, torch.tensor(lengths)


@pytest.mark.parametrize("features", ["onehot", "blosum62", "onehot+blosum62"])
def test_deeploc_attention_is_a_distribution_over_valid_residues(features: str) -> None:
    torch.manual_seed(0)
    target = Target("multiclass", ("location",), CLASSES, "default")
    model = build_network("deeploc", target=target, window=60, alphabet="protein", variable=True,
                          params={"features": features}).eval()  # fmt: skip
    x, lengths = batch([60, 25, 40])
    logits = model(x, lengths)
    assert logits.shape == (3, 10)
    weights = model.attention(x, lengths)
    assert torch.allclose(weights.sum(1), torch.ones(3), atol=1e-5)
    assert float(weights[1, 25:].abs().sum()) == 0.0
    alone = model(x[1:2, :, :25], lengths[1:2])  # padding changes nothing
    assert torch.allclose(alone[0], logits[1], atol=1e-5)


def test_deeploc_kinds_and_position_refusal() -> None:
    assert set(supported_kinds("deeploc")) == {"multiclass", "multilabel"}
    target = Target("per_position", ("q3",), ("C", "E", "H"), "default")
    with pytest.raises(ValueError, match="cannot predict per_position"):
        build_network("deeploc", target=target, window=30, alphabet="protein", variable=True, params=None)


def first_conv(model: torch.nn.Module) -> torch.nn.Conv1d:
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv1d))


def test_dilated_takes_blosum62_features_per_residue_and_refuses_them_for_dna() -> None:
    torch.manual_seed(0)
    target = Target("per_position", ("q8",), tuple("LBEGIHST"), "default")
    params = {"features": "onehot+blosum62", "pool": 1, "layers": 2, "channels": 16}
    model = build_network("dilated", target=target, window=60, alphabet="protein", variable=True, params=params)
    model.eval()
    assert first_conv(model).in_channels == 40  # 20 one-hot + 20 BLOSUM62 rows
    x, lengths = batch([60, 25])
    out = model(x, lengths)
    assert out.shape == (2, 60, 8)  # (batch, residues, classes)
    alone = model(x[1:2, :, :25], lengths[1:2])  # padding changes nothing
    assert torch.allclose(alone[0], out[1, :25], atol=1e-5)
    plain = build_network("dilated", target=target, window=60, alphabet="protein", variable=True,
                          params={"pool": 1, "layers": 2, "channels": 16})  # fmt: skip
    assert first_conv(plain).in_channels == 20 and "blosum" not in dict(plain.named_buffers())
    dna = Target("binary", ("peak",), None, "default")
    with pytest.raises(ValueError, match="need the protein alphabet"):
        build_network("dilated", target=dna, window=60, alphabet="dna", variable=False,
                      params={"features": "blosum62"})  # fmt: skip


def test_blosum62_features_follow_the_alphabet() -> None:
    matrix = blosum62()
    assert matrix.shape == (20, 20) and np.allclose(matrix, matrix.T)
    a, w = encode("A", "protein")[0], encode("W", "protein")[0]
    assert matrix[a, a] == 4 / 4 and matrix[w, w] == 11 / 4
    x, _ = batch([5])
    x[0, :, 4] = 0  # padding / unknown stays zero
    out = ResidueFeatures("onehot+blosum62")(x)
    assert out.shape == (1, 40, 5) and float(out[0, :, 4].abs().sum()) == 0.0


def test_kmer_logreg_k2_is_amino_acid_plus_dipeptide_composition() -> None:
    codes = encode("ACAC", "protein")[None, :]
    features = KmerSpectrum(2, "protein", double_stranded=False)(codes, np.array([4]))
    assert features.shape == (1, 20 + 400)
    assert features[0, :20].sum() == pytest.approx(1.0) and features[0, 20:].sum() == pytest.approx(1.0)


def test_attention_plot_of_a_saved_model(tmp_path: Path) -> None:
    schema = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    src = REPO / "tests" / "data" / "deeploc2_300.csv.gz"
    raw = {"d": {"table": {"url": str(src), "label_columns": ["label"], "id_column": "accession"},
                 "alphabet": "protein", "kind": "multilabel", "split": {"valid": 0.2, "test": 0.2}}}  # fmt: skip
    ds = gconfig.validate({"datasets": raw, "models": ["deeploc"]}, schema)["datasets"]["d"]
    store = tmp_path / "d.h5"
    summary = build_table_dataset(dataset_spec("d", ds), {"table": str(src)}, str(store), str(tmp_path / "s.json"), str(tmp_path / "g.tsv"))  # noqa: E501
    target = Target.from_json(summary["target"])
    model = build_network("deeploc", target=target, window=summary["window"], alphabet="protein", variable=True,
                          params={"lstm": 8, "filters": 4})  # fmt: skip
    path = tmp_path / "model.pt"
    save_torch({"format": MODEL_FORMAT, "model": "deeploc", "target": target.to_json(), "window": summary["window"],
                "alphabet": "protein", "variable": True, "params": {"lstm": 8, "filters": 4},
                "state_dict": model.state_dict()}, path)  # fmt: skip
    attention_run(str(store), str(path), str(tmp_path / "a.png"), str(tmp_path / "a.tsv.gz"), n=3)
    assert (tmp_path / "a.png").stat().st_size > 1000
    with gzip.open(tmp_path / "a.tsv.gz", "rt") as fh:
        rows = [line.split("\t") for line in fh.read().splitlines()[1:]]
    per_protein: dict[str, float] = {}
    for pid, _, _, weight in rows:
        per_protein[pid] = per_protein.get(pid, 0.0) + float(weight)
    assert 1 <= len(per_protein) <= 3 and all(abs(v - 1) < 1e-3 for v in per_protein.values())
