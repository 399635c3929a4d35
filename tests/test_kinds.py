"""Target kinds as objects (genomicdl.kinds): the protocol per kind on real arrays and
tensors, and the rule that code outside ``genomicdl/kinds`` and the config layer asks the
kind object instead of comparing kind names (an AST walk, with a planted-violation control)."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from genomicdl import kinds
from genomicdl.datasets.labels import LabelParser
from genomicdl.kinds.targets import BALANCE, CLASS_KINDS, POSITION_KINDS, PRIMARY, Target
from genomicdl.metrics import kind_metrics

ALL = ("none", "class_weight", "undersample", "oversample", "focal")
# name: (primary metric, balance strategies, label layout, activation, validation score, metrics module)
EXPECTED = {
    "binary": ("auroc", ALL, "flags", "sigmoid", "auprc", "binary"),
    "multiclass": ("accuracy", ALL, "class", "softmax", "accuracy", "classes"),
    "multilabel": ("micro_f1", ALL, "flags", "sigmoid", "auprc", "multilabel"),
    "per_position": ("q_accuracy", ("none", "class_weight", "focal"), "positions", "softmax", "q_accuracy", "classes"),
    "regression": ("pearson", ("none",), "values", "linear", "pearson", "regression"),
    "mutation_effect": ("spearman", ("none", "class_weight"), "effects", "linear", None, "regression"),
}


# ------------------------------------------------------------------ the protocol


def test_the_registry_holds_one_object_per_kind_in_the_schema_order() -> None:
    assert tuple(EXPECTED) == kinds.KINDS
    for name, (primary, balance, labels, activation, score, metrics) in EXPECTED.items():
        k = kinds.get(name)
        assert isinstance(k, kinds.Kind) and k.name == name
        assert (k.primary, k.balance, k.labels, k.activation, k.score, k.metrics) == (
            primary, balance, labels, activation, score, metrics,
        )  # fmt: skip
    with pytest.raises(ValueError, match="unknown target kind 'nope'; choose from binary, multiclass"):
        kinds.get("nope")


def test_the_name_keyed_views_are_read_from_the_objects() -> None:
    assert {n: e[0] for n, e in EXPECTED.items()} == PRIMARY
    assert {n: e[1] for n, e in EXPECTED.items()} == BALANCE
    assert CLASS_KINDS == ("multiclass", "multilabel", "per_position")
    assert POSITION_KINDS == ("per_position",)


def test_target_json_is_unchanged_and_asks_its_kind() -> None:
    t = Target("multiclass", ("loc",), ("a", "b", "c"))
    assert t.to_json() == {"kind": "multiclass", "tasks": ["loc"], "classes": ["a", "b", "c"], "loss": "default"}
    assert Target.from_json(t.to_json()) == t and t.k is kinds.get("multiclass")
    assert (t.outputs, Target("binary", ("x", "y")).outputs, Target("multilabel", ("a", "b"), ("a", "b")).outputs) == (
        3,
        2,
        2,
    )
    with pytest.raises(ValueError, match="needs at least two classes"):
        Target("per_position", ("ss",), ("H",))
    with pytest.raises(ValueError, match="unknown target kind 'binray'"):
        Target("binray", ("x",))


def test_label_checks_widths_and_shapes() -> None:
    binary, multiclass = kinds.get("binary"), kinds.get("multiclass")
    assert binary.check_labels(np.array([[0, 1], [1, 1]], np.uint8), []) is None
    assert binary.check_labels(np.array([[0, 2]], np.uint8), []) == "label 2 is not 0/1"
    assert multiclass.check_labels(np.array([0, 2], np.int16), ["a", "b"]) == "class index out of range"
    assert multiclass.check_labels(np.array([0, 1], np.int16), ["a", "b"]) is None
    assert kinds.get("regression").check_labels(np.array([[np.nan, 5.0]]), []) is None
    widths = {name: kinds.get(name).label_width(4) for name in kinds.KINDS}
    assert widths == {"binary": 4, "multiclass": None, "multilabel": 4, "per_position": None,
                      "regression": 4, "mutation_effect": None}  # fmt: skip
    assert kinds.get("per_position").prediction_shape(5, 30, 3) == (5, 30, 3)
    assert kinds.get("regression").prediction_shape(5, 30, 3) == (5, 3)
    assert {n: np.dtype(kinds.get(n).label_dtype).name for n in kinds.KINDS} == {
        "binary": "uint8", "multiclass": "int16", "multilabel": "uint8", "per_position": "uint8",
        "regression": "float32", "mutation_effect": "float32",
    }  # fmt: skip


def test_report_views_count_what_each_kind_holds() -> None:
    mc = kinds.get("multiclass").report_view(np.array([2, 0, 2], np.int16), ["a", "b", "c"])
    assert mc.tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]
    reg = kinds.get("regression").report_view(np.array([[1.5, np.nan], [np.nan, 0.0]], np.float32), [])
    assert reg.tolist() == [[1, 0], [0, 1]]
    assert kinds.get("per_position").report_view(np.zeros((4, 1), np.uint8), ["H", "E"]).shape == (4, 0)
    flags = np.array([[0, 1]], np.uint8)
    assert kinds.get("binary").report_view(flags, []) is flags
    cols = {n: kinds.get(n).report_columns(["t1", "t2"], ["a", "b"]) for n in ("binary", "multiclass", "per_position")}
    assert cols == {"binary": ["t1", "t2"], "multiclass": ["a", "b"], "per_position": []}
    tasks = {n: kinds.get(n).task_names(["c1", "c2"], ["a", "b"], "loc") for n in EXPECTED}
    assert tasks["multiclass"] == tasks["per_position"] == ("loc",)
    assert tasks["multilabel"] == ("a", "b") and tasks["binary"] == tasks["regression"] == ("c1", "c2")


def test_label_parsing_follows_the_label_layout() -> None:
    where = ("t.csv", 7)
    binary = LabelParser("binary", columns=["a", "b"])
    binary.finish_classes()
    assert binary.parse(["1", "no"], *where, length=3).tolist() == [1, 0]
    one_col = LabelParser("multilabel", columns=["labels"], classes=["x", "y", "z"])
    one_col.finish_classes()
    assert one_col.parse(["z|x"], *where, length=3).tolist() == [1, 0, 1]
    wide = LabelParser("multilabel", columns=["x", "y"])
    assert wide.finish_classes() == ["x", "y"]
    assert wide.parse(["0", "1"], *where, length=3).tolist() == [0, 1]
    mc = LabelParser("multiclass", columns=["label"], multiple="drop")
    for raw in (["b"], ["a"], ["a|b"]):
        mc.observe(raw, *where)
    assert mc.finish_classes() == ["a", "b"] and mc.skip(["a|b"]) and mc.parse(["b"], *where, length=3) == 1
    pp = LabelParser("per_position", columns=["ss"], classes=["H", "E"])
    pp.finish_classes()
    assert pp.parse(["HEH"], *where, length=3).tolist() == [0, 1, 0]
    reg = LabelParser("regression", columns=["v", "w"])
    reg.finish_classes()
    out = reg.parse(["2.5", "NA"], *where, length=3)
    assert out.dtype == np.float32 and out[0] == 2.5 and math.isnan(out[1])
    with pytest.raises(ValueError, match="tables cannot hold target kind mutation_effect"):
        LabelParser("mutation_effect", columns=["f"]).parse(["0.1"], *where, length=3)


def test_losses_and_activations_per_kind() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F  # noqa: N812

    from genomicdl.training.losses import KindLoss, outputs_to_predictions

    torch.manual_seed(0)
    logits, ones = torch.randn(6, 3), torch.ones(3)
    flags = torch.tensor([[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0], [1, 1, 1]], dtype=torch.float32)
    binary = Target("binary", ("a", "b", "c"))
    assert torch.equal(KindLoss(binary, "none", ones, 2.0)(logits, flags),
                       F.binary_cross_entropy_with_logits(logits, flags, pos_weight=ones))  # fmt: skip
    assert torch.equal(outputs_to_predictions(logits, binary), torch.sigmoid(logits))
    multiclass = Target("multiclass", ("loc",), ("a", "b", "c"))
    y = torch.tensor([0, 2, 1, 1, 0, 2])
    assert torch.equal(KindLoss(multiclass, "none", ones, 2.0)(logits, y), F.cross_entropy(logits, y, weight=ones))
    assert torch.allclose(outputs_to_predictions(logits, multiclass).sum(-1), torch.ones(6))
    per_position = Target("per_position", ("ss",), ("a", "b", "c"))
    seq_logits, pos = torch.randn(2, 4, 3), torch.tensor([[0, 2, -1, -1], [1, 1, 0, -1]])
    expected = F.cross_entropy(seq_logits[pos >= 0], pos[pos >= 0], weight=ones)
    assert torch.allclose(KindLoss(per_position, "none", ones, 2.0)(seq_logits, pos), expected)
    counts = Target("regression", ("a", "b", "c"), loss="poisson")
    values = torch.tensor([[1.0, float("nan"), 3.0]] * 6)
    keep = ~torch.isnan(values)
    assert torch.equal(KindLoss(counts, "none", ones, 2.0)(logits, values),
                       F.poisson_nll_loss(logits[keep], values[keep], log_input=True, full=False))  # fmt: skip
    assert torch.equal(outputs_to_predictions(logits, counts), torch.exp(logits))
    assert torch.equal(outputs_to_predictions(logits, Target("regression", ("a", "b", "c"))), logits)
    with pytest.raises(ValueError, match="no training loss for target kind mutation_effect"):
        KindLoss(Target("mutation_effect", ("fitness",)), "none", ones, 2.0)(logits, values)


def test_validation_scores_and_losses_per_kind() -> None:
    from genomicdl.training.scores import VALIDATION_SCORE, prediction_loss, validation_score

    assert {n: e[4] for n, e in EXPECTED.items() if e[4]} == VALIDATION_SCORE
    y = np.array([[1], [0], [1], [0]], np.uint8)
    p = np.array([[0.9], [0.8], [0.7], [0.1]])
    assert validation_score(Target("binary", ("t",)), y, p) == pytest.approx((1 + 2 / 3) / 2)  # AP
    q = np.clip(p, 1e-7, 1 - 1e-7)
    assert prediction_loss(Target("binary", ("t",)), y, p) == pytest.approx(
        -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    )
    mc = Target("multiclass", ("loc",), ("a", "b"))
    assert validation_score(mc, np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])) == pytest.approx(
        2 / 3
    )
    pp = Target("per_position", ("ss",), ("a", "b"))
    probs = np.array([[[0.9, 0.1], [0.3, 0.7], [0.5, 0.5]]])
    assert validation_score(pp, np.array([[0, 0, -1]]), probs) == pytest.approx(0.5)
    assert prediction_loss(pp, np.array([[0, 0, -1]]), probs) == pytest.approx(-(np.log(0.9) + np.log(0.3)) / 2)
    reg = Target("regression", ("a",), loss="log1p_mse")
    values = np.array([[0.0], [1.0], [3.0], [np.nan]])
    assert validation_score(reg, values, values * 2) == pytest.approx(
        np.corrcoef(np.log1p(values[:3, 0]), np.log1p(values[:3, 0] * 2))[0, 1]
    )
    with pytest.raises(ValueError, match="no validation score for target kind mutation_effect"):
        validation_score(Target("mutation_effect", ("f",)), values, values)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_kind_reports_its_primary_metric(name: str) -> None:
    rng = np.random.default_rng(1)
    n, classes = 40, ["a", "b", "c"]
    if kinds.get(name).labels == "flags":
        y = rng.integers(0, 2, size=(n, 3)).astype(np.uint8)
        p = np.clip(y * 0.6 + rng.random((n, 3)) * 0.5, 0, 1)
    elif kinds.get(name).labels == "class":
        y, p = rng.integers(0, 3, size=n), rng.dirichlet(np.ones(3), size=n)
    elif kinds.get(name).labels == "positions":
        y, p = rng.integers(-1, 3, size=(n, 5)), rng.dirichlet(np.ones(3), size=(n, 5))
    else:
        y = rng.normal(size=(n, 3))
        p = y + rng.normal(scale=0.5, size=(n, 3))
    tasks = classes if name == "multilabel" else ["t"] if kinds.get(name).has_classes else ["t1", "t2", "t3"]
    rows = kind_metrics(name, y_valid=y, p_valid=p, y_test=y, p_test=p, tasks=tasks, classes=classes, bootstrap=20)
    primary = [r for r in rows if r["metric"] == kinds.get(name).primary and r["split"] == "test"]
    assert primary and all(np.isfinite(r["value"]) and r["lo"] <= r["value"] + 1e-9 for r in primary)
    assert any(r["metric"] == "r2" for r in rows) == (name == "regression")


def test_importing_the_kinds_imports_neither_torch_nor_numpy() -> None:
    code = "import sys, genomicdl.kinds.targets; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ no kind-name branches

PACKAGE = REPO / "genomicdl"
#: Packages that may compare kind names: the kinds themselves and the config layer (schema checks).
ALLOWED = ("kinds", "config")
#: Justified exceptions (at most 5): "path:line" -> why the comparison stays.
EXCEPTIONS: dict[str, str] = {}
#: Names that hold sets of kind names (comparing against them is comparing kind names).
KIND_SETS = {"CLASS_KINDS", "POSITION_KINDS"}
COMPARE_METHODS = {"eq", "ne", "isin"}  # pandas: Series.eq("binary"), Series.isin([...])


def _kind_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in kinds.KINDS
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_kind_literal(e) for e in node.elts)
    return isinstance(node, ast.Name | ast.Attribute) and (getattr(node, "id", None) or node.attr) in KIND_SETS  # type: ignore[attr-defined]


def kind_branches(source: str, filename: str) -> list[str]:
    """``file:line`` of every comparison of a value with a kind name (==, !=, in, not in,
    pandas eq/ne/isin, match cases) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        hit = False
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            ops = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
            hit = any(isinstance(op, ops) and (_kind_literal(a) or _kind_literal(b))
                      for op, a, b in zip(node.ops, operands, operands[1:]))  # fmt: skip
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            hit = node.func.attr in COMPARE_METHODS and any(_kind_literal(a) for a in node.args)
        elif isinstance(node, ast.MatchValue):
            hit = _kind_literal(node.value)
        if hit:
            found.append(f"{filename}:{node.lineno}")
    return found


