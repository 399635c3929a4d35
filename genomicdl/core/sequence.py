"""Sequence encoding: alphabets, integer codes, one-hot, reverse complement, decoding.

The only home of sequence encoding. Three alphabets:

- ``dna``: A C G T = 0..3, N (and every IUPAC ambiguity) = 4; U reads as T.
- ``rna``: A C G U = 0..3 (the same codes as DNA, so models transfer), N = 4; T reads as U.
- ``protein``: the 20 standard amino acids A C D E F G H I K L M N P Q R S T V W Y = 0..19
  and X (unknown) = 20. Non-standard letters map as biochemistry suggests and are
  counted: U (selenocysteine) -> C, O (pyrrolysine) -> K, B (D or N), Z (E or Q),
  J (I or L) and X -> X.

Unknown codes and padding (``PAD`` = 255, for variable-length batches) one-hot to all
zeros. Reverse complement exists only for alphabets with a complement (not protein).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

PAD = 255


class AlphabetError(ValueError):
    """A letter outside an alphabet, or an operation the alphabet does not have."""


@dataclass(frozen=True)
class Alphabet:
    """Letters in code order, the code of the unknown symbol, letters read as others
    (``aliases``; counted when ``counted``), and the complement letters (or None)."""

    name: str
    letters: str
    unknown_letter: str
    aliases: dict[str, str] = field(default_factory=dict)
    counted: frozenset[str] = frozenset()
    complement: str | None = None

    @property
    def channels(self) -> int:
        """One-hot channels: one per letter (the unknown symbol is all zeros)."""
        return len(self.letters)

    @property
    def unknown(self) -> int:
        return len(self.letters)

    @property
    def has_complement(self) -> bool:
        return self.complement is not None

    def lut(self) -> np.ndarray:
        """Byte -> code table; 255 marks a byte outside the alphabet."""
        return _LUTS[self.name]


_IUPAC = "RYSWKMBDHVN"
ALPHABETS: dict[str, Alphabet] = {
    "dna": Alphabet("dna", "ACGT", "N", {"U": "T", **{c: "N" for c in _IUPAC}}, complement="TGCA"),
    "rna": Alphabet("rna", "ACGU", "N", {"T": "U", **{c: "N" for c in _IUPAC}}, complement="UGCA"),
    "protein": Alphabet(
        "protein",
        "ACDEFGHIKLMNPQRSTVWY",
        "X",
        {"U": "C", "O": "K", "B": "X", "Z": "X", "J": "X"},
        counted=frozenset("UOBZJX"),
    ),
}
_INVALID = 254


def _make_lut(alphabet: Alphabet) -> np.ndarray:
    lut = np.full(256, _INVALID, dtype=np.uint8)
    codes = {c: i for i, c in enumerate(alphabet.letters)}
    codes[alphabet.unknown_letter] = alphabet.unknown
    for letter, target in alphabet.aliases.items():
        codes[letter] = codes[target]
    for letter, code in codes.items():
        lut[ord(letter)] = lut[ord(letter.lower())] = code
    return lut


_LUTS = {name: _make_lut(a) for name, a in ALPHABETS.items()}
_LENIENT = {
    name: np.where(_LUTS[name] == _INVALID, a.unknown, _LUTS[name]).astype(np.uint8) for name, a in ALPHABETS.items()
}


def lenient_table(alphabet: str | Alphabet) -> np.ndarray:
    """Byte -> code table where every byte outside the alphabet is the unknown code."""
    return _LENIENT[get(alphabet).name]


def get(name: str | Alphabet) -> Alphabet:
    """The alphabet called ``name`` (dna, rna, protein)."""
    if isinstance(name, Alphabet):
        return name
    if name not in ALPHABETS:
        raise AlphabetError(f"unknown alphabet {name!r}; choose from {', '.join(ALPHABETS)}")
    return ALPHABETS[name]


def _raw(seq: str | bytes) -> np.ndarray:
    data = seq.encode("latin-1", "replace") if isinstance(seq, str) else seq
    return np.frombuffer(data, dtype=np.uint8)


def encode(seq: str | bytes, alphabet: str | Alphabet = "dna", strict: bool = True) -> np.ndarray:
    """Integer codes (uint8) of a sequence, case-insensitive.

    strict: a letter outside the alphabet raises AlphabetError naming the letter and its
    1-based position; otherwise it becomes the unknown code.
    """
    a = get(alphabet)
    raw = _raw(seq)
    if not strict:
        return _LENIENT[a.name][raw]
    codes = _LUTS[a.name][raw]
    bad = np.flatnonzero(codes == _INVALID)
    if len(bad):
        letter = chr(int(raw[bad[0]]))
        raise AlphabetError(
            f"letter {letter!r} at position {bad[0] + 1} is not in the {a.name} alphabet "
            f"(allowed: {a.letters}, {a.unknown_letter} for unknown, {''.join(sorted(a.aliases))} read as others)"
        )
    return codes


def nonstandard(seq: str, alphabet: str | Alphabet) -> Counter[str]:
    """Counts of the letters of ``seq`` that the alphabet maps to others (e.g. B Z U O X)."""
    a = get(alphabet)
    if not a.counted:
        return Counter()
    upper = seq.upper()
    return Counter({c: upper.count(c) for c in a.counted if c in upper})


def decode(codes: np.ndarray, alphabet: str | Alphabet = "dna") -> str:
    """Letters of a 1-D code array (padding dropped)."""
    a = get(alphabet)
    table = np.frombuffer((a.letters + a.unknown_letter).encode(), dtype=np.uint8)
    codes = np.asarray(codes)
    return table[codes[codes != PAD]].tobytes().decode()


def centred_in_window(codes: np.ndarray, window: int, unknown: int = 4) -> np.ndarray:
    """Codes centred in ``window``: cropped in the middle or padded with the unknown code."""
    if len(codes) >= window:
        lo = (len(codes) - window) // 2
        return codes[lo : lo + window]
    out = np.full(window, unknown, np.uint8)
    lo = (window - len(codes)) // 2
    out[lo : lo + len(codes)] = codes
    return out


def one_hot(codes: np.ndarray, alphabet: str | Alphabet = "dna") -> np.ndarray:
    """(n, L) codes -> (n, channels, L) float32; unknown and padding are all zeros."""
    a = get(alphabet)
    eye = np.zeros((256, a.channels), dtype=np.float32)
    eye[np.arange(a.channels), np.arange(a.channels)] = 1
    return np.ascontiguousarray(eye[np.asarray(codes)].transpose(0, 2, 1))


def complement_table(alphabet: str | Alphabet) -> np.ndarray:
    """Code -> complementary code (unknown and padding map to themselves)."""
    a = get(alphabet)
    if a.complement is None:
        raise AlphabetError(f"the {a.name} alphabet has no complement: reverse complement is undefined")
    table = np.arange(256, dtype=np.uint8)
    for i in range(a.channels):
        table[i] = a.letters.index(a.complement[i])
    return table


def reverse_complement(
    codes: np.ndarray, alphabet: str | Alphabet = "dna", lengths: np.ndarray | None = None
) -> np.ndarray:
    """Reverse complement along the last axis; with ``lengths``, each row's first
    ``length`` codes are reversed and its padding stays at the end."""
    table = complement_table(alphabet)
    codes = np.asarray(codes)
    if lengths is None:
        return table[codes[..., ::-1]]
    out = codes.copy()
    for i, n in enumerate(np.asarray(lengths).tolist()):
        out[i, :n] = table[codes[i, :n][::-1]]
    return out
