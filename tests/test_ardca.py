"""arDCA's ``lambda_j: auto``: held-out selection, refit, resume, and bad values."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO
from test_mutation_data import alignment_settings

from genomicdl.config import validation as gconfig
from genomicdl.core.errors import ConfigError
from genomicdl.io.alignment import AMINO_ACIDS
from genomicdl.models.mutation.ardca import ArDCA
from genomicdl.mutation.data import prepare_dataset
from genomicdl.mutation.train import load_model, train_mutation

QUIET = {"log": lambda _: None}


def markov_family(n: int, length: int, stay: float, seed: int = 0) -> torch.Tensor:
    """Sequences whose column i+1 copies column i with probability ``stay`` (else uniform)."""
    rng = np.random.default_rng(seed)
    codes = np.zeros((n, length), dtype=np.int64)
    codes[:, 0] = rng.integers(0, 21, n)
    for i in range(1, length):
        fresh = rng.integers(0, 21, n)
        codes[:, i] = np.where(rng.random(n) < stay, codes[:, i - 1], fresh)
    return torch.as_tensor(codes)


@pytest.mark.parametrize(("stay", "expected"), [(0.0, 1.0), (0.9, 0.001)])
def test_auto_picks_lambda_j_by_held_out_likelihood(stay, expected):
    """Independent columns: the strong L2 generalises best; strongly coupled columns: the
    weak one. The refit on every sequence equals a fit from zeros with the chosen value."""
    codes = markov_family(300, 5, stay)
    weights = torch.ones(len(codes))
    model = ArDCA(5, lambda_j="auto", lambda_j_grid=[0.001, 1.0], chunk=2, tolerance=1e-7)
    stats = model.fit(codes, weights, **QUIET)
    table = {row["lambda_j"]: row["heldout_ll"] for row in stats["selection"]}
    assert stats["lambda_j"] == expected == max(table, key=table.get)
    assert [row["held_out"] for row in stats["selection"]] == [30, 30]
    assert abs(table[1.0] - table[0.001]) > 0.1  # a real difference, not a tie
    direct = ArDCA(5, lambda_j=expected, chunk=2, tolerance=1e-7)
    objective = direct.fit(codes, weights, **QUIET)["objective"]
    assert abs(stats["objective"] - objective) < 1e-4  # the same convex optimum (float32 L-BFGS)
    assert torch.allclose(model.log_prob(codes), direct.log_prob(codes), atol=1e-2)


def test_auto_held_out_split_is_fixed_and_disjoint():
    model = ArDCA(3, lambda_j="auto", holdout=0.25)
    fitted, held = model.split(40)
    assert len(held) == 10 and sorted(torch.cat([fitted, held]).tolist()) == list(range(40))
    assert torch.equal(ArDCA(3, lambda_j="auto", holdout=0.25).split(40)[1], held)


def toy_alignment(tmp_path):
    family = markov_family(60, 24, 0.6).numpy()
    family[family == 20] = 5  # residues only (a gap-free toy family)
    text = "".join(f">S{i}/1-24\n{''.join(AMINO_ACIDS[c] for c in row)}\n" for i, row in enumerate(family))
    (tmp_path / "toy.a2m").write_text(text)
    settings = alignment_settings()
    prepare_dataset(tmp_path / "toy.a2m", out=tmp_path / "toy.h5", summary=tmp_path / "s.json", settings=settings)
    return tmp_path / "toy.h5"


class KilledError(Exception):
    pass


@pytest.mark.parametrize("kill_at", [5, 8])  # in the second selection phase; in the refit
def test_auto_through_train_mutation_resumes_exactly(tmp_path, kill_at):
    h5 = toy_alignment(tmp_path)
    params = {"lambda_j": "auto", "lambda_j_grid": [0.1, 0.01], "chunk": 8, "max_iter": 30}
    common = {"alignment": h5, "model": "ardca", "params": params, "device": "cpu", "batch_size": 0,
              "learning_rate": 0.0}
    stats = train_mutation(out=tmp_path / "a.pt", **common, **QUIET)
    assert stats["lambda_j"] in (0.1, 0.01) and [r["lambda_j"] for r in stats["selection"]] == [0.1, 0.01]
    assert stats["chunks"] == 9  # 3 chunks in each of the two selection phases and in the refit
    lines: list[str] = []

    def dies(message: str) -> None:
        lines.append(message)
        if sum("positions" in m for m in lines) == kill_at:
            raise KilledError

    with pytest.raises(KilledError):
        train_mutation(out=tmp_path / "b.pt", **common, log=dies)
    assert (tmp_path / "b.pt.ckpt").is_file()
    lines.clear()
    resumed = train_mutation(out=tmp_path / "b.pt", **common, log=lines.append)
    assert any(line.startswith("resumed from") for line in lines)
    assert resumed["selection"] == stats["selection"] and resumed["lambda_j"] == stats["lambda_j"]
    whole, again = load_model(tmp_path / "a.pt", "cpu"), load_model(tmp_path / "b.pt", "cpu")
    assert torch.equal(whole.j, again.j) and torch.equal(whole.h, again.h)


@pytest.mark.parametrize(("params", "message"), [
    ({"lambda_j": "fast"}, "lambda_j must be a number >= 0 or 'auto', not 'fast'"),
    ({"lambda_j": -0.1}, "lambda_j must be a number >= 0"),
    ({"lambda_j_grid": []}, "lambda_j_grid must be a list of distinct numbers > 0, not []"),
    ({"lambda_j_grid": [0.1, 0.0]}, "lambda_j_grid must be a list of distinct numbers > 0"),
    ({"lambda_j_grid": [0.1, 0.1]}, "lambda_j_grid must be a list of distinct numbers > 0"),
    ({"holdout": 0.9}, "holdout must be a fraction in (0, 0.5], not 0.9"),
])
def test_bad_values_are_refused_by_name(params, message):
    with pytest.raises(ValueError) as err:
        ArDCA(4, **params)
    assert message in str(err.value)


def test_a_holdout_that_leaves_no_split_is_an_error():
    model = ArDCA(3, lambda_j="auto", holdout=0.05)
    with pytest.raises(ValueError, match=r"holdout 0.05 of 4 sequences leaves no split"):
        model.fit(markov_family(4, 3, 0.5), torch.ones(4), **QUIET)


@pytest.mark.parametrize(("key", "value"), [("lambda_j", "fast"), ("lambda_j_grid", []), ("holdout", 0.9)])
def test_config_refuses_bad_ardca_settings(key, value):
    schema = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    raw = yaml.safe_load((REPO / "config" / "benchmarks" / "blat_ecolx.yaml").read_text())
    filled = gconfig.validate(copy.deepcopy(raw), schema)["model_params"]["ardca"]
    assert filled["holdout"] == 0.1 and filled["lambda_j_grid"] == [0.01, 0.02, 0.05, 0.1]
    raw["model_params"]["ardca"][key] = value
    with pytest.raises(ConfigError, match=rf"config key model_params\.ardca\.{key}: "):
        gconfig.validate(raw, schema)


def test_refit_false_stops_at_the_chosen_held_out_fit():
    codes = markov_family(200, 4, 0.9)
    model = ArDCA(4, lambda_j="auto", lambda_j_grid=[0.001, 1.0], chunk=4)
    stats = model.fit(codes, torch.ones(200), refit=False, **QUIET)
    assert stats["chunks"] == 2 and stats["lambda_j"] == 0.001  # one chunk per grid value, no refit
    assert torch.equal(model.j, model.selected_fit["j"]) and torch.equal(model.h, model.selected_fit["h"])
    held = model.split(200)[1]
    assert torch.allclose(model.log_prob(codes[held]), model.heldout_log_probs[0.001][0])
