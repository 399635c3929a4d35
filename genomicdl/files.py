"""File helpers: atomic outputs, checksums and compression sniffing."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

GZIP_MAGIC = b"\x1f\x8b"


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A killed or failing writer leaves nothing that looks finished.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def sha256sum(path: str | Path, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_gzip(path: str | Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def is_bgzf(path: str | Path) -> bool:
    """True when the file is blocked gzip (BGZF), which samtools/pysam can index."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    # gzip magic, FEXTRA flag, and the 'BC' extra subfield of BGZF
    return len(head) >= 18 and head[:2] == GZIP_MAGIC and head[3] & 4 and head[12:14] == b"BC"


def open_text(path: str | Path) -> IO[str]:
    """Open a plain or gzip-compressed text file for reading (decided by content)."""
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def gzip_intact(path: str | Path, block: int = 1 << 20) -> bool:
    """Read a gzip file to its end; False when it is truncated or corrupt."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(block):
                pass
    except (EOFError, OSError, gzip.BadGzipFile):
        return False
    return True
