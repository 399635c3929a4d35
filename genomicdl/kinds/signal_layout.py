"""The layout of signal targets, and the BPNet loss's maths (the loss itself, in PyTorch,
is :func:`genomicdl.training.losses.bpnet_loss`).

A signal dataset stores its labels as regression labels of shape (n, tracks * bins),
track-major: column ``t * bins + b`` is bin ``b`` of track ``t``. Task names say it:
``<track>:<bin>`` when there are several bins, the track name alone with one bin. A
stranded pair of tracks is named ``<stem>.fwd`` and ``<stem>.rev`` (or .plus/.minus); reverse-complementing a
window reverses the bins and swaps the pair (``rc_columns``).

The BPNet loss (Avsec et al. 2021) reads a network output of the same shape as the
labels: per-bin log expected counts ``o``. With ``lse = logsumexp(o)`` over a track's
bins, the profile is ``softmax(o)`` and the total ``exp(lse)``, so

    loss = multinomial NLL(y | softmax(o)) + lambda * (lse - log(1 + sum(y)))^2

and ``exp(o)`` are the predicted counts on the labels' scale (as for the Poisson loss).
``lambda`` follows the paper: half the mean total count per window and track (taken
per batch, detached), unless the target names one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_BIN = re.compile(r"^(.*):(\d+)$")


def profile_tasks(tracks: Sequence[str], bins: int) -> list[str]:
    """Task names of ``tracks`` x ``bins`` label columns, track-major."""
    if bins == 1:
        return list(tracks)
    return [f"{t}:{b}" for t in tracks for b in range(bins)]


def layout(tasks: Sequence[str]) -> tuple[list[str], int]:
    """(tracks, bins) of a signal target's task names (one bin when no ``:bin`` suffix)."""
    parsed = [_BIN.match(t) for t in tasks]
    if not tasks or not all(parsed):
        return list(tasks), 1
    tracks: list[str] = []
    for m in parsed:
        if m.group(1) not in tracks:
            tracks.append(m.group(1))
    bins = len(tasks) // len(tracks)
    if profile_tasks(tracks, bins) != list(tasks):
        return list(tasks), 1
    return tracks, bins


STRAND_SUFFIXES = (("+", "-"), (".plus", ".minus"), (".fwd", ".rev"))


def strand_partner(tracks: Sequence[str]) -> list[int]:
    """Index of each track's reverse-strand partner (``x.fwd`` <-> ``x.rev``, ``x.plus``
    <-> ``x.minus``, ``x+`` <-> ``x-``); itself for an unstranded track."""
    index = {t: i for i, t in enumerate(tracks)}
    out = []
    for i, t in enumerate(tracks):
        other = None
        for a, b in STRAND_SUFFIXES:
            if t.endswith(a):
                other = t[: -len(a)] + b
            elif t.endswith(b):
                other = t[: -len(b)] + a
        out.append(index.get(other, i) if other else i)
    return out


def rc_columns(tasks: Sequence[str]) -> np.ndarray | None:
    """Column permutation of labels/outputs under reverse complement (None: identity)."""
    tracks, bins = layout(tasks)
    partner = strand_partner(tracks)
    if bins == 1 and partner == list(range(len(tracks))):
        return None
    cols = np.arange(len(tracks) * bins).reshape(len(tracks), bins)
    return cols[partner][:, ::-1].reshape(-1).copy()
