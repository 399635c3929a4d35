"""The files a dataset needs: each role's source (URL or path, optional SHA-256) and the
name of its local copy under resources/<dataset>/. Standard library only."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

SPLIT_NAMES = ("train", "valid", "test")


@dataclass(frozen=True)
class Source:
    """A file to download: its URL (or path) and optional SHA-256."""

    url: str
    sha256: str | None = None


def file_suffix(url: str) -> str:
    """The file-type suffix of a URL or path, e.g. '.fa.gz' or '.bed'."""
    name = PurePosixPath(urlparse(url).path if "://" in url else url).name
    suffixes = [s for s in PurePosixPath(name).suffixes if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", s)]
    if suffixes and suffixes[-1].lower() in (".gz", ".bgz", ".bz2", ".zst") and len(suffixes) > 1:
        return "".join(suffixes[-2:])
    return suffixes[-1] if suffixes else ""


def iter_sources(ds: Mapping[str, Any]) -> Iterator[tuple[str, Source]]:
    """Yield (role, source) for every file a dataset needs.

    Roles: genome, blacklist, target.<task>, alignment, scan.<name>, table, table.<split>.
    """
    if "genome" in ds:
        yield "genome", Source(ds["genome"]["url"], ds["genome"].get("sha256"))
    for task, src in ds.get("targets", {}).items():
        yield f"target.{task}", Source(src["url"], src.get("sha256"))
    if ds.get("blacklist"):
        yield "blacklist", Source(ds["blacklist"]["url"], ds["blacklist"].get("sha256"))
    for part in ("regions", "control"):  # signal datasets: a BED of regions, a control bigWig
        src = (ds.get("signal") or {}).get(part)
        if src:
            yield f"signal.{part}", Source(src["url"], src.get("sha256"))
    if ds.get("alignment"):
        yield "alignment", Source(ds["alignment"]["url"], ds["alignment"].get("sha256"))
    for scan, src in ds.get("scans", {}).items():
        yield f"scan.{scan}", Source(src["url"], src.get("sha256"))
    table = ds.get("table")
    if table:
        if table.get("url"):
            yield "table", Source(table["url"], table.get("sha256"))
            yield from _paired_sources("table", table)
        for split in SPLIT_NAMES:
            if split in table:
                yield f"table.{split}", Source(table[split]["url"], table[split].get("sha256"))
                yield from _paired_sources(f"table.{split}", table[split])


def _paired_sources(role: str, part: Mapping[str, Any]) -> Iterator[tuple[str, Source]]:
    """The label and mask FASTA files paired with a table file (FLIP's layout)."""
    for key in ("labels", "mask"):
        if part.get(key):
            yield f"{role}.{key}", Source(part[key]["url"], part[key].get("sha256"))


def resource_files(ds: Mapping[str, Any]) -> dict[str, tuple[str, Source]]:
    """Map each role to (file name under resources/<dataset>/, source)."""
    return {role: (role + file_suffix(src.url), src) for role, src in iter_sources(ds)}
