"""The dataset store: chunked writes, streamed and shuffled batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomicdl.encode import Store, StoreWriter, one_hot, reverse_complement


@pytest.fixture
def store(tmp_path: Path) -> Store:
    rng = np.random.default_rng(0)
    writer = StoreWriter(tmp_path / "s.h5", window=50, tasks=["a", "b"], chroms=["chr1"])
    n = 0
    for size in (700, 1, 9000, 300):  # appends that do not line up with HDF5 chunks
        seq = rng.integers(0, 5, size=(size, 50)).astype(np.uint8)
        seq[:, 0] = np.arange(n, n + size) % 4  # row identity check below
        writer.append(
            seq,
            rng.integers(0, 2, (size, 2)).astype(np.uint8),
            (np.arange(size) % 3).astype(np.uint8),
            np.zeros(size, np.uint16),
            np.arange(n, n + size) * 100,
            rng.random(size).astype(np.float32),
            np.zeros(size, np.uint8),
        )
        n += size
    writer.close()
    assert not list(tmp_path.glob(".*tmp*"))
    with Store(tmp_path / "s.h5") as opened:
        yield opened


def test_store_round_trip(store: Store) -> None:
    assert store.n == 10_001 and store.window == 50 and store.tasks == ["a", "b"]
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


def test_one_hot_and_reverse_complement() -> None:
    codes = np.array([[0, 1, 2, 3, 4]], dtype=np.uint8)
    assert one_hot(codes)[0].tolist() == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]
    assert reverse_complement(codes).tolist() == [[4, 0, 1, 2, 3]]
