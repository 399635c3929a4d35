# Every run's metrics in one table, statistics and comparisons, plots per dataset.
# `snakemake benchmark` runs exactly what the benchmark table needs.


localrules:
    benchmark,


rule benchmark:
    input:
        benchmark_targets(),


rule collect_metrics:
    input:
        metrics=run_files("results/{dataset}/{model}/{balance}/{seed}/metrics.tsv"),
        arrays=run_files("results/{dataset}/{model}/{balance}/{seed}/arrays.npz"),
    output:
        table=report(
            "results/benchmark.tsv",
            caption="../report/benchmark.rst",
            category="benchmark",
            labels={"table": "every run"},
        ),
        metrics=report(
            "results/metrics.tsv",
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
        table="results/benchmark.tsv",
        metrics="results/metrics.tsv",
        arrays=run_files("results/{dataset}/{model}/{balance}/{seed}/arrays.npz"),
    output:
        summary=report(
            "results/summary.tsv",
            caption="../report/summary.rst",
            category="benchmark",
            labels={"table": "summary over seeds"},
        ),
        comparisons=report(
            "results/comparisons.tsv",
            caption="../report/comparisons.rst",
            category="benchmark",
            labels={"table": "paired comparisons"},
        ),
        published=report(
            "results/published.tsv",
            caption="../report/published.rst",
            category="benchmark",
            labels={"table": "published figures"},
        ),
        markdown=report(
            "results/benchmark.md",
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


rule plot_predictions:
    input:
        lambda w: [
            f"results/{d}/{m}/{b}/{s}/arrays.npz"
            for d, m, b, s in runs(w.dataset)
            if s == config["seeds"][0]
        ],
    output:
        png=report(
            "results/plots/{dataset}/predictions.png",
            caption="../report/predictions.rst",
            category="{dataset}",
            subcategory="evaluation",
            labels={"plot": "confusion matrix or predicted vs measured"},
        ),
        svg="results/plots/{dataset}/predictions.svg",
    log:
        "logs/plot/{dataset}/predictions.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 10, 1000),
        runtime=10,
    params:
        runs=lambda w: [
            (m, b, None) for _, m, b, s in runs(w.dataset) if s == config["seeds"][0]
        ],
    script:
        "../../scripts/plot.py"


rule plot_roc_pr:
    input:
        lambda w: run_files(
            "results/{dataset}/{model}/{balance}/{seed}/predictions.tsv.gz", w.dataset
        ),
    output:
        png=report(
            "results/plots/{dataset}/roc_pr.png",
            caption="../report/roc_pr.rst",
            category="{dataset}",
            subcategory="evaluation",
            labels={"plot": "ROC and PR curves"},
        ),
        svg="results/plots/{dataset}/roc_pr.svg",
    log:
        "logs/plot/{dataset}/roc_pr.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 10, 1000),
        runtime=10,
    params:
        runs=lambda w: [(m, b, s) for _, m, b, s in runs(w.dataset)],
    script:
        "../../scripts/plot.py"


use rule plot_roc_pr as plot_calibration with:
    output:
        png=report(
            "results/plots/{dataset}/calibration.png",
            caption="../report/calibration.rst",
            category="{dataset}",
            subcategory="evaluation",
            labels={"plot": "calibration"},
        ),
        svg="results/plots/{dataset}/calibration.svg",
    log:
        "logs/plot/{dataset}/calibration.log",


rule plot_benchmark:
    input:
        "results/summary.tsv",
    output:
        png=report(
            "results/plots/{dataset}/benchmark.png",
            caption="../report/benchmark_plot.rst",
            category="{dataset}",
            subcategory="benchmark",
            labels={"plot": "benchmark with CIs"},
        ),
        svg="results/plots/{dataset}/benchmark.svg",
    log:
        "logs/plot/{dataset}/benchmark.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/plot.py"


rule plot_training:
    input:
        lambda w: [
            f"models/{d}/{m}/{b}/{s}/history.csv"
            for d, m, b, s in runs(w.dataset)
            if m in TORCH_MODELS
        ],
    output:
        report(
            "results/plots/{dataset}/training.png",
            caption="../report/training.rst",
            category="{dataset}",
            subcategory="training",
            labels={"plot": "training curves"},
        ),
    log:
        "logs/plot/{dataset}/training.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=lambda w: [
            (m, b, s) for _, m, b, s in runs(w.dataset) if m in TORCH_MODELS
        ],
    script:
        "../../scripts/plot.py"


rule plot_class_balance:
    input:
        lambda w: expand(
            "data/{dataset}/rebalance/{balance}/{seed}/counts.tsv",
            dataset=w.dataset,
            balance=config["balance"],
            seed=config["seeds"][0],
        ),
    output:
        report(
            "results/plots/{dataset}/class_balance.png",
            caption="../report/class_balance.rst",
            category="{dataset}",
            subcategory="rebalance",
            labels={"plot": "class counts"},
        ),
    log:
        "logs/plot/{dataset}/class_balance.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        strategies=config["balance"],
    script:
        "../../scripts/plot.py"


rule plot_gc:
    input:
        "data/{dataset}/gc.tsv",
    output:
        report(
            "results/plots/{dataset}/gc.png",
            caption="../report/gc_plot.rst",
            category="{dataset}",
            subcategory="data",
            labels={"plot": "GC distributions"},
        ),
    log:
        "logs/plot/{dataset}/gc.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/plot.py"
