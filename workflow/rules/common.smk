# Configuration (loaded, merged, validated before any job) and path helpers.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

REPO = Path(workflow.current_basedir).parents[
    1
]  # this file is <repo>/workflow/rules/common.smk
sys.path.insert(0, str(REPO))

from genomicdl.config import validation as gconfig  # noqa: E402
from genomicdl.config import plan  # noqa: E402
from genomicdl.config import sources  # noqa: E402
from genomicdl.config.specs import dataset_specs  # noqa: E402
from genomicdl.training.devices import has_gpu  # noqa: E402
from genomicdl.core.errors import ConfigError  # noqa: E402
from genomicdl.models.catalog import CATALOG  # noqa: E402
from genomicdl.core import paths  # noqa: E402
from genomicdl.core.enums import BALANCE_STRATEGIES, alternatives  # noqa: E402

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_CONFIG = REPO / "config" / "config.yaml"


def _load_config(given):
    """--configfile replaces the embedded default; --config alone overrides it."""
    if workflow.config_settings.configfiles:
        raw = dict(given)
    else:
        default = gconfig.resolve_paths(gconfig.load_yaml(DEFAULT_CONFIG), str(REPO))
        raw = gconfig.merge(default, given)
    try:
        return gconfig.validate(raw, gconfig.load_schema(SCHEMA))
    except ConfigError as err:
        raise WorkflowError(f"invalid configuration: {err}") from None


_validated = _load_config(config)
config.clear()
config.update(_validated)
validate(config, str(SCHEMA), set_default=False)  # defaults filled above

DATASETS = config["datasets"]
SPECS = dataset_specs(config)  # typed data settings; their source decides the stages
TORCH_MODELS = [m for m in config["models"] if CATALOG[m].family == "torch"]
BASELINE_MODELS = [m for m in config["models"] if CATALOG[m].family == "sklearn"]
USE_GPU = config["train"]["device"] == "cuda" or (
    config["train"]["device"] == "auto" and has_gpu()
)


wildcard_constraints:
    dataset=r"[A-Za-z0-9_.-]+",
    model="|".join(CATALOG),
    balance=alternatives(BALANCE_STRATEGIES),
    seed=r"\d+",


def resource_files(dataset):
    """role -> (file under resources/<dataset>/, source) for one dataset."""
    return sources.resource_files(DATASETS[dataset])


def resource_paths(dataset):
    """role -> local path of every downloaded input of a dataset."""
    return {
        role: f"resources/{dataset}/{name}"
        for role, (name, _) in resource_files(dataset).items()
    }


def resource_lookup(dataset, file):
    """url and sha256 of the file resources/<dataset>/<file>."""
    for name, source in resource_files(dataset).values():
        if name == file:
            return {"url": source.url, "sha256": source.sha256}
    raise WorkflowError(f"resources/{dataset}/{file} is not an input of the config")


def preprocess_inputs(wildcards):
    """Downloaded inputs of a dataset, and its prepared genome."""
    files = list(resource_paths(wildcards.dataset).values())
    if is_genome_dataset(wildcards.dataset):
        files.append(paths.fill(paths.GENOME, dataset=wildcards.dataset))
    return files


def data_config(dataset):
    """The keys of a dataset that shape its data (others must not trigger a rerun)."""
    return {
        k: v
        for k, v in DATASETS[dataset].items()
        if k not in ("published", "variants", "double_stranded", "models", "train")
        and k != "init_from"  # fine-tuning starts the networks, not the data
    }


def is_genome_dataset(dataset):
    return SPECS[dataset].is_genome


def model_file(wildcards):
    """model.pt for networks, model.npz (no pickle) for classical baselines."""
    template = (
        paths.MODEL
        if CATALOG[wildcards.model].family == "torch"
        else paths.BASELINE_MODEL
    )
    return paths.fill(template, **dict(wildcards.items()))


def runs(dataset=None):
    """Every (dataset, model, balance, seed) the config asks for, after what makes
    sense for each dataset's target kind (genomicdl.config.plan)."""
    yield from plan.runs(config, dataset)


def run_files(pattern, dataset=None):
    return [
        pattern.format(dataset=d, model=m, balance=b, seed=s)
        for d, m, b, s in runs(dataset)
    ]


TARGET_HOOKS = []  # functions returning more targets of `rule all` (one per stage file)


def register_targets(hook):
    """Let a stage file add its outputs to `rule all`."""
    TARGET_HOOKS.append(hook)
    return hook


