# Every run's metrics in one table, statistics and comparisons, plots per dataset.
# `snakemake benchmark` runs exactly what the benchmark table needs.


localrules:
    benchmark,


rule benchmark:
    input:
        benchmark_targets(),


rule collect_metrics:
    input:
        metrics=run_files(paths.METRICS),
        arrays=run_files(paths.ARRAYS),
    output:
        table=report(
            paths.BENCHMARK_TABLE,
            caption="../report/benchmark.rst",
            category="benchmark",
            labels={"table": "every run"},
        ),
        metrics=report(
            paths.METRICS_TABLE,
            caption="../report/metrics.rst",
            category="benchmark",
            labels={"table": "every metric"},
        ),
    log:
        "logs/collect_metrics.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 5, 2000),
        runtime=30,
    params:
        runs=list(runs()),
        bootstrap=config["evaluate"]["bootstrap"],
        min_positives=config["evaluate"]["min_positives"],
    script:
        "../../scripts/collect_metrics.py"


rule summarize:
    input:
        table=paths.BENCHMARK_TABLE,
        metrics=paths.METRICS_TABLE,
        arrays=run_files(paths.ARRAYS),
    output:
        summary=report(
            paths.SUMMARY_TABLE,
            caption="../report/summary.rst",
            category="benchmark",
            labels={"table": "summary over seeds"},
        ),
        comparisons=report(
            paths.COMPARISONS_TABLE,
            caption="../report/comparisons.rst",
            category="benchmark",
            labels={"table": "paired comparisons"},
        ),
        task_comparisons=report(
            paths.TASK_COMPARISONS_TABLE,
            caption="../report/comparisons.rst",
            category="benchmark",
            labels={"table": "paired comparisons per task"},
        ),
        published=report(
            paths.PUBLISHED_TABLE,
            caption="../report/published.rst",
            category="benchmark",
            labels={"table": "published figures"},
        ),
        markdown=report(
            paths.BENCHMARK_MARKDOWN,
            caption="../report/benchmark_md.rst",
            category="benchmark",
            labels={"table": "Markdown summary"},
        ),
    log:
        "logs/summarize.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 5, 2000),
        runtime=30,
    params:
        runs=list(runs()),
        published={
            plan.fold_of(name, config)[0]: ds["published"]
            for name, ds in DATASETS.items()
        },
        folds={
            name: plan.fold_of(name, config)[0]
            for name in DATASETS
            if plan.fold_of(name, config)[1] is not None
        },
        bootstrap=max(100, config["evaluate"]["bootstrap"]),
    script:
        "../../scripts/summarize.py"


# The plot rules: plot_gc holds the block they share (log, env, threads, resources,
# script: scripts/plot.py draws the plot the rule's name says); the others reuse it.


rule plot_gc:
    input:
        paths.GC,
    output:
        **plot_output("gc", "gc_plot", "data", "GC distributions", svg=False),
    log:
        plot_log("gc"),
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/plot.py"


use rule plot_gc as plot_benchmark with:
    input:
        paths.SUMMARY_TABLE,
    output:
        **plot_output("benchmark", "benchmark_plot", "benchmark", "benchmark with CIs"),
    log:
        plot_log("benchmark"),


use rule plot_gc as plot_training with:
    input:
        lambda w: [
            paths.run_path(paths.HISTORY, run)
            for run in runs(w.dataset)
            if run[1] in TORCH_MODELS
        ],
    output:
        **plot_output("training", "training", "training", "training curves", svg=False),
    log:
        plot_log("training"),
    params:
        runs=lambda w: [
            (m, b, s) for _, m, b, s in runs(w.dataset) if m in TORCH_MODELS
        ],


use rule plot_gc as plot_class_balance with:
    input:
        lambda w: expand(
            paths.COUNTS,
            dataset=w.dataset,
            balance=config["balance"],
            seed=config["seeds"][0],
        ),
    output:
        **plot_output(
            "class_balance", "class_balance", "rebalance", "class counts", svg=False
        ),
    log:
        plot_log("class_balance"),
    params:
        strategies=config["balance"],


use rule plot_gc as plot_predictions with:
    input:
        lambda w: [
            paths.run_path(paths.ARRAYS, run)
            for run in runs(w.dataset)
            if run[3] == config["seeds"][0]
        ],
    output:
        **plot_output(
            "predictions",
            "predictions",
            "evaluation",
            "confusion matrix or predicted vs measured",
        ),
    log:
        plot_log("predictions"),
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 10, 1000),
        runtime=10,
    params:
        runs=lambda w: [
            (m, b, None) for _, m, b, s in runs(w.dataset) if s == config["seeds"][0]
        ],


use rule plot_predictions as plot_roc_pr with:
    input:
        lambda w: run_files(paths.PREDICTIONS, w.dataset),
    output:
        **plot_output("roc_pr", "roc_pr", "evaluation", "ROC and PR curves"),
    log:
        plot_log("roc_pr"),
    params:
        runs=lambda w: [(m, b, s) for _, m, b, s in runs(w.dataset)],


use rule plot_roc_pr as plot_calibration with:
    output:
        **plot_output("calibration", "calibration", "evaluation", "calibration"),
    log:
        plot_log("calibration"),
