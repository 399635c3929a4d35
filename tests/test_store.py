"""The dataset store: chunked writes, streamed and shuffled batches, variable lengths,
per-position labels, damage detection."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from genomicdl.core.errors import GenomicdlError
from genomicdl.core.sequence import PAD
from genomicdl.io.store import Store, StoreDamagedError, StoreWriter
from genomicdl.kinds.targets import Target

BINARY = Target("binary", ("a", "b"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    rng = np.random.default_rng(0)
    writer = StoreWriter(tmp_path / "s.h5", window=50, target=BINARY, chroms=["chr1"])
    n = 0
    for size in (700, 1, 9000, 300):  # appends that do not line up with HDF5 chunks
        seq = rng.integers(0, 5, size=(size, 50)).astype(np.uint8)
        seq[:, 0] = np.arange(n, n + size) % 4  # row identity check below
        writer.append(
            seq,
            labels=rng.integers(0, 2, (size, 2)).astype(np.uint8),
            split=(np.arange(size) % 3).astype(np.uint8),
            chrom=np.zeros(size, np.uint16),
            start=np.arange(n, n + size) * 100,
            gc=rng.random(size).astype(np.float32),
            kind=np.zeros(size, np.uint8),
        )
        n += size
    writer.close()
    assert not list(tmp_path.glob(".*tmp*"))
    with Store(tmp_path / "s.h5") as opened:
        yield opened


def test_store_round_trip(store: Store) -> None:
    assert store.n == 10_001 and store.window == 50 and store.tasks == ["a", "b"]
    assert store.kind == "binary" and store.alphabet == "dna" and not store.variable
    seq = store.read_seq(0, store.n)
    assert np.array_equal(seq[:, 0], np.arange(store.n) % 4)
    assert np.array_equal(store.column("start"), np.arange(store.n) * 100)
    assert store.ids(np.array([3])) == ["chr1:300-350"]
    assert len(store.rows("train")) + len(store.rows("valid")) + len(store.rows("test")) == store.n


def test_batches_cover_the_index_with_repeats(store: Store) -> None:
    index = np.concatenate([np.arange(0, store.n, 3), np.arange(0, 500)])  # repeats, unsorted
    seen = []
    for rows, codes in store.batches(index, 64, shuffle=True, seed=4, chunks_per_block=2):
        assert len(rows) <= 64
        assert np.array_equal(codes[:, 0], rows % 4)  # each row's own sequence
        seen.append(rows)
    assert np.array_equal(np.sort(np.concatenate(seen)), np.sort(index))


def test_shuffled_batches_are_seeded_and_mixed(store: Store) -> None:
    index = store.rows("train")
    first = np.concatenate([r for r, _ in store.batches(index, 100, shuffle=True, seed=1)])
    again = np.concatenate([r for r, _ in store.batches(index, 100, shuffle=True, seed=1)])
    other = np.concatenate([r for r, _ in store.batches(index, 100, shuffle=True, seed=2)])
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert not np.array_equal(first, np.sort(first))
    plain = np.concatenate([r for r, _ in store.batches(index, 100)])
    assert np.array_equal(plain, np.sort(index))


def variable_store(path: Path, n: int = 3000, seed: int = 0) -> Store:
    """Protein rows of lengths 5..400 with per-position labels (3 classes)."""
    rng = np.random.default_rng(seed)
    target = Target("per_position", ("ss",), ("C", "E", "H"))
    writer = StoreWriter(path, window=400, target=target, alphabet="protein", ids=True)
    lengths = rng.integers(5, 401, n).astype(np.int32)
    seq = np.full((n, 400), PAD, np.uint8)
    pos = np.full((n, 400), -1, np.int8)
    for i, m in enumerate(lengths):
        seq[i, :m] = rng.integers(0, 21, m)
        pos[i, :m] = i % 3  # row identity in the labels
    writer.append(seq, labels=np.zeros((n, 0), np.uint8), split=np.zeros(n, np.uint8), lengths=lengths,
                  positions=pos, ids=[f"p{i}" for i in range(n)])  # fmt: skip
    writer.close()
    return Store(path)


def test_variable_lengths_are_cropped_per_batch_and_bucketed(tmp_path: Path) -> None:
    with variable_store(tmp_path / "v.h5") as store:
        assert store.variable and store.kind == "per_position" and store.classes == ["C", "E", "H"]
        lengths = store.lengths
        padded = bucketed = 0
        seen = []
        for rows, codes, positions in store.batches(np.arange(store.n), 32, shuffle=True, seed=3, with_positions=True):
            assert codes.shape[1] == lengths[rows].max() == positions.shape[1]
            for r, c, p in zip(rows, codes, positions):
                assert (c[lengths[r] :] == PAD).all() and (p[lengths[r] :] == -1).all()
                assert (p[: lengths[r]] == r % 3).all()
            bucketed += codes.size - lengths[rows].sum()
            seen.append(rows)
        assert np.array_equal(np.sort(np.concatenate(seen)), np.arange(store.n))
        for rows, codes, _ in store.batches(np.arange(store.n), 32, shuffle=True, seed=3, with_positions=True,
                                            bucket=False):  # fmt: skip
            padded += codes.size - lengths[rows].sum()
        assert bucketed < padded / 4  # length buckets waste far less on padding


def test_unshuffled_batches_by_length_cover_each_row_once_with_less_padding(tmp_path: Path) -> None:
    with variable_store(tmp_path / "v.h5") as store:
        lengths, index = store.lengths, np.arange(0, store.n, 2)  # a split: every other row
        ordered = padded = 0
        seen = []
        for rows, codes in store.batches(index, 64, by_length=True):
            assert codes.shape[1] == lengths[rows].max()
            ordered += codes.size - lengths[rows].sum()
            seen.append(rows)
        assert np.array_equal(np.sort(np.concatenate(seen)), index)  # each row once
        assert not np.array_equal(np.concatenate(seen), index)  # no longer in store order
        for rows, codes in store.batches(index, 64):
            padded += codes.size - lengths[rows].sum()
        assert ordered < padded / 4


def test_damaged_store_is_reported(tmp_path: Path, store: Store) -> None:
    path = Path(store.path)
    store.close()
    with h5py.File(path, "r") as h5:
        offset = h5["labels"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as fh:  # flip bytes inside the first chunk of labels
        fh.seek(offset + 10)
        fh.write(b"\xff\xfe\xfd\xfc")
    with Store(path) as damaged, pytest.raises(StoreDamagedError, match=r"damaged.*rerun preprocess"):
        _ = damaged.labels


def test_truncated_store_is_one_line_saying_to_delete_it_and_rerun_preprocess(tmp_path: Path, store: Store) -> None:
    """The issue's case: h5py's "truncated file" surfaced as an OSError traceback."""
    path = Path(store.path)
    store.close()
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    with pytest.raises(StoreDamagedError) as caught:
        Store(path)
    message = str(caught.value)
    assert isinstance(caught.value, GenomicdlError) and "\n" not in message  # the runner prints it as one line
    assert message.startswith(f"{path}: the store is damaged (")
    assert "truncated file" in message and message.endswith(f": rerun preprocess (delete {path}, then rerun snakemake)")


def _rewrite(path: Path, name: str, row: int, value: int) -> None:
    """Write a value in place, as damage that keeps the checksums would (h5py recomputes them)."""
    with h5py.File(path, "r+") as h5:
        data = h5[name][row : row + 1]
        data.flat[0] = value
        h5[name][row : row + 1] = data


@pytest.mark.parametrize(
    ("name", "value", "read", "reason"),
    [
        ("seq", 77, lambda s: next(s.batches(np.arange(s.n), 64)), "sequence code 77 is not a dna code"),
        ("labels", 3, lambda s: s.labels, "label 3 is not 0/1"),
        ("length", 51, lambda s: s.lengths, "row length outside 0..50"),
    ],
)
def test_codes_labels_and_lengths_out_of_range_are_damage(
    tmp_path: Path, store: Store, name: str, value: int, read, reason: str
) -> None:
    path = Path(store.path)
    store.close()
    _rewrite(path, name, 5, value)
    with Store(path) as damaged, pytest.raises(StoreDamagedError, match=re.escape(reason)):
        read(damaged)


def test_writes_of_several_chunks_with_remainders_round_trip(tmp_path: Path) -> None:
    # wide rows make small chunks (64 rows), so appends cross several FLUSH_CHUNKS writes
    # and leave remainders buffered between them
    window = 1 << 14
    writer = StoreWriter(tmp_path / "w.h5", window=window, target=BINARY, chroms=["chr1"])
    assert writer.rows == 64 and writer.FLUSH_CHUNKS > 1
    rng = np.random.default_rng(1)
    n = 0
    for size in (100, 1, 300, 77, 250, 3):
        seq = rng.integers(0, 4, size=(size, window)).astype(np.uint8)
        seq[:, :5] = (np.arange(n, n + size)[:, None] >> (2 * np.arange(5))) & 3  # row number, base 4
        writer.append(
            seq,
            labels=np.zeros((size, 2), np.uint8),
            split=np.zeros(size, np.uint8),
            start=np.arange(n, n + size),
            gc=np.zeros(size, np.float32),
            kind=np.zeros(size, np.uint8),
        )
        n += size
    writer.close()
    with Store(tmp_path / "w.h5") as store, h5py.File(tmp_path / "w.h5") as h5:
        assert store.n == n == 731 and h5["seq"].chunks == (64, window) and h5["seq"].fletcher32
        seq = store.read_seq(0, n)
        assert np.array_equal((seq[:, :5].astype(int) << (2 * np.arange(5))).sum(axis=1), np.arange(n))
        assert np.array_equal(store.column("start"), np.arange(n))
