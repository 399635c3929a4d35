"""Attention of DeepLoc-style models along a few test proteins (where the network looks:
sorting signals sit at the termini -- signal peptides, transit peptides, ER/peroxisome
retention signals -- or inside, e.g. nuclear localisation signals)."""

from __future__ import annotations

import gzip

import numpy as np
import torch

from genomicdl.core.files import atomic_output
from genomicdl.core.sequence import decode, one_hot
from genomicdl.io.store import Store
from genomicdl.training.inference import load_network


def pick_proteins(store: Store, n: int) -> np.ndarray:
    """Up to ``n`` test proteins, one per class (or per first label) in class order."""
    rows = store.rows("test")
    if len(rows) == 0:
        rows = store.rows("valid")
    labels = store.labels[rows]
    first = labels if labels.ndim == 1 else labels.argmax(axis=1)
    chosen = [rows[np.flatnonzero(first == c)[0]] for c in np.unique(first)][:n]
    return np.sort(np.array(chosen, dtype=np.int64))


def attention_weights(model: torch.nn.Module, store: Store, rows: np.ndarray) -> list[np.ndarray]:
    """Each protein's attention weights over its residues (a model with ``attention``)."""
    if not hasattr(model, "attention"):
        raise ValueError(f"{type(model).__name__} has no attention weights (use the deeploc model)")
    out = []
    for row in rows:
        n = int(store.lengths[row])
        codes = next(store.batches(np.array([row]), 1))[1][:, :n]
        x = torch.from_numpy(one_hot(codes, store.alphabet))
        out.append(model.attention(x, torch.tensor([n]))[0, :n].cpu().numpy())
    return out


def attention_run(store_path: str, model_path: str, out_png: str, out_tsv: str, n: int = 4) -> None:
    """Plot (PNG) and table (TSV.gz: id, position, residue, weight) of the attention of
    the network at ``model_path`` along ``n`` test proteins of different classes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, saved = load_network(model_path)
    with Store(store_path) as store:
        rows = pick_proteins(store, n)
        weights = attention_weights(model, store, rows)
        ids = store.ids(rows)
        classes = store.classes or store.tasks
        labels = store.labels[rows]
        seqs = [decode(next(store.batches(np.array([r]), 1))[1][0, : int(store.lengths[r])], store.alphabet)
                for r in rows]  # fmt: skip
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 1.8 * len(rows)), squeeze=False)
    for ax, pid, w, y in zip(axes[:, 0], ids, weights, labels):
        names = classes[int(y)] if np.ndim(y) == 0 else ", ".join(c for c, v in zip(classes, y) if v)
        ax.fill_between(np.arange(1, len(w) + 1), w, step="mid", color="tab:blue")
        ax.set_xlim(1, len(w))
        ax.set_ylabel("attention")
        ax.set_title(f"{pid} ({names}), {len(w)} residues", fontsize=9)
    axes[-1, 0].set_xlabel("residue (cropped proteins: N-terminal half, then C-terminal half)")
    fig.suptitle(f"{saved['model']}: attention along test proteins", fontsize=10)
    fig.tight_layout()
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    with atomic_output(out_tsv) as tmp, gzip.open(tmp, "wt") as fh:
        fh.write("id\tposition\tresidue\tweight\n")
        for pid, seq, w in zip(ids, seqs, weights):
            fh.writelines(f"{pid}\t{i + 1}\t{seq[i]}\t{w[i]:.5g}\n" for i in range(len(w)))
