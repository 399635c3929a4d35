"""The alphabets of :mod:`genomicdl.core.sequence` on a PyTorch device: codes travel to the
device as bytes and become one-hot (or their reverse complement) there. Kept apart from
:mod:`genomicdl.core.sequence` so that data-stage code never imports PyTorch."""

from __future__ import annotations

import numpy as np
import torch

from genomicdl.core.sequence import Alphabet, AlphabetError, complement_table, get


class DeviceEncoder:
    """Codes -> one-hot tensors on a device (PyTorch). Codes travel as bytes (4-20x less
    to copy than one-hot floats) and are expanded where the model runs; unknown and
    padding codes become all-zero columns."""

    def __init__(self, device: object, alphabet: str | Alphabet = "dna") -> None:
        self.device = torch.device(device) if isinstance(device, str) else device
        self.alphabet = get(alphabet)
        self.letters = torch.arange(self.alphabet.channels, dtype=torch.uint8, device=self.device).view(1, -1, 1)
        self.pin = self.device.type == "cuda"
        self._complement = (
            torch.from_numpy(complement_table(self.alphabet)).to(self.device) if self.alphabet.has_complement else None
        )

    def codes(self, codes: object):
        """Codes (n, L) as a uint8 tensor on the device."""
        t = torch.as_tensor(np.ascontiguousarray(codes)) if isinstance(codes, np.ndarray) else codes
        if self.pin and not t.is_pinned():
            t = t.pin_memory()
        return t.to(self.device, dtype=torch.uint8, non_blocking=True)

    def one_hot(self, codes):
        """(n, L) codes -> (n, channels, L) float32 one-hot."""
        return (codes.to(torch.uint8).unsqueeze(1) == self.letters).float()

    def reverse_complement(self, codes, lengths=None):
        """Reverse complement of (n, L) codes (unknown stays unknown); with ``lengths``
        each row's first ``length`` codes are reversed and its padding stays at the end."""
        if self._complement is None:
            raise AlphabetError(f"the {self.alphabet.name} alphabet has no complement")
        if lengths is None:
            return self._complement[codes.flip(1).long()]
        return self._complement[codes.gather(1, reversal_index(lengths, codes.shape[1])).long()]


def reversal_index(lengths, width: int):
    """(n, width) gather index that reverses each row's first ``length`` positions and
    leaves its padding in place (PyTorch)."""
    at = torch.arange(width, device=lengths.device).expand(len(lengths), width)
    n = lengths.to(at.device).view(-1, 1)
    return torch.where(at < n, n - 1 - at, at)
