"""Export trained networks to TorchScript and ONNX, validated with onnxruntime.

The exported graph is the whole prediction, not only the trunk: one-hot input
``x`` (batch, channels, window) float32 -> predictions on the labels' natural scale
(sigmoid, softmax, exp, ... as :func:`genomicdl.training.losses.outputs_to_predictions`), averaged
over both strands when the model was trained so (the reverse complement is a channel
permutation and a flip, inside the graph). Variable-length models take a second input,
``lengths`` (batch,) int64. So the exported file alone reproduces the workflow's
predictions (genomicdl.export.runtime runs it on a FASTA without the workflow).

The ONNX file is written by ``torch.onnx.export`` (opset :data:`OPSET`), TorchScript by
``torch.jit.trace``; both are checked against the PyTorch model on real windows (the
store's test split) and the maximum absolute difference is written to ``export.json``.
A difference above the tolerance is an error and no export is left behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genomicdl.core.errors import GenomicdlError
from genomicdl.core.files import write_json_atomic
from genomicdl.core.sequence import complement_table, get
from genomicdl.kinds.targets import Target
from genomicdl.training.inference import load_network
from genomicdl.training.losses import outputs_to_predictions

log = logging.getLogger(__name__)

#: ONNX opset of every export (onnxruntime >= 1.17 runs it).
OPSET = 18
#: Largest tolerated |onnxruntime - PyTorch| on the validation windows (float32 graphs).
TOLERANCE = 1e-4

#: Called with (temporary export directory, export.json or None) before it is renamed.
Finish = Callable[[Path, "dict[str, Any] | None"], None]


class ExportError(GenomicdlError, ValueError):
    """A model that cannot be exported (incomplete run, unsupported layer, mismatch)."""


class Prediction(torch.nn.Module):
    """Network + output transform (+ strand averaging): the graph that is exported."""

    def __init__(
        self,
        net: torch.nn.Module,
        target: Target,
        alphabet: str,
        *,
        rc_average: bool,
        variable: bool,
        flip: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.net, self.target, self.variable = net, target, variable
        self.rc_average = bool(rc_average) and get(alphabet).has_complement
        channels = get(alphabet).channels
        perm = complement_table(alphabet)[:channels] if self.rc_average else np.arange(channels)
        self.register_buffer("complement", torch.as_tensor(perm.astype(np.int64)), persistent=False)
        cols = np.arange(target.outputs) if flip is None else np.asarray(flip)
        self.register_buffer("flip", torch.as_tensor(cols.astype(np.int64)), persistent=False)
        self.per_position = target.k.per_position

    def _one(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        if self.variable:
            out = self.net(x, lengths)
        elif getattr(self.net, "head_kind", "native") in ("pooled", "position"):
            out = self._full_length(x)
        else:
            out = self.net(x)
        return outputs_to_predictions(out.float(), self.target)

    def _full_length(self, x: torch.Tensor) -> torch.Tensor:
        """A masked head on rows that all fill the window: the mask is all true, so the
        trunk runs unmasked (no packed sequences: those do not trace) and the masked pool is
        the plain max and mean -- the same numbers, and a graph free of the batch size."""
        from genomicdl.models.networks.layers import global_pool

        h, _ = self.net.trunk(x, None)
        if self.net.head_kind == "pooled":
            return self.net.head(global_pool(h))
        return self.net.head(h).transpose(1, 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        p = self._one(x, lengths)
        if not self.rc_average:
            return p
        if lengths is None:  # fixed length: the reverse strand is the whole window flipped
            q = self._one(x.index_select(1, self.complement).flip(2), None)
            q = q.flip(1) if self.per_position else q.index_select(1, self.flip)
        else:  # each row reversed within its own length (padding stays at the end)
            at = reversal_index(lengths, x.shape[2])
            rc = x.index_select(1, self.complement).gather(2, at[:, None, :].expand_as(x))
            q = self._one(rc, lengths)
            q = q.gather(1, at[:, :, None].expand_as(q)) if self.per_position else q.index_select(1, self.flip)
        return (p + q) / 2


def reversal_index(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(batch, width) gather index reversing each row's first ``length`` positions, built
    by broadcasting only (so the traced graph keeps a free batch size)."""
    at = torch.arange(width, device=lengths.device)[None, :]
    n = lengths[:, None]
    return torch.where(at < n, n - 1 - at, at)


