"""Integrity where data is used: downloaded inputs re-verified before a stage reads them.

At download, a sidecar ``<file>.integrity.json`` records the file's size, mtime and
SHA-256. ``verify_input`` compares size + mtime (cheap); only when they differ is the file
hashed again, and a different hash is an error that names the file and how to refetch it.
The sidecar guards against accidental edits and damage, not against someone who edits
both files.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from genomicdl.core.errors import InputError
from genomicdl.core.files import sha256sum, write_json_atomic

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".integrity.json"


def sidecar_path(path: str | Path) -> Path:
    """Where the integrity record of ``path`` lives (next to it)."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def record_integrity(
    path: str | Path, *, sha256: str, url: str | None = None, stat_of: str | Path | None = None
) -> None:
    """Write the integrity record of ``path`` (size and mtime taken from ``stat_of``, the
    finished temporary about to be renamed onto ``path``, when given)."""
    st = os.stat(stat_of or path)
    record = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256.lower(), "url": url}
    write_json_atomic(sidecar_path(path), record)


def _read_record(path: Path) -> dict[str, Any] | None:
    side = sidecar_path(path)
    try:
        record = json.loads(side.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.warning("%s: unreadable integrity record (%s); recording the file as it is now", side, err)
        return None
    if not isinstance(record, dict) or not {"size", "mtime_ns", "sha256"} <= set(record):
        log.warning("%s: incomplete integrity record; recording the file as it is now", side)
        return None
    return record


def _unchanged(record: dict[str, Any] | None, st: os.stat_result) -> bool:
    return record is not None and record["size"] == st.st_size and record["mtime_ns"] == st.st_mtime_ns


def _refetch_hint(path: Path) -> str:
    return f"delete it and rerun to fetch it again (rm {path}; then rerun snakemake)"


def verify_input(path: str | Path, *, sha256: str | None = None) -> None:
    """Check that a downloaded input is the file that was downloaded.

    Cheap when size and mtime match the record; otherwise the file is hashed again and
    a different hash (or one that differs from a pinned ``sha256``) is an InputError.
    A file without a record (fetched by an older version) is recorded now.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(path, f"missing ({_refetch_hint(path)})") from None
    record = _read_record(path)
    if _unchanged(record, st) and (sha256 is None or record["sha256"] == sha256.lower()):
        return
    digest = sha256sum(path)
    expected = (sha256 or (record or {}).get("sha256") or digest).lower()
    if digest != expected:
        was = f"{record['size']:,} bytes at download, " if record else ""
        raise InputError(
            path,
            f"changed since it was downloaded ({was}{st.st_size:,} bytes now; sha256 {digest}, "
            f"expected {expected}): {_refetch_hint(path)}",
        )
    url = (record or {}).get("url")
    if record is None:
        log.info("%s: no integrity record (fetched before records were kept): recorded now", path)
    else:
        log.info("%s: touched since download but unchanged (sha256 verified)", path)
    record_integrity(path, sha256=digest, url=url)


def verify_inputs(paths: Iterator[str | Path] | list[str | Path]) -> None:
    """verify_input for each path."""
    for path in paths:
        verify_input(path)


# ---------------------------------------------------------------- FASTA headers

