"""Snakemake entry of rule score_scan: Spearman of predicted vs measured effects per scan."""

from _entry import run_step  # first: this checkout on sys.path
from pathlib import Path

from genomicdl.mutation.train import score_scans, split_params

w = snakemake.wildcards
run_step(
    snakemake,
    lambda: score_scans(
        alignment=snakemake.input.alignment, model_path=snakemake.input.model, scans=snakemake.params.scans,
        scan_files=dict(zip(snakemake.params.scans, snakemake.input.scans, strict=True)),
        out_dir=Path(snakemake.output.metrics).parent,
        run={"dataset": w.dataset, "model": w.model, "balance": w.balance, "seed": w.seed},
        samples=split_params(w.model, snakemake.params.params)[1]["samples"], bootstrap=snakemake.params.bootstrap,
        device=snakemake.params.device,
    ),
)
