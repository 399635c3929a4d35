"""File helpers: atomic outputs, checksums and compression sniffing."""

from __future__ import annotations

import contextlib
import csv
import errno
import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from genomicdl.core.errors import DiskFullError, InputError

GZIP_MAGIC = b"\x1f\x8b"


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A killed or failing writer leaves nothing that looks finished; the temporaries a
    killed writer of the same path left are removed here (see remove_stale_temporaries).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def disk_full(err: BaseException) -> bool:
    """Whether ``err`` (or an error it was raised from) is ENOSPC, a full device."""
    while err is not None:
        if isinstance(err, OSError) and (err.errno == errno.ENOSPC or "No space left on device" in str(err)):
            return True
        err = err.__cause__ or err.__context__
    return False


def disk_full_error(path: str | Path, then: str = "rerun") -> DiskFullError:
    """One line for a full device: the file being written, the space left, what to do."""
    folder = Path(path).parent
    free = shutil.disk_usage(folder).free if folder.is_dir() else 0
    return DiskFullError(
        f"no space left on the device while writing {path} ({free / 2**20:,.0f} MB free in {folder}); "
        f"free some space (or move the working directory) and {then}"
    )


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


# ---------------------------------------------------------------- stale temporaries

_TEMP_SUFFIX = re.compile(r"(?:tmp(\d+)(?:\..*)?|bed-(\d+)-.*)")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a process of another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_owner(name: str, *, of: str) -> int | None:
    """The pid carried by ``name`` when it is a temporary of the file ``of``
    (``.<of>.tmp<pid>``, ``.<of>.tmp<pid>.<ext>``, ``.<of>.bed-<pid>-<random>``), else None."""
    prefix = f".{of}."
    if not name.startswith(prefix):
        return None
    match = _TEMP_SUFFIX.fullmatch(name[len(prefix) :])
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporaries of ``path`` left by processes that no longer run; return them.

    Only names that carry a pid are touched, and only when that pid is dead on this
    host: a live writer (this process included) keeps its files.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    for entry in path.parent.glob(f".{glob.escape(path.name)}.*"):
        pid = temp_owner(entry.name, of=path.name)
        if pid is None or pid == os.getpid() or pid_alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        removed.append(entry)
    return removed


# ---------------------------------------------------------------- bounded reading

MAX_LINE = 1 << 20  # bytes of one line read before a file is declared not line-based


def printable_prefix(text: str | bytes, *, limit: int = 40) -> str:
    """At most ``limit`` characters of ``text`` for an error message: non-printable
    characters become '?', a cut is marked with '...', and the result is quoted."""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", errors="replace")
    cut = len(text) > limit
    shown = "".join(ch if ch.isprintable() and ch != "\ufffd" else "?" for ch in text[:limit])
    return repr(shown + ("..." if cut else ""))


def read_head(path: str | Path, *, limit: int = 4096) -> bytes:
    """The first ``limit`` bytes of a file, decompressed when it is gzip (never more)."""
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(limit)
    except (EOFError, OSError) as err:
        raise InputError(path, f"cannot read the start of the file ({err})") from err


LINE_HINT = "not a line-based text file, or a record past the limit"


def bounded_lines(fh: IO[str], *, path: str | Path, limit: int = MAX_LINE, hint: str = LINE_HINT) -> Iterator[str]:
    """The lines of a text stream, each read with at most ``limit`` characters in memory;
    a longer line (a binary file, a gzip bomb without newlines) is an InputError naming
    the line instead of a read of gigabytes."""
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            raise InputError(
                path,
                f"line longer than {limit:,} characters (starts {printable_prefix(line)}): {hint}",
                number,
            )
        yield line


def first_line(path: str | Path, *, limit: int = MAX_LINE) -> str:
    """The first non-blank line of a plain or gzip text file, read with a bound."""
    with open_text(path) as fh:
        return next((line for line in bounded_lines(fh, path=path, limit=limit) if line.strip()), "")


def csv_rows(
    fh: IO[str], *, path: str | Path, delimiter: str, max_field: int, max_line: int = MAX_LINE, hint: str = LINE_HINT
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of a CSV/TSV stream: fields up to ``max_field`` characters
    (the csv module's limit raised to it), lines bounded; a longer field is an InputError
    naming the line and the limit."""
    csv.field_size_limit(max_field)  # process-wide: the configured maximum of this table
    lines = bounded_lines(fh, path=path, limit=max(max_line, max_field + 1), hint=hint)
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise InputError(path, f"{err} (the limit is {max_field:,} characters): {hint}", reader.line_num) from None
        yield reader.line_num, row
