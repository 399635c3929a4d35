"""Predict with an exported model, without the workflow (ONNX through onnxruntime, or
TorchScript through PyTorch).

    python -m genomicdl.export.runtime --model export/ds/deepbind/none/1/model.onnx --fasta seqs.fa --out p.tsv.gz

Reads ``export.json`` beside the model (alphabet, window, tasks), fits each FASTA record to
the window as the predict stage does (centred; cropped in the middle or padded with N),
and writes the predict stage's sequence table (genomicdl.evaluation.predict.predict_table): ``name``
then one column per track -- the probability for classifiers, the window's total (sum
over bins) for signal models. Records are read and predicted CHUNK at a time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from genomicdl import kinds
from genomicdl.core.errors import GenomicdlError, InputError
from genomicdl.core.files import atomic_output
from genomicdl.core.sequence import AlphabetError, encode, get, one_hot
from genomicdl.core.sequence import centred_in_window as fit
from genomicdl.io import tables

CHUNK = 2048


class ExportedModel:
    """An exported model and its description (export.json in the same folder)."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        self.path = Path(path)
        info_path = self.path.with_name("export.json")
        if not self.path.is_file():
            raise InputError(self.path, "no such exported model (model.onnx or model.ts of an export folder)")
        if not info_path.is_file():
            raise InputError(info_path, "missing: an exported model needs the export.json written beside it")
        self.info: dict[str, Any] = json.loads(info_path.read_text())
        self.window = int(self.info["window"])
        self.alphabet = self.info["alphabet"]
        out = self.info["output"]
        self.kind = out["kind"]
        if kinds.get(self.kind).per_position:
            raise GenomicdlError(f"{self.path}: per-position models predict residues, not one row per sequence")
        if kinds.get(self.kind).has_classes:
            self.columns, self.bins = list(out["classes"]), 1
        elif kinds.get(self.kind).labels == "values":
            from genomicdl.kinds.signal_layout import layout

            self.columns, self.bins = layout(out["tasks"])
        else:
            self.columns, self.bins = list(out["tasks"]), 1
        self._run = self._onnx(threads) if self.path.suffix == ".onnx" else self._torchscript(threads)

    def _onnx(self, threads: int):
        from genomicdl.export.convert import onnx_session

        session = onnx_session(self.path, threads)
        names = [i.name for i in session.get_inputs()]

        def run(x: np.ndarray) -> np.ndarray:
            feed = {"x": x}
            if "lengths" in names:
                feed["lengths"] = np.full(len(x), self.window, np.int64)
            return session.run(None, feed)[0]

        return run

    def _torchscript(self, threads: int):
        import torch

        torch.set_num_threads(max(1, threads))
        with warnings.catch_warnings():  # torch.jit is deprecated, still supported
            warnings.simplefilter("ignore")
            module = torch.jit.load(str(self.path), map_location="cpu")

        @torch.no_grad()
        def run(x: np.ndarray) -> np.ndarray:
            inputs = [torch.from_numpy(x)]
            if self.info.get("variable"):
                inputs.append(torch.full((len(x),), self.window, dtype=torch.int64))
            return module(*inputs).numpy()

        return run

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """(n, window) codes -> (n, columns): probabilities, or totals over each track's bins."""
        y = self._run(one_hot(codes, self.alphabet))
        return y.reshape(len(codes), len(self.columns), self.bins).sum(-1)


def read_fasta(path: str | Path, alphabet: str) -> Iterator[tuple[str, np.ndarray]]:
    """(name, codes) of each FASTA record (plain or gzip; read with tables.read_fasta's
    bounds); a bad letter is an error naming the file, the line, the record and the letter."""
    if not Path(path).is_file():
        raise InputError(path, "no such FASTA file")
    for n, (line, header, sequence) in enumerate(tables.read_fasta(path), 1):
        name = header.split()[0] if header.split() else f"record_{n}"  # "> chr1,+,..." headers
        if not sequence:
            raise InputError(path, f"record {n} ({name}) has no sequence", line)
        try:
            yield name, encode(sequence, alphabet)
        except AlphabetError as err:
            raise InputError(path, f"record {n} ({name}): {err}", line) from None


def predict_fasta(model: ExportedModel, fasta: str | Path, out: str | Path) -> int:
    """Write the prediction table of every record of ``fasta``; returns the record count."""
    unknown = get(model.alphabet).unknown
    n = 0
    with atomic_output(out) as tmp, gzip.open(tmp, "wt") if str(out).endswith(".gz") else open(tmp, "w") as fh:
        fh.write("name\t" + "\t".join(model.columns) + "\n")
        batch: list[tuple[str, np.ndarray]] = []
        for record in read_fasta(fasta, model.alphabet):
            batch.append(record)
            if len(batch) == CHUNK:
                n += _write(model, batch, unknown, fh)
                batch = []
        n += _write(model, batch, unknown, fh)
    return n


def _write(model: ExportedModel, batch: list[tuple[str, np.ndarray]], unknown: int, fh) -> int:
    if not batch:
        return 0
    values = model(np.stack([fit(c, model.window, unknown) for _, c in batch]))
    for (name, _), v in zip(batch, values):
        fh.write(name + "\t" + "\t".join(f"{x:.6g}" for x in v) + "\n")
    return len(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genomicdl.export.runtime", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model.onnx (onnxruntime) or model.ts (TorchScript)")
    parser.add_argument("--fasta", required=True, help="sequences to predict (FASTA, plain or gzip)")
    parser.add_argument("--out", default="-", help="output table (.tsv or .tsv.gz); - for stdout (default)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    args = parser.parse_args(argv)
    try:
        model = ExportedModel(args.model, args.threads)
        if args.out == "-":
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "predictions.tsv"
                predict_fasta(model, args.fasta, path)
                sys.stdout.write(path.read_text())
        else:
            predict_fasta(model, args.fasta, args.out)
    except GenomicdlError as err:
        print(f"genomicdl.export.runtime: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
