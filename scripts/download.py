"""Snakemake entry of rule download: fetch one input, verify its checksum."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.io.download import fetch

source = snakemake.params.source
run_step(snakemake, lambda: fetch(source["url"], snakemake.output[0], source["sha256"]))
