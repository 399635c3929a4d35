"""The on-disk dataset store (HDF5) and its streaming reader.

Sequences are stored integer-coded, one byte per base (A C G T N = 0..4), in chunks of
rows; the one-hot encoding is made on the fly by the loader (4x less to write and read).
Labels, split, coordinates, strand, GC and the kind of each window sit beside them. Nothing
here loads the sequences of a whole dataset into memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

FORMAT = "genomicdl-store/1"
SPLITS = ("train", "valid", "test")
SPLIT_CODE = {name: i for i, name in enumerate(SPLITS)}
KINDS = ("positive", "gc_matched", "flank", "shuffle", "table", "table_shuffle", "tile")
KIND_CODE = {name: i for i, name in enumerate(KINDS)}
COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of integer-coded sequences along the last axis."""
    return COMPLEMENT[codes[..., ::-1]]


def one_hot(codes: np.ndarray) -> np.ndarray:
    """(n, L) codes -> (n, 4, L) float32 one-hot; N is all zeros."""
    eye = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])
    return np.ascontiguousarray(eye[codes].transpose(0, 2, 1))


def chunk_rows(window: int, target_bytes: int = 1 << 20) -> int:
    """Rows per HDF5 chunk so that a chunk of sequence is about ``target_bytes``."""
    return max(64, target_bytes // max(window, 1))


class StoreWriter:
    """Appends windows to a new store; the file appears at ``path`` only on close().

    Rows are buffered and written in whole HDF5 chunks (a few MB), so memory stays
    bounded and no chunk is written twice. ``ids`` stores a string id per row (tables);
    genome windows are identified by chromosome and start.
    """

    BLOCK_CHUNKS = 1  # HDF5 chunks per write

    def __init__(
        self,
        path: str | Path,
        window: int,
        tasks: Sequence[str],
        chroms: Sequence[str],
        attrs: dict[str, Any] | None = None,
        ids: bool = False,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        self.window, self.tasks = window, list(tasks)
        self.rows = chunk_rows(window)
        self.n = 0
        self._columns = ["seq", "labels", "split", "chrom", "start", "strand", "gc", "kind"] + (["id"] if ids else [])
        self._buffer: dict[str, list[np.ndarray]] = {c: [] for c in self._columns}
        self._buffered = 0
        self._h5 = h5py.File(self.tmp, "w", rdcc_nbytes=0)  # whole chunks are written: no cache
        h5 = self._h5
        h5.attrs["format"] = FORMAT
        h5.attrs["window"] = window
        h5.attrs["tasks"] = json.dumps(self.tasks)
        h5.attrs["chroms"] = json.dumps(list(chroms))
        h5.attrs["alphabet"] = "ACGTN"
        h5.attrs["splits"] = json.dumps(SPLITS)
        h5.attrs["kinds"] = json.dumps(KINDS)
        for key, value in (attrs or {}).items():
            h5.attrs[key] = json.dumps(value)
        dtypes = {
            "seq": np.uint8,
            "labels": np.uint8,
            "split": np.uint8,
            "chrom": np.uint16,
            "start": np.int64,
            "strand": np.int8,
            "gc": np.float32,
            "kind": np.uint8,
            "id": h5py.string_dtype(),
        }
        widths = {"seq": window, "labels": len(self.tasks)}
        for name in self._columns:
            width = widths.get(name)
            shape, maxshape = ((0, width), (None, width)) if width else ((0,), (None,))
            chunks = (self.rows, width) if width else (self.rows * self.BLOCK_CHUNKS,)
            h5.create_dataset(name, shape=shape, maxshape=maxshape, dtype=dtypes[name], chunks=chunks)

    def append(
        self,
        seq: np.ndarray,
        labels: np.ndarray,
        split: np.ndarray,
        chrom: np.ndarray,
        start: np.ndarray,
        gc: np.ndarray,
        kind: np.ndarray,
        ids: Sequence[str] | None = None,
        strand: np.ndarray | None = None,
    ) -> None:
        """Append n rows (every array has n rows). ``strand``: +1 / -1 for the strand of
        the record a window comes from (the sequence is the reference's forward strand),
        0 (the default) for unstranded or unknown."""
        if len(seq) == 0:
            return
        values = {
            "seq": seq,
            "labels": labels,
            "split": split,
            "chrom": chrom,
            "start": start,
            "strand": np.zeros(len(seq), np.int8) if strand is None else strand,
            "gc": gc,
            "kind": kind,
        }
        if "id" in self._buffer:
            values["id"] = np.asarray(ids if ids is not None else [""] * len(seq), dtype=object)
        for name in self._columns:
            self._buffer[name].append(np.asarray(values[name]))
        self._buffered += len(seq)
        block = self.rows * self.BLOCK_CHUNKS
        if self._buffered >= block:
            self._flush(self._buffered - self._buffered % block)

    def _flush(self, count: int) -> None:
        """Write the first ``count`` buffered rows; keep the rest buffered."""
        lo, hi = self.n, self.n + count
        for name in self._columns:
            data = np.concatenate(self._buffer[name]) if len(self._buffer[name]) > 1 else self._buffer[name][0]
            ds = self._h5[name]
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


class Store:
    """Read access to a store: metadata in memory (bytes per row), sequences streamed."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._h5 = h5py.File(self.path, "r")
        attrs = self._h5.attrs
        if attrs.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not a {FORMAT} file")
        self.window = int(attrs["window"])
        self.tasks: list[str] = json.loads(attrs["tasks"])
        self.chroms: list[str] = json.loads(attrs["chroms"])
        self.n = int(self._h5["seq"].shape[0])
        self.rows_per_chunk = int(self._h5["seq"].chunks[0])
        self._split: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def attr(self, key: str) -> Any:
        """A JSON attribute written by StoreWriter(attrs=...)."""
        return json.loads(self._h5.attrs[key]) if key in self._h5.attrs else None

    @property
    def split(self) -> np.ndarray:
        if self._split is None:
            self._split = self._h5["split"][:]
        return self._split

    @property
    def labels(self) -> np.ndarray:
        if self._labels is None:
            self._labels = self._h5["labels"][:]
        return self._labels

    def rows(self, split: str) -> np.ndarray:
        """Row numbers of one split, in store order."""
        return np.flatnonzero(self.split == SPLIT_CODE[split])

    def column(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A metadata column (chrom, start, strand, gc, kind, id), whole or at ``rows``."""
        data = self._h5[name][:]
        return data if rows is None else data[np.asarray(rows)]

    def ids(self, rows: np.ndarray) -> list[str]:
        """Row ids: the table's ids, or chrom:start-end for genome windows."""
        if "id" in self._h5:
            return [x.decode() if isinstance(x, bytes) else str(x) for x in self.column("id", rows)]
        chroms, starts = self.column("chrom", rows), self.column("start", rows)
        return [f"{self.chroms[c]}:{s}-{s + self.window}" for c, s in zip(chroms.tolist(), starts.tolist())]

    def read_seq(self, lo: int, hi: int) -> np.ndarray:
        """Codes of rows [lo, hi)."""
        return self._h5["seq"][lo:hi]

    def batches(
        self, index: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0, chunks_per_block: int = 16
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (rows, codes) batches over ``index`` (sorted rows, repeats allowed).

        Without shuffle, batches follow store order. With shuffle, the chunks holding the
        index are visited in a seeded random order, ``chunks_per_block`` at a time, and
        the rows of each block are permuted: memory is bounded by one block.
        """
        index = np.sort(np.asarray(index, dtype=np.int64))
        if len(index) == 0:
            return
        rng = np.random.default_rng(seed)
        chunk_of = index // self.rows_per_chunk
        chunks, first = np.unique(chunk_of, return_index=True)
        bounds = np.append(first, len(index))
        order = rng.permutation(len(chunks)) if shuffle else np.arange(len(chunks))
        step = chunks_per_block if shuffle else 1
        carry_rows = np.empty(0, dtype=np.int64)
        carry_codes = np.empty((0, self.window), dtype=np.uint8)
        for b in range(0, len(order), step):
            parts_rows, parts_codes = [carry_rows], [carry_codes]
            for j in np.sort(order[b : b + step]):
                rows = index[bounds[j] : bounds[j + 1]]
                lo = int(chunks[j]) * self.rows_per_chunk
                block = self.read_seq(lo, int(rows[-1]) + 1)
                parts_rows.append(rows)
                parts_codes.append(block[rows - lo])
            rows = np.concatenate(parts_rows)
            codes = np.concatenate(parts_codes)
            if shuffle:
                perm = rng.permutation(len(rows))
                rows, codes = rows[perm], codes[perm]
            full = len(rows) - len(rows) % batch_size
            for i in range(0, full, batch_size):
                yield rows[i : i + batch_size], codes[i : i + batch_size]
            carry_rows, carry_codes = rows[full:], codes[full:]
        if len(carry_rows):
            yield carry_rows, carry_codes

    def close(self) -> None:
        self._h5.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