def prediction_module(model_path: str | Path) -> tuple[Prediction, dict[str, Any]]:
    """The exportable prediction graph of a trained model.pt, and its self-description."""
    from genomicdl.training.inference import rc_label_columns

    net, meta = load_network(model_path)
    target = Target.from_json(meta["target"])
    flip = rc_label_columns(target, torch.device("cpu"))
    module = Prediction(
        net,
        target,
        meta["alphabet"],
        rc_average=bool(meta.get("rc_average")),
        variable=bool(meta.get("variable")),
        flip=None if flip is None else flip.numpy(),
    )
    return module.eval(), meta


#: A batch of one-hot windows (batch, channels, window) and their lengths (batch,).
Batch = tuple[np.ndarray, np.ndarray]


def example_inputs(meta: dict[str, Any], batch: Batch) -> tuple[torch.Tensor, ...]:
    """The graph's inputs for a batch: (x,) or (x, lengths) for variable-length models."""
    x, lengths = batch
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if meta.get("variable"):
        return t, torch.from_numpy(np.asarray(lengths, dtype=np.int64))
    return (t,)


def input_names(meta: dict[str, Any]) -> list[str]:
    return ["x", "lengths"] if meta.get("variable") else ["x"]


def export_onnx(module: Prediction, meta: dict[str, Any], example: tuple[torch.Tensor, ...], path: Path) -> str:
    """ONNX (opset OPSET, dynamic batch). The TorchScript-based exporter first (fast; it
    covers most of the zoo), torch.export (dynamo) where it cannot translate a layer
    (e.g. adaptive pooling to a size that does not divide the input). Returns the exporter."""
    names = input_names(meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            axes = {n: {0: "batch"} for n in names} | {"y": {0: "batch"}}
            torch.onnx.export(
                module,
                example,
                str(path),
                input_names=names,
                output_names=["y"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
            return "torchscript"
        except Exception as err:  # the legacy exporter's own errors (unsupported symbolic, ...)
            log.info("TorchScript-based ONNX exporter failed (%s); trying torch.export", err)
        batch = torch.export.Dim("batch")
        shapes = tuple({0: batch} for _ in names)
        program = torch.onnx.export(
            module,
            example,
            input_names=names,
            output_names=["y"],
            dynamic_shapes=shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
        program.save(str(path))
        return "dynamo"


def export_torchscript(module: Prediction, example: tuple[torch.Tensor, ...], path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
    traced.save(str(path))


def onnx_session(path: str | Path, threads: int = 1):
    """An onnxruntime CPU session with ``threads`` intra-op threads."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_onnx(session, inputs: tuple[torch.Tensor | np.ndarray, ...]) -> np.ndarray:
    names = [i.name for i in session.get_inputs()]
    feed = {n: (v.numpy() if isinstance(v, torch.Tensor) else v) for n, v in zip(names, inputs)}
    return session.run(None, feed)[0]


def encode_batch(codes: np.ndarray, lengths: np.ndarray, alphabet: str, window: int) -> Batch:
    """(n, <= window) codes -> one-hot (n, channels, window), padded with zeros."""
    from genomicdl.core.sequence import one_hot

    full = np.full((len(codes), window), get(alphabet).unknown, np.uint8)
    full[:, : codes.shape[1]] = codes[:, :window]
    return one_hot(full, alphabet), np.asarray(lengths, np.int64)


def store_windows(store_path: str | Path, split: str = "test", limit: int = 256) -> list[Batch]:
    """One-hot batches of a store's split (its first ``limit`` rows), for validation;
    the training split when the store has no such rows."""
    from genomicdl.io.store import Store

    with Store(store_path) as st:
        rows = st.rows(split)[:limit]
        if len(rows) == 0:
            rows = st.rows("train")[:limit]
        return [encode_batch(codes, st.lengths[r], st.alphabet, st.window) for r, codes, *_ in st.batches(rows, 64)]


def compare(
    module: Prediction, meta: dict[str, Any], onnx_path: Path, ts_path: Path, windows: list[Batch]
) -> dict[str, float]:
    """Max |onnxruntime - PyTorch| and |TorchScript - PyTorch| over ``windows``."""
    session = onnx_session(onnx_path)
    with warnings.catch_warnings():  # torch.jit is deprecated in favour of torch.export, but still loads
        warnings.simplefilter("ignore")
        scripted = torch.jit.load(str(ts_path))
    diff = {"onnx": 0.0, "torchscript": 0.0}
    n = 0
    with torch.no_grad():
        for batch in windows:
            inputs = example_inputs(meta, batch)
            ref = module(*inputs).numpy()
            diff["onnx"] = max(diff["onnx"], float(np.abs(run_onnx(session, inputs) - ref).max(initial=0)))
            diff["torchscript"] = max(
                diff["torchscript"], float(np.abs(scripted(*inputs).numpy() - ref).max(initial=0))
            )
            n += len(batch[0])
    return diff | {"windows": n}


def export_model(
    model_path: str | Path,
    out_dir: str | Path,
    windows: list[Batch],
    *,
    tolerance: float = TOLERANCE,
    finish: Finish | None = None,
) -> dict[str, Any]:
    """Write ``out_dir``/{model.onnx, model.ts, export.json} for a trained model.pt,
    validated on ``windows`` (one-hot batches); ``finish(tmp_dir, info)`` may add files
    (the model card). The directory appears whole or not at all."""
    model_path, out_dir = Path(model_path), Path(out_dir)
    check_complete(model_path)
    module, meta = prediction_module(model_path)
    if not windows:
        raise ExportError(f"{model_path}: no windows to validate the export on")
    example = example_inputs(meta, (windows[0][0][:2], windows[0][1][:2]))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        try:
            exporter = export_onnx(module, meta, example, tmp / "model.onnx")
            export_torchscript(module, example, tmp / "model.ts")
        except Exception as err:  # an exporter's own error: name the model and the reason
            raise ExportError(
                f"{model_path}: {meta['model']} could not be exported ({type(err).__name__}: {err})"
            ) from err
        diff = compare(module, meta, tmp / "model.onnx", tmp / "model.ts", windows)
        if max(diff["onnx"], diff["torchscript"]) > tolerance:
            raise ExportError(
                f"{model_path}: exported {meta['model']} differs from PyTorch by "
                f"{max(diff['onnx'], diff['torchscript']):.3g} (> tolerance {tolerance:g})"
            )
        info = describe(meta, diff, tolerance) | {"onnx_exporter": exporter}
        write_json_atomic(tmp / "export.json", info)
        if finish is not None:
            finish(tmp, info)
        _replace_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info(
        "exported %s: max |onnxruntime - torch| %.3g, |torchscript - torch| %.3g on %d windows",
        model_path,
        diff["onnx"],
        diff["torchscript"],
        diff["windows"],
    )
    return info


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)


def copy_baseline(model_path: str | Path, out_dir: str | Path, finish: Finish | None = None) -> None:
    """A classical baseline stays in its pickle-free model.npz: copied (with its card)."""
    model_path, out_dir = Path(model_path), Path(out_dir)
    check_complete(model_path)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        shutil.copyfile(model_path, tmp / model_path.name)
        if finish is not None:
            finish(tmp, None)
        _replace_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def describe(meta: dict[str, Any], diff: dict[str, float], tolerance: float) -> dict[str, Any]:
    """export.json: what the graph takes and returns, and how it was validated."""
    import onnx
    import onnxruntime

    target = Target.from_json(meta["target"])
    alphabet = get(meta["alphabet"])
    return {
        "format": "genomicdl-export/1",
        "model": meta["model"],
        "files": {"onnx": "model.onnx", "torchscript": "model.ts"},
        "opset": OPSET,
        "inputs": {
            "x": f"one-hot float32 (batch, {alphabet.channels}, {meta['window']}), channels "
            f"{' '.join(alphabet.letters)}; unknown letters all zero"
        }
        | ({"lengths": "int64 (batch,): sequence lengths"} if meta.get("variable") else {}),
        "output": {
            "y": "predictions on the labels' natural scale",
            "kind": target.kind,
            "tasks": list(target.tasks),
            "classes": list(target.classes),
            "loss": target.loss,
        },
        "alphabet": meta["alphabet"],
        "window": int(meta["window"]),
        "variable": bool(meta.get("variable")),
        "rc_average": bool(meta.get("rc_average")),
        "output_length": meta.get("output_length"),
        "validation": {
            "windows": diff["windows"],
            "max_abs_diff_onnxruntime": diff["onnx"],
            "max_abs_diff_torchscript": diff["torchscript"],
            "tolerance": tolerance,
        },
        "versions": {"torch": str(torch.__version__), "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
    }


def check_complete(model_path: Path) -> None:
    """A model whose run is incomplete (no model file, a checkpoint left, no stats) is refused."""
    if not model_path.exists():
        raise ExportError(f"{model_path}: no trained model (the run is incomplete: train it first)")
    stats = model_path.with_name("train_stats.json")
    leftover = [
        p.name
        for p in (model_path.with_name("checkpoint.pt"), model_path.with_name("checkpoint.pt.prev"))
        if p.exists()
    ]
    if leftover or not stats.exists():
        why = f"{', '.join(leftover)} still there" if leftover else "train_stats.json is missing"
        raise ExportError(f"{model_path}: the training run is incomplete ({why}); rerun the train rule to finish it")


def export_run(
    *,
    model: str,
    family: str,
    store: str,
    summary: str,
    metrics: str,
    arrays: str,
    out_dir: str,
    run: dict[str, Any],
    sources: dict[str, tuple[str, dict[str, Any]]],
    local: dict[str, str],
    published: list[dict[str, Any]],
    command: str,
    bootstrap: int = 200,
    tolerance: float = TOLERANCE,
    windows: int = 256,
) -> None:
    """The export stage for one run: the network to ONNX + TorchScript, validated on up to
    ``windows`` test windows (a baseline: its model.npz), and its model card beside it."""
    import json

    from genomicdl.export import card as mc
    model_path = Path(model)
    check_complete(model_path)
    if family == "torch":
        from genomicdl.training.finetune import summary as init_summary

        meta = {k: v for k, v in load_network(model_path)[1].items() if k != "state_dict"}
        meta["init_from"] = init_summary(meta.get("init_from"))
    else:
        from genomicdl.training.baselines import load_baseline

        meta = dict(load_baseline(model_path)[1]) | {"family": family}
    seed = int(run.get("seed", 0))

    def card(tmp: Path, info: dict[str, Any] | None) -> None:
        content = mc.build_card(
            run=run,
            meta=meta,
            summary=json.loads(Path(summary).read_text()),
            sources_=mc.sources(sources, local),
            test=mc.test_metrics(metrics),
            valid=mc.validation_metrics(arrays, bootstrap, seed),
            published=published,
            export=info,
            command=command,
        )
        mc.write_card(content, tmp)

    if family == "torch":
        export_model(model_path, out_dir, store_windows(store, "test", windows), tolerance=tolerance, finish=card)
    else:
        copy_baseline(model_path, out_dir, finish=card)


class OnnxScorer:
    """A network scored through onnxruntime (genomicdl.interpret.variants' Scorer protocol): the
    prediction graph -- sigmoid and strand averaging included -- exported in memory at
    load, then ref and alt windows in batches of ``batch_size`` through one session."""

    @classmethod
    def load(cls, model_path: str | Path, batch_size: int = 128, threads: int = 1) -> OnnxScorer:
        """The scorer of a trained model.pt (binary and multilabel: sigmoid outputs, as PyTorch's scorer)."""
        module, meta = prediction_module(model_path)
        if module.target.k.activation != "sigmoid":
            raise ExportError(f"{model_path}: onnxruntime scoring covers binary and multilabel models")
        try:
            return cls(module, meta, batch_size, threads)
        except Exception as err:  # an exporter's own error
            raise ExportError(f"{model_path}: could not be exported ({type(err).__name__}: {err})") from err

    def __init__(self, module: Prediction, meta: dict[str, Any], batch_size: int = 128, threads: int = 1) -> None:
        import io

        self.tasks, self.window = list(meta["tasks"]), int(meta["window"])
        self.alphabet, self.variable, self.batch_size = meta["alphabet"], bool(meta.get("variable")), batch_size
        self.rc_average = module.rc_average
        x = np.zeros((2, get(self.alphabet).channels, self.window), np.float32)
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = input_names(meta)
            torch.onnx.export(
                module,
                example_inputs(meta, (x, np.full(2, self.window))),
                buf,
                input_names=names,
                output_names=["y"],
                dynamic_axes={n: {0: "batch"} for n in [*names, "y"]},
                opset_version=OPSET,
                dynamo=False,
            )
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = max(1, threads), 1
        self.session = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])

    def probabilities(self, codes: np.ndarray) -> np.ndarray:
        from genomicdl.core.sequence import one_hot

        out = np.empty((len(codes), len(self.tasks)), np.float32)
        for lo in range(0, len(codes), self.batch_size):
            c = codes[lo : lo + self.batch_size]
            feed = {"x": one_hot(c, self.alphabet)}
            if self.variable:
                feed["lengths"] = np.full(len(c), self.window, np.int64)
            out[lo : lo + len(c)] = self.session.run(None, feed)[0]
        return out

    def score(self, ref: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.probabilities(np.concatenate([ref, alt]))
        return p[: len(ref)], p[len(ref) :]
