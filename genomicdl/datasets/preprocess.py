"""The preprocess stage: inputs of one dataset -> the on-disk store, a summary and the
GC table, by the source of the dataset's spec (genome windows, genome signal tracks, or
a table).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from genomicdl.config.specs import DatasetSpec, GenomeSpec, SignalSpec, TableSpec
from genomicdl.core.errors import InputError
from genomicdl.core.files import disk_full, disk_full_error, remove_stale_temporaries
from genomicdl.datasets.genome_dataset import build_genome_dataset
from genomicdl.datasets.signal_dataset import build_signal_dataset
from genomicdl.datasets.table_dataset import build_table_dataset

log = logging.getLogger(__name__)


def build_dataset(
    spec: DatasetSpec, files: Mapping[str, str], genome: str | None, out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Build the store of a genome or signal dataset (``genome`` = indexed FASTA) or of a
    table, by the spec's source.

    Errors in an input name the local copy and the URL it was downloaded from. The
    temporaries a killed earlier run left beside the outputs are removed first; a full
    disk is one clear error.
    """
    _remove_stale(out_store, out_summary, out_gc)
    try:
        if isinstance(spec, GenomeSpec):
            if genome is None:
                raise ValueError("a genome dataset needs the prepared genome")
            build = build_signal_dataset if isinstance(spec, SignalSpec) else build_genome_dataset
            return build(spec, files, genome, out_store, out_summary, out_gc)
        if isinstance(spec, TableSpec):
            return build_table_dataset(spec, files, out_store, out_summary, out_gc)
        raise ValueError(f"dataset {spec.name}: the preprocess stage builds genome, signal and table datasets, "
                         f"not {spec.source} ones")  # fmt: skip
    except InputError as err:
        for role, path in files.items():
            url = spec.urls.get(role)
            if str(path) == err.path and url is not None and url != err.path:
                raise InputError(f"{err.path} (from {url})", err.problem, err.line) from None
        raise
    except OSError as err:
        if not disk_full(err):
            raise
        raise disk_full_error(out_store) from err


def _remove_stale(*outputs: str) -> None:
    for out in outputs:
        for path in remove_stale_temporaries(out):
            log.info("removed %s, left by a killed earlier run", path)

