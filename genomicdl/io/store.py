"""The on-disk dataset store (HDF5) and its streaming reader.

Sequences are stored integer-coded (``genomicdl.core.sequence``), one byte per letter, in
chunks of rows, padded with ``PAD`` to the longest row; each row's length sits beside it
so that batches are cropped to their own longest row and nothing counts padding. The
one-hot encoding is made on the fly where the model runs. Labels are stored in the shape
of the dataset's target kind (``genomicdl.kinds.targets``); per-position labels (-1 = masked)
sit in ``positions``, aligned with the sequence. Split, coordinates, strand, GC and the
origin of each row sit beside them. Every dataset carries HDF5's Fletcher-32 checksum,
so a damaged file is reported, not read as noise. Nothing here loads the sequences of a
whole dataset into memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from genomicdl.core.errors import GenomicdlError
from genomicdl.core.sequence import ALPHABETS, PAD
from genomicdl.kinds.targets import Target

FORMAT = "genomicdl-store/2"
SPLITS = ("train", "valid", "test")
SPLIT_CODE = {name: i for i, name in enumerate(SPLITS)}
ORIGINS = ("positive", "gc_matched", "flank", "shuffle", "table", "table_shuffle", "tile")
ORIGIN_CODE = {name: i for i, name in enumerate(ORIGINS)}
# kept for the data stage's vocabulary ("kind" of a window = its origin)
KINDS, KIND_CODE = ORIGINS, ORIGIN_CODE


class StoreDamagedError(GenomicdlError, OSError):
    """The store cannot be read back as written (truncated, a checksum or a range check failed)."""


def chunk_rows(window: int, target_bytes: int = 1 << 20) -> int:
    """Rows per HDF5 chunk so that a chunk of sequence is about ``target_bytes``."""
    return max(64, target_bytes // max(window, 1))


def label_width(target: Target) -> int | None:
    """Columns of the labels dataset (None: one value per row)."""
    return target.k.label_width(target.outputs)


class StoreWriter:
    """Appends rows to a new store; the file appears at ``path`` only on close().

    Rows are buffered and written in whole HDF5 chunks, ``FLUSH_CHUNKS`` chunks per write
    (a few MB), so memory stays bounded, no chunk is written twice and h5py's per-call
    overhead is paid a few times per 10^5 rows. ``ids`` stores a string id per row (tables);
    genome windows are identified by chromosome and start. ``window`` is the padded width
    (the longest row); rows shorter than it are padded with PAD.
    """

    FLUSH_CHUNKS = 4  # HDF5 chunks (about 1 MB of sequence each) per write

    def __init__(
        self,
        path: str | Path,
        *,
        window: int,
        target: Target,
        chroms: Sequence[str] = ("",),
        alphabet: str = "dna",
        attrs: dict[str, Any] | None = None,
        ids: bool = False,
        mask: bool = False,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        self.window, self.target = window, target
        self.rows = chunk_rows(window)
        self.n = 0
        self._columns = ["seq", "length", "labels", "split", "chrom", "start", "strand", "gc", "kind"]
        self._columns += ["positions"] if target.k.per_position else []
        self._columns += ["id"] if ids else []
        self._columns += ["mask"] if mask else []
        self._buffer: dict[str, list[np.ndarray]] = {c: [] for c in self._columns}
        self._buffered = 0
        self._h5 = h5py.File(self.tmp, "w", rdcc_nbytes=0)  # whole chunks are written: no cache
        self._write_attrs(chroms, alphabet, attrs or {})
        self._datasets: dict[str, h5py.Dataset] = {}
        self._create_datasets()

    def _write_attrs(self, chroms: Sequence[str], alphabet: str, attrs: dict[str, Any]) -> None:
        a = self._h5.attrs
        a["format"] = FORMAT
        a["window"] = self.window
        a["tasks"] = json.dumps(list(self.target.tasks))
        a["target"] = json.dumps(self.target.to_json())
        a["chroms"] = json.dumps(list(chroms))
        a["alphabet"] = alphabet
        a["splits"] = json.dumps(SPLITS)
        a["kinds"] = json.dumps(ORIGINS)
        for key, value in attrs.items():
            a[key] = json.dumps(value)

    def _create_datasets(self) -> None:
        dtypes = {
            "seq": np.uint8,
            "length": np.int32,
            "labels": np.dtype(self.target.k.label_dtype),
            "positions": np.int8,
            "split": np.uint8,
            "chrom": np.uint16,
            "start": np.int64,
            "strand": np.int8,
            "gc": np.float32,
            "kind": np.uint8,
            "id": h5py.string_dtype(),
            "mask": np.uint8,
        }
        widths = {"seq": self.window, "positions": self.window, "labels": label_width(self.target)}
        for name in self._columns:
            width = widths.get(name)
            shape, maxshape = ((0, width), (None, width)) if width is not None else ((0,), (None,))
            chunks = (self.rows, max(width, 1)) if width is not None else (self.rows,)
            self._datasets[name] = self._h5.create_dataset(
                name, shape=shape, maxshape=maxshape, dtype=dtypes[name], chunks=chunks, fletcher32=name != "id"
            )

    def append(
        self,
        seq: np.ndarray,
        *,
        labels: np.ndarray,
        split: np.ndarray,
        lengths: np.ndarray | None = None,
        chrom: np.ndarray | None = None,
        start: np.ndarray | None = None,
        gc: np.ndarray | None = None,
        kind: np.ndarray | None = None,
        ids: Sequence[str] | None = None,
        strand: np.ndarray | None = None,
        positions: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> None:
        """Append n rows: codes (n, window) padded with PAD, and per-row columns.

        ``lengths`` defaults to the window; ``chrom``/``start`` to 0/-1 (tables);
        ``strand``: +1 / -1 for the strand of the record a window comes from, 0 for
        unstranded or unknown; ``positions`` (per_position kind): (n, window) int8;
        ``mask`` (stores made with ``mask=True``): reason bits of rows left out of loss and
        metrics, 0 = kept (genomicdl.datasets.signal_mask).
        """
        n = len(seq)
        if n == 0:
            return
        values = {
            "seq": seq,
            "length": np.full(n, self.window, np.int32) if lengths is None else lengths,
            "labels": labels,
            "split": split,
            "chrom": np.zeros(n, np.uint16) if chrom is None else chrom,
            "start": np.full(n, -1, np.int64) if start is None else start,
            "strand": np.zeros(n, np.int8) if strand is None else strand,
            "gc": np.zeros(n, np.float32) if gc is None else gc,
            "kind": np.full(n, ORIGIN_CODE["table"], np.uint8) if kind is None else kind,
        }
        if "positions" in self._buffer:
            if positions is None:
                raise ValueError("a per_position store needs positions for every row")
            values["positions"] = positions
            values["labels"] = np.zeros(n, np.uint8)
        if "mask" in self._buffer:
            values["mask"] = np.zeros(n, np.uint8) if mask is None else mask
        if "id" in self._buffer:
            values["id"] = np.asarray(ids if ids is not None else [""] * n, dtype=object)
        for name in self._columns:
            self._buffer[name].append(np.asarray(values[name]))
        self._buffered += n
        if self._buffered >= self.rows * self.FLUSH_CHUNKS:
            self._flush(self._buffered - self._buffered % self.rows)

    def _flush(self, count: int) -> None:
        """Write the first ``count`` buffered rows; keep the rest buffered."""
        lo, hi = self.n, self.n + count
        for name in self._columns:
            data = np.concatenate(self._buffer[name]) if len(self._buffer[name]) > 1 else self._buffer[name][0]
            ds = self._datasets[name]
            ds.resize(hi, axis=0)
            ds[lo:hi] = data[:count]
            self._buffer[name] = [data[count:]] if count < len(data) else []
        self._buffered -= count
        self.n = hi

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._buffered:
            self._flush(self._buffered)
        self._h5.attrs["n"] = self.n
        self._h5.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            self._h5.close()
        finally:
            if self.tmp.exists():
                self.tmp.unlink()


def _damaged(path: str, err: Exception) -> StoreDamagedError:
    """One line: the file, what is wrong with it, and what to do."""
    reason = " ".join(str(err).split())
    return StoreDamagedError(
        f"{path}: the store is damaged ({reason}): rerun preprocess (delete {path}, then rerun snakemake)"
    )


def window_of(meta: Mapping[str, Any], where: str | Path) -> int:
    """The input window (bp) a store, a trained model or a predict sidecar records under
    ``window``: the one reader of that key, failing with the file's name when it lacks it."""
    try:
        return int(meta["window"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: records no window (made by another version? rerun the step that made it)") from err


class Store:
    """Read access to a store: metadata in memory (a few bytes per row), sequences streamed."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._h5 = h5py.File(self.path, "r")
        except OSError as err:
            raise _damaged(self.path, err) from err
        attrs = self._h5.attrs
        if attrs.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not a {FORMAT} file (made by another version? rerun preprocess)")
        self.window = window_of(attrs, self.path)
        self.target = Target.from_json(json.loads(attrs["target"]))
        self.kind = self.target.kind
        self.tasks: list[str] = list(self.target.tasks)
        self.classes: list[str] = list(self.target.classes)
        self.alphabet = str(attrs["alphabet"])
        self.chroms: list[str] = json.loads(attrs["chroms"])
        self.n = int(self._h5["seq"].shape[0])
        self.rows_per_chunk = int(self._h5["seq"].chunks[0])
        self._cache: dict[str, np.ndarray] = {}
        self._bad_code = np.ones(256, dtype=bool)  # codes of the alphabet, its unknown letter and PAD are good
        self._bad_code[: ALPHABETS[self.alphabet].unknown + 1] = False
        self._bad_code[PAD] = False

    def _read(self, name: str, sel: Any = slice(None)) -> np.ndarray:
        """Read a dataset (Fletcher-32 checked by HDF5); sequence codes and per-position
        labels are range-checked too."""
        try:
            data = self._h5[name][sel]
        except OSError as err:
            raise _damaged(self.path, err) from err
        if name == "seq" and data.dtype == np.uint8 and data.size and self._bad_code[data].any():
            code = int(data[self._bad_code[data]][0])
            raise _damaged(self.path, ValueError(f"sequence code {code} is not a {self.alphabet} code"))
        if name == "positions" and data.size and (data.min() < -1 or data.max() >= max(len(self.classes), 1)):
            raise _damaged(self.path, ValueError("per-position class index out of range"))
        return data

    def _whole(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self._read(name)
        return self._cache[name]

    def attr(self, key: str) -> Any:
        """A JSON attribute written by StoreWriter(attrs=...)."""
        return json.loads(self._h5.attrs[key]) if key in self._h5.attrs else None

    @property
    def split(self) -> np.ndarray:
        split = self._whole("split")
        if len(split) and split.max() >= len(SPLITS):
            raise _damaged(self.path, ValueError(f"split code {split.max()} out of range"))
        return split

    @property
    def labels(self) -> np.ndarray:
        """Labels of every row in the kind's shape (per_position: see ``positions``)."""
        labels = self._whole("labels")
        self._check_labels(labels)
        return labels

    def _check_labels(self, labels: np.ndarray) -> None:
        problem = self.target.k.check_labels(labels, self.classes)
        if problem:
            raise _damaged(self.path, ValueError(problem))

    @property
    def lengths(self) -> np.ndarray:
        """Length of every row (the window for fixed-length data)."""
        lengths = self._whole("length")
        if len(lengths) and (lengths.min() < 0 or lengths.max() > self.window):
            raise _damaged(self.path, ValueError(f"row length outside 0..{self.window}"))
        return lengths

    @property
    def variable(self) -> bool:
        """Whether rows differ in length."""
        lengths = self.lengths
        return bool(len(lengths)) and int(lengths.min()) != int(lengths.max())

    @property
    def mask(self) -> np.ndarray:
        """Mask reason bits of every row (0 = kept; zeros for a store without a mask)."""
        if "mask" not in self._h5:
            return np.zeros(self.n, np.uint8)
        return self._whole("mask")

    def rows(self, split: str) -> np.ndarray:
        """Row numbers of one split, in store order."""
        return np.flatnonzero(self.split == SPLIT_CODE[split])

    def column(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A metadata column (chrom, start, strand, gc, kind, id, length), whole or at ``rows``."""
        data = self._whole(name) if name != "id" else self._read(name)
        return data if rows is None else data[np.asarray(rows)]

    def ids(self, rows: np.ndarray) -> list[str]:
        """Row ids: the table's ids, or chrom:start-end for genome windows."""
        if "id" in self._h5:
            return [x.decode() if isinstance(x, bytes) else str(x) for x in self.column("id", rows)]
        chroms, starts = self.column("chrom", rows), self.column("start", rows)
        return [f"{self.chroms[c]}:{s}-{s + self.window}" for c, s in zip(chroms.tolist(), starts.tolist())]

    def read_seq(self, lo: int, hi: int) -> np.ndarray:
        """Codes of rows [lo, hi), padded to the window."""
        return self._read("seq", slice(lo, hi))

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Per-position labels (len(rows), window) of sorted ``rows`` (-1 = masked)."""
        return self._read("positions", np.asarray(rows))

    def batches(
        self,
        index: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        chunks_per_block: int = 16,
        *,
        with_positions: bool = False,
        bucket: bool = True,
        by_length: bool = False,
    ) -> Iterator[tuple[np.ndarray, ...]]:
        """Yield (rows, codes) -- or (rows, codes, positions) -- batches over ``index``
        (repeats allowed); codes are cropped to the batch's longest row.

        Without shuffle, batches follow store order. With shuffle, the chunks holding the
        index are visited in a seeded random order, ``chunks_per_block`` at a time, and
        the rows of each block are permuted: memory is bounded by one block. With
        ``bucket`` and rows of different lengths, each block's rows are grouped by length
        before they are cut into batches (batch order shuffled), so padding stays small.
        ``by_length`` does the same without shuffle (for prediction, which puts rows back
        in place): blocks of ``chunks_per_block`` chunks in store order, each block's rows
        sorted by length, so batches no longer follow store order.
        """
        index = np.sort(np.asarray(index, dtype=np.int64))
        if len(index) == 0:
            return
        rng = np.random.default_rng(seed)
        lengths = self.lengths
        bucket = bucket and self.variable
        chunk_of = index // self.rows_per_chunk
        chunks, first = np.unique(chunk_of, return_index=True)
        bounds = np.append(first, len(index))
        order = rng.permutation(len(chunks)) if shuffle else np.arange(len(chunks))
        by_length = by_length and bucket and not shuffle
        step = chunks_per_block if shuffle or by_length else 1
        names = ["seq", "positions"] if with_positions else ["seq"]
        carry = [np.empty(0, np.int64)] + [np.empty((0, self.window), self._h5[n].dtype) for n in names]
        for b in range(0, len(order), step):
            parts: list[list[np.ndarray]] = [[c] for c in carry]
            for j in np.sort(order[b : b + step]):
                rows = index[bounds[j] : bounds[j + 1]]
                lo = int(chunks[j]) * self.rows_per_chunk
                parts[0].append(rows)
                for k, name in enumerate(names, start=1):
                    parts[k].append(self._read(name, slice(lo, int(rows[-1]) + 1))[rows - lo])
            block = [np.concatenate(p) for p in parts]
            if shuffle:
                perm = rng.permutation(len(block[0]))
                if bucket:
                    perm = perm[np.argsort(lengths[block[0][perm]], kind="stable")]
                block = [a[perm] for a in block]
            elif by_length:
                block = [a[np.argsort(lengths[block[0]], kind="stable")] for a in block]
            full = len(block[0]) - len(block[0]) % batch_size
            starts = np.arange(0, full, batch_size)
            if shuffle and bucket:
                starts = rng.permutation(starts)
            for i in starts:
                yield self._cropped([a[i : i + batch_size] for a in block], lengths)
            carry = [a[full:] for a in block]
        if len(carry[0]):
            yield self._cropped(carry, lengths)

    def _cropped(self, batch: list[np.ndarray], lengths: np.ndarray) -> tuple[np.ndarray, ...]:
        width = int(lengths[batch[0]].max())
        return (batch[0], *(a[:, :width] for a in batch[1:]))

    def close(self) -> None:
        self._h5.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
