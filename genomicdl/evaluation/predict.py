"""The predict stage: a trained network over whole chromosomes, regions or sequences.

Chromosomes are tiled with a stride; each window is predicted on both strands (the
reverse strand's bins flipped back and stranded pairs swapped) and the two averaged;
overlapping windows are averaged per base. Values are written as bigWig, one file per
track, on the model's natural scale (counts for poisson/multinomial, expm1 of the
output for log1p_mse, probabilities for classifiers) -- never log-scaled -- and a sidecar
JSON records the transform, the bin size and the statistic. Memory is bounded: windows
are read and predicted CHUNK at a time, and the per-base accumulator only spans the
bases that a later window can still reach (one window), flushed in order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genomicdl.core.files import atomic_output, write_json_atomic
from genomicdl.core.sequence import centred_in_window as fit
from genomicdl.core.sequence_torch import DeviceEncoder
from genomicdl.io.genome import ChromNames, Genome, read_intervals
from genomicdl.io.store import window_of
from genomicdl.kinds.signal_layout import layout
from genomicdl.kinds.targets import Target
from genomicdl.training.inference import load_network, rc_label_columns, resolve_device
from genomicdl.training.losses import outputs_to_predictions

CHUNK = 2048
TRANSFORMS = {
    "poisson": "exp(network output): expected counts per bin",
    "multinomial": "softmax(profile) * exp(log total): expected counts per bin (BPNet)",
    "log1p_mse": "expm1(network output), clipped at 0: signal per bin on the labels' scale",
    "mse": "identity: the network output on the labels' scale",
    "default": "identity: the network output on the labels' scale",
}


@dataclass
class Predictor:
    """A loaded network with the geometry of its outputs."""

    model: torch.nn.Module
    meta: dict[str, Any]
    target: Target
    encoder: DeviceEncoder
    window: int
    output_length: int
    bins: int
    tracks: list[str]
    flip: torch.Tensor | None

    @property
    def bin_size(self) -> int:
        return self.output_length // self.bins

    @property
    def offset(self) -> int:
        return (self.window - self.output_length) // 2

    def transform(self) -> str:
        if self.target.kind in ("binary", "multilabel"):
            return "sigmoid(network output): probability"
        return TRANSFORMS.get(self.target.loss, "identity")

    @torch.no_grad()
    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """(n, window) codes -> (n, tracks, bins) predictions, averaged over strands
        when the model was trained double-stranded."""
        x = self.encoder.codes(torch.from_numpy(np.ascontiguousarray(codes)))
        p = outputs_to_predictions(self.model(self.encoder.one_hot(x)).float(), self.target)
        if self.meta.get("rc_average"):
            q = outputs_to_predictions(self.model(self.encoder.one_hot(self.encoder.reverse_complement(x))).float(),
                                       self.target)  # fmt: skip
            p = (p + (q if self.flip is None else q[:, self.flip])) / 2
        return p.cpu().numpy().reshape(len(codes), len(self.tracks), self.bins)


def load_predictor(model_path: str | Path, device: str = "cpu") -> Predictor:
    """A trained network (model.pt) ready to predict on ``device``."""
    model, meta = load_network(model_path)
    dev = resolve_device(device)
    model.to(dev).eval()
    target = Target.from_json(meta["target"])
    if target.kind not in ("binary", "multilabel", "regression"):
        kinds = "binary, multilabel and regression"
        raise ValueError(f"{model_path}: predict writes tracks of {kinds} models, not {target.kind}")
    tracks, bins = layout(target.tasks) if target.kind == "regression" else (list(target.tasks), 1)
    window = window_of(meta, model_path)
    # the span the labels (and so the outputs) cover: the dataset's, recorded at training
    out_len = int(meta.get("output_length") or getattr(model, "output_length", window))
    return Predictor(model, meta, target, DeviceEncoder(dev, meta["alphabet"]), window, out_len, bins, tracks,
                     rc_label_columns(target, dev))  # fmt: skip


def tile_starts(size: int, window: int, stride: int) -> Iterator[np.ndarray]:
    """Window starts every ``stride`` bp, chunk by chunk, the last window flush with the end."""
    if size < window:
        return
    starts = np.arange(0, size - window + 1, stride, dtype=np.int64)
    if starts[-1] != size - window:
        starts = np.append(starts, size - window)
    for lo in range(0, len(starts), CHUNK):
        yield starts[lo : lo + CHUNK]


class Accumulator:
    """Per-base sums and counts over a sliding span of one chromosome, flushed in order
    as (start, end, values (tracks, n)) runs of covered bases."""

    def __init__(self, tracks: int, span: int) -> None:
        self.lo = 0
        self.sums = np.zeros((tracks, 2 * span), np.float64)
        self.counts = np.zeros(2 * span, np.int32)
        self.span = span

    def add(self, start: int, values: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Add (tracks, n) values at ``start`` (starts never decrease); yield flushed runs."""
        yield from self.flush(start)
        i = start - self.lo
        need = i + values.shape[1]
        if need > self.counts.shape[0]:
            grow = need - self.counts.shape[0]
            self.sums = np.pad(self.sums, ((0, 0), (0, grow)))
            self.counts = np.pad(self.counts, (0, grow))
        self.sums[:, i:need] += values
        self.counts[i:need] += 1

    def flush(self, upto: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (start, mean values (tracks, n), covered mask) for bases before ``upto``."""
        n = self.counts.shape[0] if upto is None else min(upto - self.lo, self.counts.shape[0])
        if n <= 0:
            return
        covered = self.counts[:n] > 0
        if covered.any():
            yield self.lo, self.sums[:, :n] / np.maximum(self.counts[:n], 1), covered
        self.sums = np.concatenate([self.sums[:, n:], np.zeros((self.sums.shape[0], n))], axis=1)
        self.counts = np.concatenate([self.counts[n:], np.zeros(n, np.int32)])
        self.lo += n


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


class TrackWriter:
    """One bigWig per track for one chromosome (or the genome), written in order,
    runs of equal values as spans; files appear atomically on close."""

    def __init__(self, paths: list[Path], sizes: dict[str, int]) -> None:
        import pyBigWig

        self._ctx = [atomic_output(p) for p in paths]
        tmps = [c.__enter__() for c in self._ctx]
        self._bws = [pyBigWig.open(str(t), "w") for t in tmps]
        for bw in self._bws:
            bw.addHeader(list(sizes.items()), maxZooms=4)

    def write(self, chrom: str, start: int, values: np.ndarray, covered: np.ndarray) -> None:
        for a, b in _runs(covered):
            for bw, v in zip(self._bws, values[:, a:b]):
                change = np.flatnonzero(np.diff(v)) + 1
                lo = np.concatenate([[0], change])
                hi = np.concatenate([change, [len(v)]])
                bw.addEntries([chrom] * len(lo), (start + a + lo).tolist(), ends=(start + a + hi).tolist(),
                              values=v[lo].astype(float).tolist())  # fmt: skip

    def close(self, ok: bool = True) -> None:
        for bw in self._bws:
            bw.close()
        for ctx in self._ctx:
            ctx.__exit__(None if ok else RuntimeError, None, None)


def predict_chromosome(
    model_path: str,
    genome_path: str,
    chrom: str,
    out_dir: str | Path,
    *,
    stride: int | None = None,
    batch_size: int = 256,
    device: str = "cpu",
) -> dict[str, Any]:
    """Tile ``chrom`` and write ``<out_dir>/<track>.bw`` (+ predict.json). Returns the sidecar."""
    pred = load_predictor(model_path, device)
    out_dir = Path(out_dir)
    with Genome(genome_path) as genome:
        size = genome.sizes[chrom]
        stride = int(stride or (pred.output_length if pred.output_length < pred.window else pred.window // 2))
        paths = [out_dir / f"{t}.bw" for t in pred.tracks]
        writer = TrackWriter(paths, {chrom: size})
        acc = Accumulator(len(pred.tracks), pred.window)
        n = 0
        try:
            for starts in tile_starts(size, pred.window, stride):
                codes = np.stack([genome.codes(chrom, int(s), int(s) + pred.window) for s in starts])
                values = np.concatenate([pred(codes[i : i + batch_size]) for i in range(0, len(codes), batch_size)])
                per_base = np.repeat(values, pred.bin_size, axis=2)  # (n, tracks, output_length)
                for s, v in zip(starts.tolist(), per_base):
                    for lo, vals, cov in acc.add(s + pred.offset, v):
                        writer.write(chrom, lo, vals, cov)
                n += len(starts)
            for lo, vals, cov in acc.flush():
                writer.write(chrom, lo, vals, cov)
            writer.close()
        except BaseException:
            writer.close(ok=False)
            raise
    sidecar = sidecar_json(pred, model_path, stride=stride, windows=n, chroms=[chrom])
    write_json_atomic(out_dir / "predict.json", sidecar)
    return sidecar


def sidecar_json(pred: Predictor, model_path: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": str(model_path), "model_name": pred.meta["model"], "kind": pred.target.kind,
        "loss": pred.target.loss, "tracks": pred.tracks, "transform": pred.transform(),
        "log_scaled": False, "window": pred.window, "output_length": pred.output_length,
        "bin_size": pred.bin_size,
        "value": (f"the prediction for a {pred.bin_size}-bp bin, written over each base of the bin; overlapping "
                  "windows and both strands averaged"),
        **extra,
    }  # fmt: skip


def merge_tracks(chrom_dirs: list[str | Path], sizes: dict[str, int], out_dir: str | Path) -> dict[str, Any]:
    """Per-chromosome bigWigs -> one bigWig per track over the genome (chromosome by
    chromosome, interval by interval: bounded memory) and the merged sidecar."""
    import pyBigWig

    metas = [json.loads((Path(d) / "predict.json").read_text()) for d in chrom_dirs]
    tracks = metas[0]["tracks"]
    chroms = [c for c in sizes if any(c in m["chroms"] for m in metas)]
    out_dir = Path(out_dir)
    writer = TrackWriter([out_dir / f"{t}.bw" for t in tracks], {c: sizes[c] for c in chroms})
    for chrom in chroms:
        d = Path(chrom_dirs[next(i for i, m in enumerate(metas) if chrom in m["chroms"])])
        for k, track in enumerate(tracks):
            bw = pyBigWig.open(str(d / f"{track}.bw"))
            ivs = bw.intervals(chrom) or []
            bw.close()
            if ivs:
                a = np.asarray(ivs)
                writer._bws[k].addEntries([chrom] * len(a), a[:, 0].astype(int).tolist(),
                                          ends=a[:, 1].astype(int).tolist(), values=a[:, 2].tolist())  # fmt: skip
    writer.close()
    meta = dict(metas[0], chroms=chroms, windows=sum(m["windows"] for m in metas))
    write_json_atomic(out_dir / "predict.json", meta)
    return meta


def predict_table(model_path: str, records: list[tuple[str, np.ndarray]], out: str | Path, device: str = "cpu") -> None:
    """Predictions for named sequences (codes fitted to the window: centred, N-padded) as a
    TSV.gz: name, then per track the window total (sum over bins) -- or the probability."""
    import gzip

    from genomicdl.core.sequence import get

    pred = load_predictor(model_path, device)
    unknown = get(pred.meta["alphabet"]).unknown
    with atomic_output(out) as tmp, gzip.open(tmp, "wt") as fh:
        fh.write("name\t" + "\t".join(pred.tracks) + "\n")
        for lo in range(0, len(records), CHUNK):
            part = records[lo : lo + CHUNK]
            codes = np.stack([fit(c, pred.window, unknown) for _, c in part])
            values = pred(codes).sum(-1)
            for (name, _), v in zip(part, values):
                fh.write(name + "\t" + "\t".join(f"{x:.6g}" for x in v) + "\n")


def contributions(
    model_path: str,
    genome_path: str,
    regions: list[tuple[str, int]],
    out_dir: str | Path,
    device: str = "cpu",
    method: str = "gradient_x_input",
    shuffles: int = 20,
) -> list[Path]:
    """Contributions (at the observed base) of each track's log total prediction (signal
    models) or logit, for windows centred on ``regions`` (chrom, centre), by ``method``
    (gradient_x_input, deep_lift_shap or ism: genomicdl.interpret.attributions); one bigWig per
    track, overlapping windows averaged."""
    if method not in ("gradient_x_input", "deep_lift_shap", "ism"):
        raise ValueError(f"contribution method {method!r}: expected gradient_x_input, deep_lift_shap or ism")
    pred = load_predictor(model_path, device)
    if method != "gradient_x_input":  # the attribution-method hook (interpret's methods)
        from genomicdl.interpret.attributions import TrackScores, track_contributions

        fn = TrackScores(pred.model, len(pred.tracks), pred.bins, pred.target.loss in ("poisson", "multinomial"))
        explain = lambda _, c: track_contributions(fn.eval(), c, len(pred.tracks), method, shuffles)  # noqa: E731
    else:
        explain = _grad_x_input
    out_dir = Path(out_dir)
    with Genome(genome_path) as genome:
        sizes = dict(genome.sizes)
        by_chrom: dict[str, list[int]] = {}
        for chrom, centre in regions:
            s = centre - pred.window // 2
            if s >= 0 and s + pred.window <= sizes[chrom]:
                by_chrom.setdefault(chrom, []).append(s)
        paths = [out_dir / f"{t}.contrib.bw" for t in pred.tracks]
        writer = TrackWriter(paths, {c: sizes[c] for c in sizes if c in by_chrom})
        for chrom in [c for c in sizes if c in by_chrom]:
            acc = Accumulator(len(pred.tracks), pred.window)
            for s in sorted(set(by_chrom[chrom])):
                codes = genome.codes(chrom, s, s + pred.window)[None]
                for lo, vals, cov in acc.add(s, explain(pred, codes)[0]):
                    writer.write(chrom, lo, vals, cov)
            for lo, vals, cov in acc.flush():
                writer.write(chrom, lo, vals, cov)
        writer.close()
    return paths


def region_centres(
    path: str | Path, genome_path: str | Path, aliases: dict[str, str] | None = None
) -> list[tuple[str, int]]:
    """(chrom, centre) of every record of a BED/narrowPeak file (summit column, else the
    midpoint), named as in the genome; a bad record or an unknown chromosome is an
    InputError naming the file and line."""
    with Genome(genome_path) as genome:
        sizes = dict(genome.sizes)
    names = ChromNames(list(sizes), aliases)
    return [(chrom, start) for chrom, start, _ in read_intervals(path, sizes, names, points=True)]


def _grad_x_input(pred: Predictor, codes: np.ndarray) -> np.ndarray:
    """(n, tracks, window) gradient x input summed over channels."""
    x = pred.encoder.one_hot(pred.encoder.codes(torch.from_numpy(codes.copy()))).float().requires_grad_(True)
    out = pred.model(x).float().reshape(len(codes), len(pred.tracks), pred.bins)
    scores = torch.logsumexp(out, -1) if pred.target.loss in ("poisson", "multinomial") else out.sum(-1)
    grads = []
    for t in range(len(pred.tracks)):
        (g,) = torch.autograd.grad(scores[:, t].sum(), x, retain_graph=t + 1 < len(pred.tracks))
        grads.append((g * x).sum(1).detach().cpu().numpy())
    return np.stack(grads, axis=1)


def tiled_windows(size: int, window: int, stride: int) -> int:
    """How many windows tile a chromosome of ``size`` bp."""
    return 0 if size < window else math.ceil((size - window) / stride) + 1