def benchmark_targets():
    """What the benchmark table, its statistics and its plots need."""
    targets = [
        paths.BENCHMARK_TABLE,
        paths.METRICS_TABLE,
        paths.SUMMARY_TABLE,
        paths.COMPARISONS_TABLE,
        paths.TASK_COMPARISONS_TABLE,
        paths.PUBLISHED_TABLE,
        paths.BENCHMARK_MARKDOWN,
    ]
    for dataset in DATASETS:
        runs_here = list(runs(dataset))
        plots = ["benchmark", "predictions"]
        if plan.dataset_kind(DATASETS[dataset]) != "mutation_effect":
            plots += ["class_balance", "gc"]
        if plan.dataset_kind(DATASETS[dataset]) == "binary":
            plots += ["roc_pr", "calibration"]
        if any(m in TORCH_MODELS for _, m, _, _ in runs_here):
            plots.append("training")
        targets += [
            paths.fill(f"{paths.PLOTS}/{plot}.png", dataset=dataset) for plot in plots
        ]
    return targets


def final_targets():
    targets = benchmark_targets()
    for hook in TARGET_HOOKS:
        targets.extend(hook())
    return targets


def mb(size_mb, factor, floor):
    """Memory request scaled with the input size."""
    return int(max(floor, factor * size_mb))


# preprocess memory per character of the longest table record (measured ~170)
RECORD_BYTES = 200


def preprocess_mem_mb(wildcards, input):
    """Preprocess memory: twice the inputs, plus RECORD_BYTES per character of the longest
    record a table dataset may hold (max_length or window: one long record widens every
    store row and buffer), plus 200 MB; at least 2000."""
    spec = SPECS[wildcards.dataset]
    longest = 0
    if spec.source == "table":
        longest = max(spec.window or 0, spec.max_length)
    return mb(2 * input.size_mb + longest * RECORD_BYTES / 2**20 + 200, 1, 2000)


def plot_output(plot, caption, subcategory, label, svg=True):
    """A dataset's plot: its png as a report item (and its svg), the output of a plot rule."""
    png = report(
        f"{paths.PLOTS}/{plot}.png",
        caption=f"../report/{caption}.rst",
        category="{dataset}",
        subcategory=subcategory,
        labels={"plot": label},
    )
    return {"png": png, "svg": f"{paths.PLOTS}/{plot}.svg"} if svg else {"png": png}


def plot_log(plot):
    """The log of a dataset's plot rule."""
    return f"logs/plot/{{dataset}}/{plot}.log"


# ---- predict stage (rules in predict.smk)
PREDICT = config.get("predict", {})


def predict_chroms(dataset):
    ds = DATASETS[dataset]
    chroms = PREDICT.get("chroms") or ds["split"]["test"]
    return chroms if isinstance(chroms, list) else []


def predicted_datasets():
    """Genome datasets the predict stage covers (predict.enabled, predict.datasets)."""
    if not PREDICT.get("enabled"):
        return []
    chosen = PREDICT.get("datasets")
    return [
        d
        for d in DATASETS
        if is_genome_dataset(d)
        and (chosen is None or d in chosen)
        and predict_chroms(d)
    ]


def predicted_runs(dataset):
    """(model, balance, seed) of the networks of a dataset the predict stage covers."""
    return [(m, b, s) for _, m, b, s in runs(dataset) if m in TORCH_MODELS]


def plotted_runs(dataset):
    """(model, balance, seed) of the networks drawn in a dataset's track plot (first seed)."""
    return [r for r in predicted_runs(dataset) if r[2] == config["seeds"][0]]


@register_targets
def predict_targets():
    targets = []
    for d in predicted_datasets():
        targets += [
            paths.run_path(f"{paths.PREDICT_DIR}/tracks", (d, m, b, s))
            for m, b, s in predicted_runs(d)
        ]
        if PREDICT.get("regions") and PREDICT.get("contributions"):
            targets += [
                paths.run_path(f"{paths.PREDICT_DIR}/contributions", (d, m, b, s))
                for m, b, s in predicted_runs(d)
            ]
        if SPECS[d].source == "signal" and predicted_runs(d):
            targets.append(paths.fill(f"{paths.PLOTS}/tracks.png", dataset=d))
    return targets


def network_threads(w, tuned=True):
    """Threads of a network's training (or tuning trial, ``tuned=False``: its sampled
    parameters are drawn inside the job) from the network's counted cost
    (genomicdl.training.threads): 1 for small networks, so --cores N trains N side by side.
    """
    from genomicdl.training import threads as gthreads
    from genomicdl.config import tuning as gtune

    try:
        cores = workflow.cores
    except WorkflowError:  # a cluster run gives no --cores
        cores = None
    if tuned:
        params = gtune.train_settings(config, w.dataset, w.model)[0]
    else:
        params = config["model_params"].get(w.model, {})
    return gthreads.train_threads(config, w.dataset, w.model, params, cores)
