"""Parsing raw label strings for a target kind, with errors that name file, line and
problem. One parser per dataset; it also collects class names when the config does not
list them (the first pass of the table stage)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genomicdl.core.errors import InputError
from genomicdl.core.runner import CONSOLE
from genomicdl.io.tables import printable
from genomicdl.kinds import get

log = logging.getLogger(__name__)

_TRUE = ("1", "1.0", "true")
_FALSE = ("0", "0.0", "false")
_WORDS = {"yes": 1, "no": 0}
_MISSING = ("", "na", "nan", "n/a", "none", "null")


class LabelParser:
    """Raw strings -> labels of one row in the store's shape for ``kind``.

    binary: one 0/1 per label column (true/false accepted; yes/no accepted and counted).
    multiclass: one class name (after ``class_map``). multilabel: names joined by
    ``separator`` in one column, or one 0/1 column per class. per_position: one class
    letter per residue (or tokens split by ``position_separator``), masked by an optional
    0/1 mask string. regression: numbers, NA/empty = missing (NaN).
    """

    def __init__(
        self,
        kind: str,
        *,
        columns: Sequence[str],
        classes: Sequence[str] | None = None,
        class_map: Mapping[str, str] | None = None,
        separator: str = "|",
        position_separator: str | None = None,
        multiple: str = "error",
    ) -> None:
        self.kind, self.columns = kind, list(columns)
        self.k = get(kind)  # its label layout keys the parsing
        self.multiple = multiple  # multiclass rows naming several classes: error or drop
        self.classes = list(classes) if classes else None
        self.class_map = dict(class_map or {})
        self.separator, self.position_separator = separator, position_separator
        self.file_separator: str | None = None  # the file being read, when it has its own
        self.seen: Counter[str] = Counter()
        self.words: Counter[tuple[str, str]] = Counter()  # (file, column) -> labels written yes/no
        self._last_word: dict[tuple[str, str], int] = {}  # last line counted (files are read more than once)

    # ----------------------------------------------------------- class discovery
    def skip(self, raw: list[str]) -> bool:
        """Whether a multiclass row names several classes (joined by the separator) and
        such rows are dropped (``multiple: drop``); under ``error`` parsing fails on it."""
        return self.k.labels == "class" and self.multiple == "drop" and self.separator in raw[0]

    def names(self, raw: list[str], path: str | Path, line: int) -> list[str]:
        """Class names a row mentions (after class_map)."""
        if self.k.labels == "class":
            return [] if self.skip(raw) else [self._map(raw[0].strip())]
        if self._class_set(raw):
            return [self._map(x.strip()) for x in raw[0].split(self.separator) if x.strip()]
        if self.k.labels == "positions":
            return [self._map(x) for x in self._tokens(raw[0], self.file_separator)]
        return []

    def observe(self, raw: list[str], path: str | Path, line: int) -> None:
        self.seen.update(self.names(raw, path, line))

    def finish_classes(self) -> list[str]:
        """The class list: the configured one, else every name seen, sorted."""
        if self.classes is None:
            if self.k.labels == "flags" and self.k.has_classes and len(self.columns) > 1:
                self.classes = list(self.columns)
            else:
                self.classes = sorted(self.seen)
            if self.k.has_classes:
                log.info("classes (from the data, sorted): %s", ", ".join(self.classes))
        self._index = {c: i for i, c in enumerate(self.classes)}
        return self.classes

    def _class_set(self, raw: list[str]) -> bool:
        """Whether a row's classes are names in one column (multilabel), not 0/1 columns."""
        return self.k.labels == "flags" and self.k.has_classes and len(raw) == 1

    def _map(self, name: str) -> str:
        return self.class_map.get(name, name)

    def _tokens(self, text: str, separator: str | None = None) -> list[str]:
        """Per-residue tokens (a whitespace separator also takes runs of whitespace)."""
        sep = separator if separator is not None else self.position_separator
        text = text.strip()
        if not sep:
            return list(text)
        return text.split() if not sep.strip() else text.split(sep)

    def _class(self, name: str, path: str | Path, line: int) -> int:
        if name not in self._index:
            raise InputError(
                path, f"class {printable(name)!r} is not in the class list {self.classes} (config key classes)", line
            )
        return self._index[name]

    # ----------------------------------------------------------- parsing
    def parse(
        self,
        raw: list[str],
        path: str | Path,
        line: int,
        *,
        length: int,
        mask: str | None = None,
        position_separator: str | None = None,
    ) -> Any:
        """Labels of one row (``length``: the sequence length, for per-position labels;
        ``position_separator``: this file's, when it differs from the table's)."""
        labels = self.k.labels
        if labels == "flags" and not self._class_set(raw):  # one 0/1 column per task or class
            return np.array([self._binary(v, path, line, c) for v, c in zip(raw, self.columns)], dtype=np.uint8)
        if labels == "class":
            if self.separator in raw[0] and self._map(raw[0].strip()) not in self._index:
                raise InputError(path, f"label {printable(raw[0])!r} names several classes but the kind is "
                                 "multiclass (set table.multiple_labels: drop, or kind: multilabel)", line)  # fmt: skip
            return self._class(self._map(raw[0].strip()), path, line)
        if labels == "flags":  # class names joined by the separator
            out = np.zeros(len(self.classes), dtype=np.uint8)
            for name in self.names(raw, path, line):
                out[self._class(name, path, line)] = 1
            return out
        if labels == "positions":
            return self._positions(raw[0], path, line, length, mask, position_separator)
        if labels == "values":
            return np.array([self._number(v, path, line, c) for v, c in zip(raw, self.columns)], dtype=np.float32)
        raise ValueError(f"tables cannot hold target kind {self.kind}")

    def _binary(self, value: str, path: str | Path, line: int, column: str) -> int:
        text = value.strip().lower()
        if text in _TRUE:
            return 1
        if text in _FALSE:
            return 0
        if text in _WORDS:
            key = (str(path), column)
            if line > self._last_word.get(key, 0):
                self.words[key] += 1
                self._last_word[key] = line
            return _WORDS[text]
        raise InputError(path, f"label {column!r} must be 0 or 1, got {printable(value)!r}", line)

    def _number(self, value: str, path: str | Path, line: int, column: str) -> float:
        text = value.strip()
        if text.lower() in _MISSING:
            return math.nan
        try:
            number = float(text)
        except ValueError:
            raise InputError(
                path, f"value {column!r} must be a number (or NA), got {printable(value)!r}", line
            ) from None
        if math.isinf(number):
            raise InputError(path, f"value {column!r} is infinite", line)
        return number

    def _positions(
        self, text: str, path: str | Path, line: int, length: int, mask: str | None, separator: str | None = None
    ) -> np.ndarray:
        tokens = self._tokens(text, separator)
        if len(tokens) != length:
            raise InputError(
                path, f"per-position labels have length {len(tokens)} but the sequence has {length} residues", line
            )
        out = np.array([self._class(self._map(t), path, line) for t in tokens], dtype=np.int8)
        if mask is not None:
            flags = self._tokens(mask, separator)
            if len(flags) != length:
                raise InputError(path, f"mask has length {len(flags)} but the sequence has {length} residues", line)
            scored = np.array([f.strip() not in ("0", "0.0", "") for f in flags])
            out[~scored] = -1
        return out

    def report_notices(self) -> None:
        """One notice (log and console) per file and column whose labels were written yes/no."""
        for (path, column), count in self.words.items():
            log.warning(
                "%s: column %r: %d labels written yes/no were read as yes = 1, no = 0; write 0/1 to silence this",
                path, column, count, extra=CONSOLE,
            )  # fmt: skip
