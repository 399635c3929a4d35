"""Input features of protein models: one-hot residues, BLOSUM62 rows, or both.

The networks of the zoo take one-hot (batch, 20, L) input. A protein model may map it
to other per-residue features first; this module is the one place that does, so that
new encodings plug in here. BLOSUM62 (Henikoff & Henikoff 1992, PNAS 89:10915; the
matrix as Biopython ships it) is DeepLoc's "BLOSUM" input (Almagro Armenteros et al.
2017). Pretrained protein language-model embeddings (ProtT5, ESM) would be another
entry of :data:`FEATURES`, computed from the sequences before training; they cannot be
fetched on an offline machine, so none is registered here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from genomicdl.core.sequence import get

#: Feature sets a protein model accepts (``features`` parameter).
FEATURES = ("onehot", "blosum62", "onehot+blosum62")


def blosum62() -> np.ndarray:
    """(20, 20) BLOSUM62 scores in the protein alphabet's order, divided by 4 (so that
    the features sit in about [-1, 3], on the one-hot's scale)."""
    from Bio.Align import substitution_matrices

    matrix = substitution_matrices.load("BLOSUM62")
    letters = get("protein").letters
    return np.array([[matrix[a][b] for b in letters] for a in letters], dtype=np.float32) / 4.0


class ResidueFeatures(nn.Module):
    """One-hot (batch, 20, L) -> features (batch, channels, L); padding (all-zero
    columns) and unknown residues stay all-zero, as in the one-hot."""

    def __init__(self, features: str = "onehot", in_channels: int = 20) -> None:
        super().__init__()
        if features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
        if features != "onehot" and in_channels != 20:
            raise ValueError(f"{features} features need the protein alphabet (20 channels), got {in_channels}")
        self.features = features
        if features != "onehot":  # one-hot needs no matrix (nor Biopython: DNA networks use this too)
            self.register_buffer("blosum", torch.from_numpy(blosum62()), persistent=False)
        self.channels = {"onehot": in_channels, "blosum62": 20, "onehot+blosum62": in_channels + 20}[features]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.features == "onehot":
            return x
        scores = torch.einsum("ij,bjl->bil", self.blosum.to(x.dtype), x)
        return scores if self.features == "blosum62" else torch.cat([x, scores], dim=1)
