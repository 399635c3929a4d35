"""Continuous signal from bigWig files: reading, chromosome names, control, binning.

Read with pyBigWig (libBigWig): on the yeast tracks a whole chromosome reads as fast as
with pybigtools, many 1-kb windows 4.7x slower -- but windows here are served from one
read span per chunk (``read_spans``), so the span speed is what counts, and pyBigWig also
writes bigWig (the predict stage) with the same library. docs/signal.md has the figures.

Handling of awkward values (documented in docs/signal.md, tested):

- positions a bigWig does not cover read as NaN in pyBigWig; ``nan: zero`` (default)
  makes them 0 (no reads there), ``nan: missing`` keeps NaN (a missing label, masked in
  the loss), ``nan: error`` stops naming file, chromosome and position.
- negative values: ``negative: error`` (default; counts are expected) names file,
  chromosome and position; ``clip`` sets them to 0; ``keep`` keeps them (mse losses).
- a bigWig whose chromosomes match none of the genome's is an error naming both lists;
  chromosomes of the genome the bigWig lacks read as uncovered (NaN, see above), logged.
- a read past a chromosome's end is an error naming file, chromosome and size.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from genomicdl.core.errors import InputError
from genomicdl.io.genome import ChromNames

log = logging.getLogger(__name__)

NAN_POLICIES = ("zero", "missing", "error")
NEGATIVE_POLICIES = ("error", "clip", "keep")
STATS = ("sum", "mean")


def open_bigwig(path: str | Path):
    """A pyBigWig handle, with a clear error for a file that is not a bigWig."""
    import pyBigWig

    try:
        bw = pyBigWig.open(str(path))
    except RuntimeError:
        bw = None
    if bw is None or not bw.isBigWig():
        raise InputError(path, "not a readable bigWig file")
    return bw


class BigWigTrack:
    """One bigWig track, addressed by the genome's chromosome names.

    ``names`` reconciles the file's chromosome names with the genome's (exact, alias,
    roman/arabic, chr prefix), as for peaks.
    """

    def __init__(
        self,
        path: str | Path,
        sizes: Mapping[str, int],
        names: ChromNames,
        *,
        nan: str = "zero",
        negative: str = "error",
    ) -> None:
        if nan not in NAN_POLICIES or negative not in NEGATIVE_POLICIES:
            raise ValueError(f"nan must be one of {NAN_POLICIES}, negative one of {NEGATIVE_POLICIES}")
        self.path, self.sizes, self.nan, self.negative = str(path), dict(sizes), nan, negative
        self._bw = open_bigwig(path)
        own = dict(self._bw.chroms())
        roman = names.scheme_of(list(own))
        self.to_file: dict[str, str] = {}
        for name in own:
            hit = names.resolve(name, roman)
            if hit is not None:
                self.to_file[hit] = name
        if not self.to_file:
            raise InputError(
                path,
                f"none of its chromosomes ({', '.join(list(own)[:8])}) matches the genome's "
                f"({', '.join(list(sizes)[:8])}); add chrom_aliases",
            )
        renamed = {f: g for g, f in self.to_file.items() if f != g}
        if renamed:
            log.info("%s: chromosomes renamed %s", path, ", ".join(f"{a}->{b}" for a, b in sorted(renamed.items())))
        absent = [c for c in sizes if c not in self.to_file]
        if absent:
            shown = ", ".join(absent[:8])
            log.info("%s: no signal on %d genome chromosomes (%s): read as uncovered", path, len(absent), shown)
        header = self._bw.header()
        self.total = float(header.get("sumData", 0.0))

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Per-base values of [start, end) on the genome's ``chrom`` (float32), after the
        nan and negative policies."""
        size = self.sizes.get(chrom)
        if size is None or start < 0 or end > size or end < start:
            raise InputError(self.path, f"region {chrom}:{start}-{end} lies outside the genome ({chrom}: {size} bp)")
        name = self.to_file.get(chrom)
        if name is None:
            out = np.full(end - start, np.nan, np.float32)
        else:
            own = int(self._bw.chroms(name))
            out = np.full(end - start, np.nan, np.float32)
            hi = min(end, own)
            if hi > start:
                out[: hi - start] = self._bw.values(name, start, hi, numpy=True)
        return self._policies(out, chrom, start)

    def _policies(self, out: np.ndarray, chrom: str, start: int) -> np.ndarray:
        bad = np.isnan(out)
        if bad.any():
            if self.nan == "error":
                pos = start + int(np.flatnonzero(bad)[0])
                problem = f"no value (NaN or uncovered) at {chrom}:{pos}; set signal.nan: zero or missing"
                raise InputError(self.path, problem)
            if self.nan == "zero":
                out[bad] = 0.0
        neg = out < 0
        if neg.any():
            if self.negative == "error":
                pos = start + int(np.flatnonzero(neg)[0])
                raise InputError(
                    self.path,
                    f"negative value {out[neg][0]:g} at {chrom}:{pos} where counts are expected; "
                    "set signal.negative: clip or keep",
                )
            if self.negative == "clip":
                out[neg] = 0.0
        return out

    def close(self) -> None:
        self._bw.close()