def test_no_kind_name_comparison_outside_kinds_and_config() -> None:
    assert len(EXCEPTIONS) <= 5, "at most five justified exceptions"
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[1] in ALLOWED:
            continue
        found += kind_branches(path.read_text(), str(rel))
    unjustified = [f for f in found if f not in EXCEPTIONS]
    assert not unjustified, (
        "compare kind names only in genomicdl/kinds (ask target.k / kinds.get(name)):\n" + "\n".join(unjustified)
    )
    assert set(EXCEPTIONS) <= set(found), f"stale exceptions: {sorted(set(EXCEPTIONS) - set(found))}"


def test_the_walk_catches_planted_kind_branches(tmp_path: Path) -> None:
    planted = """
def f(kind, target, x, df):
    if kind == "binary":
        return 1
    if x in ("regression", "binary"):
        return 2
    if target.kind not in {"multiclass"}:
        return 3
    if target.kind in CLASS_KINDS:
        return 4
    rows = df[df["kind"].eq("per_position")]
    match kind:
        case "mutation_effect":
            return 5
    # not kind branches: other strings, the kind object's fields, building a target
    if kind == "binaryish" or target.k.per_position or target.k.labels == "flags":
        return Target("binary", ("t",))
"""
    found = kind_branches(planted, "planted.py")
    assert sorted(found, key=lambda f: int(f.split(":")[1])) == [f"planted.py:{n}" for n in (3, 5, 7, 9, 11, 13)]
