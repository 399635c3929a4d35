"""Snakemake entry of rule export: a trained run to ONNX/TorchScript (or its npz) + model card."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.export.convert import export_run

p = snakemake.params
run_step(
    snakemake,
    lambda: export_run(
        model=snakemake.input.model, family=p.family, store=snakemake.input.store, summary=snakemake.input.summary,
        metrics=snakemake.input.metrics, arrays=snakemake.input.arrays, out_dir=snakemake.output[0],
        run=dict(snakemake.wildcards.items()), sources=dict(p.sources), local=dict(p.local),
        published=list(p.published), command=p.command, bootstrap=p.bootstrap, tolerance=p.tolerance,
        windows=p.windows,
    ),
)
