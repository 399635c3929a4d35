"""Every path template of the workflow's files, in one place: the rules and the Python
code both read them.

Templates are ``str.format`` patterns over the wildcards, in the project's order:
``{dataset}``, ``{model}``, ``{balance}``, ``{seed}`` (and a few of their own); Snakemake
reads the same strings as wildcard patterns. :func:`fill` gives one concrete path.
"""

from __future__ import annotations

#: One trained run, below data/, models/ and results/.
RUN = "{dataset}/{model}/{balance}/{seed}"

# ---- data/: what a dataset becomes before any model
DATA = "data/{dataset}"
GENOME = DATA + "/genome.fa.gz"  # + .fai, .gzi, .codes beside it
STORE = DATA + "/dataset.h5"
SUMMARY = DATA + "/summary.json"
GC = DATA + "/gc.tsv"
ALIGNMENT = DATA + "/alignment.h5"
ALIGNMENT_SUMMARY = DATA + "/alignment_summary.json"
REBALANCE = DATA + "/rebalance/{balance}/{seed}"
INDEX = REBALANCE + "/index.npz"
COUNTS = REBALANCE + "/counts.tsv"

# ---- models/: what training writes
MODEL_DIR = "models/" + RUN
MODEL = MODEL_DIR + "/model.pt"  # networks and mutation models
BASELINE_MODEL = MODEL_DIR + "/model.npz"  # classical baselines (no pickle)
HISTORY = MODEL_DIR + "/history.csv"
TRAIN_STATS = MODEL_DIR + "/train_stats.json"

# ---- results/: evaluation, benchmark, plots, stages over a run
RUN_DIR = "results/" + RUN
PREDICTIONS = RUN_DIR + "/predictions.tsv.gz"
METRICS = RUN_DIR + "/metrics.tsv"
ARRAYS = RUN_DIR + "/arrays.npz"
INTERPRET_DIR = RUN_DIR + "/interpret"
VARIANTS_DIR = RUN_DIR + "/variants"
PREDICT_DIR = RUN_DIR + "/predict"
#: mutation effects: the seeds' ensemble of one model, and rho per scan and model (+ .tsv, .md)
ENSEMBLE_RUN_DIR = "results/{dataset}/{model}_ensemble/{balance}/ensemble"
SCAN_TABLE = "results/{dataset}/scan_table_{balance}"
TUNE_DIR = "results/tune/{dataset}/{model}"
TUNE_BEST = TUNE_DIR + "/best.yaml"
PLOTS = "results/plots/{dataset}"  # + /<plot>.png, .svg

# ---- results/: the benchmark over every run
BENCHMARK_TABLE = "results/benchmark.tsv"
METRICS_TABLE = "results/metrics.tsv"
SUMMARY_TABLE = "results/summary.tsv"
COMPARISONS_TABLE = "results/comparisons.tsv"
TASK_COMPARISONS_TABLE = "results/comparisons_tasks.tsv"  # the same per task
PUBLISHED_TABLE = "results/published.tsv"
BENCHMARK_MARKDOWN = "results/benchmark.md"
EXPORT_DIR = "export/" + RUN

def fill(template: str, **wildcards: object) -> str:
    """One concrete path of ``template`` (every wildcard given)."""
    return template.format(**wildcards)


def run_path(template: str, run: tuple[str, str, str, object]) -> str:
    """``template`` filled for one (dataset, model, balance, seed) run."""
    dataset, model, balance, seed = run
    return template.format(dataset=dataset, model=model, balance=balance, seed=seed)