class SignalReader:
    """Several tracks (one per task) and an optional control, read together.

    With a control, each track becomes ``max(0, track - scale * control)`` where
    ``scale`` is the ratio of the tracks' totals (bigWig header sums): the control's
    background, brought to the track's depth, is subtracted.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        sizes: Mapping[str, int],
        names: ChromNames,
        *,
        control: str | Path | None = None,
        nan: str = "zero",
        negative: str = "error",
    ) -> None:
        self.tracks = [BigWigTrack(p, sizes, names, nan=nan, negative=negative) for p in paths]
        self.control = BigWigTrack(control, sizes, names, nan="zero", negative="clip") if control else None
        ctrl = self.control.total if self.control is not None else 0.0
        self.scales = [t.total / ctrl if ctrl else 1.0 for t in self.tracks]

    def read(self, chrom: str, start: int, end: int) -> np.ndarray:
        """(tasks, end - start) float32 values."""
        out = np.stack([t.values(chrom, start, end) for t in self.tracks])
        if self.control is not None:
            ctrl = self.control.values(chrom, start, end)
            out = np.maximum(out - np.asarray(self.scales, np.float32)[:, None] * ctrl[None, :], 0.0)
        return out

    def windows(self, chrom: str, starts: np.ndarray, width: int, max_span: int = 1 << 20) -> np.ndarray:
        """(n, tasks, width) values of windows at sorted ``starts``, one read per span."""
        n = len(starts)
        out = np.empty((n, len(self.tracks), width), np.float32)
        for i, j in read_spans(starts, width, max_span):
            lo = int(starts[i])
            span = self.read(chrom, lo, int(starts[j - 1]) + width)
            view = np.lib.stride_tricks.sliding_window_view(span, width, axis=1)  # (T, S, width)
            out[i:j] = view[:, starts[i:j] - lo].transpose(1, 0, 2)
        return out

    def close(self) -> None:
        for t in self.tracks:
            t.close()
        if self.control is not None:
            self.control.close()


def read_spans(starts: np.ndarray, width: int, max_span: int, max_gap: int = 8192) -> list[tuple[int, int]]:
    """Groups [i, j) of sorted window starts read as one span: at most ``max_span`` bp,
    broken where windows are more than ``max_gap`` apart."""
    out, i, n = [], 0, len(starts)
    while i < n:
        j = max(i + 1, int(np.searchsorted(starts, starts[i] + max_span - width, side="right")))
        gaps = np.flatnonzero(np.diff(starts[i:j]) > max_gap)
        if len(gaps):
            j = i + int(gaps[0]) + 1
        out.append((i, j))
        i = j
    return out


def bin_values(values: np.ndarray, bin_size: int, stat: str = "sum") -> np.ndarray:
    """(..., L) -> (..., L // bin_size): sum or mean per bin; NaN (missing) propagates.

    ``bin_size`` 1 keeps per-base values. L must be a multiple of ``bin_size``.
    """
    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    length = values.shape[-1]
    if length % bin_size:
        raise ValueError(f"length {length} is not a multiple of the bin size {bin_size}")
    if bin_size == 1:
        return values
    shaped = values.reshape(*values.shape[:-1], length // bin_size, bin_size)
    return shaped.sum(-1) if stat == "sum" else shaped.mean(-1)
