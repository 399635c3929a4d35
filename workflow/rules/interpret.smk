# Attributions and motifs of trained networks (opt-in: interpret.enabled).
# One job per network run; outputs in results/{dataset}/{model}/{balance}/{seed}/interpret/.

INTERPRET = config["interpret"]
INTERPRET_DIR = paths.INTERPRET_DIR


# (dataset, model, balance, seed) of every network the stage explains
INTERPRET_RUNS = [
    (d, m, b, s)
    for d, m, b, s in runs()
    if INTERPRET["enabled"]
    and m in TORCH_MODELS
    and plan.dataset_kind(DATASETS[d]) == "binary"
    and DATASETS[d]["alphabet"] == "dna"
    and (INTERPRET["models"] is None or m in INTERPRET["models"])
    and (INTERPRET["datasets"] is None or d in INTERPRET["datasets"])
]


register_targets(
    lambda: [
        paths.run_path(f"{paths.INTERPRET_DIR}/{name}", (d, m, b, s))
        for d, m, b, s in INTERPRET_RUNS
        for name in (
            "motifs.tsv",
            "motifs.meme",
            "logos.png",
            "tracks.png",
            "modisco.html",
        )
    ]
)


rule interpret:
    input:
        store=paths.STORE,
        model=paths.MODEL,
        predictions=paths.PREDICTIONS,
    output:
        attributions=f"{INTERPRET_DIR}/attributions.npz",
        meme=f"{INTERPRET_DIR}/motifs.meme",
        table=report(
            f"{INTERPRET_DIR}/motifs.tsv",
            caption="../report/interpret_motifs.rst",
            category="{dataset}",
            subcategory="interpretation",
            labels={
                "model": "{model}",
                "balance": "{balance}",
                "seed": "{seed}",
                "figure": "motifs and JASPAR matches",
            },
        ),
        logos=report(
            f"{INTERPRET_DIR}/logos.png",
            caption="../report/interpret_logos.rst",
            category="{dataset}",
            subcategory="interpretation",
            labels={
                "model": "{model}",
                "balance": "{balance}",
                "seed": "{seed}",
                "figure": "motif logos",
            },
        ),
        tracks=report(
            f"{INTERPRET_DIR}/tracks.png",
            caption="../report/interpret_tracks.rst",
            category="{dataset}",
            subcategory="interpretation",
            labels={
                "model": "{model}",
                "balance": "{balance}",
                "seed": "{seed}",
                "figure": "attribution tracks",
            },
        ),
        modisco=report(
            f"{INTERPRET_DIR}/modisco.html",
            caption="../report/interpret_modisco.rst",
            category="{dataset}",
            subcategory="interpretation",
            labels={
                "model": "{model}",
                "balance": "{balance}",
                "seed": "{seed}",
                "figure": "TF-MoDISco patterns",
            },
        ),
        modisco_dir=directory(f"{INTERPRET_DIR}/modisco"),
    log:
        "logs/interpret/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/interpret/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "torch"),
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=4000,  # top_k sequences and a sample of test windows: not the whole store
        runtime=120,
    params:
        settings=INTERPRET,
    script:
        "../../scripts/interpret.py"
