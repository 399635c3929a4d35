"""Snakemake entry of rule train_network: train one neural network."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.training.engine import train_network
from genomicdl.training.ddp_launch import launch, ranks

run_step(
    snakemake,
    lambda: (launch if ranks(snakemake.params.train) > 1 else train_network)(
        store=snakemake.input.store,
        index=snakemake.input.index,
        model=snakemake.wildcards.model,
        params=snakemake.params.params,
        train=snakemake.params.train,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
        double_stranded=snakemake.params.double_stranded,
        out_model=snakemake.output.model,
        out_history=snakemake.output.history,
        out_stats=snakemake.output.stats,
        init_from=snakemake.params.get("init_from"),
    ),
)
