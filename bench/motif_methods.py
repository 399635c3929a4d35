"""Which attribution finds the known motifs: TF-MoDISco (modisco-lite) on ISM, gradient x
input and DeepLIFT/SHAP hypothetical contributions, beside our seqlet clustering on ISM
(the interpret stage's former default), for one trained network.

The explained sequences are those of the interpret stage (``--top-k`` best-scored
positives of each task in ``--splits``). Every motif is compared by TOMTOM with JASPAR
(``--tax-group``) plus literature motifs given as IUPAC consensuses (``--literature
PUM=UGUAHAUA``); q-values are Benjamini-Hochberg over all those matrices. For each task
and method the table gives the patterns (largest first, up to ``--patterns``), their best
match and q-value, and where the expected motif (``--expect TASK=NAME``) ranks. Timed (CPU
seconds, process time): each attribution method, and each modisco-lite / clustering
call. Not timed: loading, TOMTOM.

    python bench/motif_methods.py --run results/yeast/deepbind/none/1 --dataset yeast \\
        --tax-group fungi --expect Reb1=REB1 --expect Abf1=ABF1 --expect Cbf1=CBF1

The last line is one JSON object: {"bench": "motif_methods", ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genomicdl.interpret.attributions import explained  # noqa: E402
from genomicdl.interpret.modisco import run_modisco  # noqa: E402
from genomicdl.interpret.motifs import compare, jaspar, with_literature  # noqa: E402
from genomicdl.interpret.stage import attribute, default_settings, discover, read_rows, top_positives  # noqa: E402
from genomicdl.io.run_arrays import read_predictions  # noqa: E402
from genomicdl.io.store import Store  # noqa: E402
from genomicdl.training.inference import load_network  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="results/<dataset>/<model>/<balance>/<seed>")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--tax-group", default=None)
    parser.add_argument("--literature", action="append", default=[], help="NAME=IUPAC")
    parser.add_argument("--expect", action="append", default=[], help="TASK=MOTIF NAME")
    parser.add_argument("--splits", default="train,valid,test")
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--patterns", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from modiscolite import precompile

    precompile.start()  # modisco-lite's kernels into numba's cache, before PyTorch starts threads
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    settings = default_settings()
    run = Path(args.run)
    model_path = Path(str(run).replace("results/", "models/", 1)) / "model.pt"
    model, meta = load_network(str(model_path))
    fn = explained(model, bool(meta["rc_average"]))
    tasks = list(meta["tasks"])
    chosen = top_positives(read_predictions(str(run / "predictions.tsv.gz")), tasks, args.top_k,
                           tuple(args.splits.split(",")))  # fmt: skip
    with Store(f"data/{args.dataset}/dataset.h5") as store:
        codes = read_rows(store, chosen["row"].to_numpy(dtype=np.int64))
    task_of = chosen["task"].to_numpy(dtype=np.int64)
    ref = jaspar("JASPAR2026", "CORE", [args.tax_group] if args.tax_group else None)
    ref = with_literature(ref, dict(kv.split("=", 1) for kv in args.literature))
    expect = dict(kv.split("=", 1) for kv in args.expect)
    contrib, hypothetical, cpu = attribute(fn, codes, task_of, settings)
    both = bool(meta["double_stranded"])
    rows = []
    for t, task in enumerate(tasks):
        mine = task_of == t
        found = {}
        for method in ("deep_lift_shap", "gradient_x_input", "ism"):
            start = time.process_time()
            patterns = run_modisco(hypothetical[method][mine], codes[mine], task, settings["modisco"])
            found[f"modisco/{method}"] = (patterns.motifs, time.process_time() - start, cpu[method])
        start = time.process_time()
        ours = discover(contrib["ism"][mine], codes[mine], task_of[mine] * 0, [task], settings, both)
        found["seqlets/ism"] = (ours, time.process_time() - start, cpu["ism"])
        for name, (motifs, seconds, attr_cpu) in found.items():
            table = compare(motifs, ref, len(ref.ids), both, args.threads)
            order = sorted(motifs, key=lambda m: -m.sites)[: args.patterns]
            want = expect.get(task)
            for k, m in enumerate(order, start=1):
                hits = table[table["motif"] == m.name].sort_values("rank")
                best = hits.iloc[0]
                known = hits[hits["jaspar_name"].str.upper() == want.upper()] if want else hits.iloc[:0]
                rows.append(
                    {
                        "task": task, "method": name, "pattern": k, "seqlets": m.sites, "consensus": m.consensus,
                        "best": f"{best['jaspar_id']} {best['jaspar_name']}", "q": float(best["q_value"]),
                        "expected": want or "", "expected_rank": int(known["rank"].iloc[0]) if len(known) else None,
                        "expected_q": float(known["q_value"].iloc[0]) if len(known) else None,
                        "attribution_cpu_s": round(attr_cpu, 2), "discovery_cpu_s": round(seconds, 2),
                    }
                )  # fmt: skip
            if not order:
                rows.append({"task": task, "method": name, "pattern": 0, "seqlets": 0, "consensus": "", "best": "",
                             "q": None, "expected": want or "", "expected_rank": None, "expected_q": None,
                             "attribution_cpu_s": round(attr_cpu, 2),
                             "discovery_cpu_s": round(seconds, 2)})  # fmt: skip
    print("| task | method | # | seqlets | consensus | best match (q) | expected: rank (q) | CPU s attr. + disc. |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        exp = f"{r['expected']}: {r['expected_rank']} ({r['expected_q']:.2g})" if r["expected_rank"] else "-"
        best = f"{r['best']} ({r['q']:.2g})" if r["q"] is not None else "none"
        cells = [r["task"], r["method"], r["pattern"], r["seqlets"], f"`{r['consensus']}`", best, exp,
                 f"{r['attribution_cpu_s']} + {r['discovery_cpu_s']}"]  # fmt: skip
        print("| " + " | ".join(str(c) for c in cells) + " |")
    top = {
        f"{r['task']}:{r['method']}": r["expected_rank"] for r in rows if r["pattern"] == 1 and r["expected"]
    }  # expected motif's rank among the matches of each method's largest pattern
    print(json.dumps({"bench": "motif_methods", "run": str(run), "sequences": len(codes), "rows": rows,
                      "largest_pattern_expected_rank": top}))  # fmt: skip


if __name__ == "__main__":
    main()
