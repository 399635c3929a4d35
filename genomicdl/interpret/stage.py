"""The interpret stage: what one trained network learned.

For each task, the top-scoring positives of the chosen splits (the test split by default)
are explained by in-silico mutagenesis, gradient x input and DeepLIFT/DeepSHAP
(genomicdl.interpret.attributions); motifs are discovered from the attributions (our seqlets and
TF-MoDISco's, genomicdl.interpret.modisco) and from the first-layer filters, and compared with
JASPAR (genomicdl.interpret.motifs). Outputs of one run, each written atomically:

- attributions.npz: rows, ids, task of each explained sequence, its bases, and (n, 4, L)
  arrays: ISM changes, gradient x input, DeepLIFT/SHAP contributions and hypothetical
  contributions (the last two only when that method is on);
- motifs.meme: every discovered motif (MEME minimal format);
- motifs.tsv: the best JASPAR matches of every motif, with p-, E- and q-values;
- logos.png: discovered motifs beside their best match; tracks.png: attribution tracks;
- modisco.html: the TF-MoDISco patterns of every task (logos, seqlets, best matches),
  with one Markdown report and logo image per task and the seqlets in modisco/.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from genomicdl.core.errors import ConfigError
from genomicdl.core.files import atomic_output, write_text_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.interpret.attributions import (
    deep_lift_shap,
    explained,
    gradient_x_input,
    ism,
    ism_contributions,
    ism_hypothetical,
    one_hot,
)
from genomicdl.interpret.logos import attribution_tracks, motif_logos
from genomicdl.interpret.modisco import SEQLET_COLUMNS, run_modisco
from genomicdl.interpret.modisco_report import write_modisco_reports
from genomicdl.interpret.motifs import (
    Motif,
    cluster_seqlets,
    compare,
    filter_motifs,
    find_seqlets,
    jaspar,
    with_literature,
    write_meme,
)
from genomicdl.io.run_arrays import read_predictions
from genomicdl.io.store import Store
from genomicdl.training.inference import load_network

log = logging.getLogger(__name__)


def top_positives(
    predictions: pd.DataFrame, tasks: list[str], k: int, splits: tuple[str, ...] = ("test",)
) -> pd.DataFrame:
    """The ``k`` best-scored positives of each task in ``splits``: columns row, id, task
    (index), score; ties broken by row."""
    test = predictions[predictions["split"].isin(list(splits))]
    parts = []
    for t, task in enumerate(tasks):
        pos = test[test[f"label_{task}"] == 1]
        pos = pos.sort_values([f"score_{task}", "row"], ascending=[False, True]).head(k)
        if pos.empty:
            log.warning("task %s has no positive in the %s split: nothing to explain", task, "/".join(splits))
        parts.append(pd.DataFrame({"row": pos["row"], "id": pos["id"], "task": t, "score": pos[f"score_{task}"]}))
    return pd.concat(parts, ignore_index=True)


def read_rows(store: Store, rows: np.ndarray) -> np.ndarray:
    """Codes of ``rows`` (any order, repeats allowed), streamed from the store."""
    unique, inverse = np.unique(rows, return_inverse=True)
    codes = np.empty((len(unique), store.window), dtype=np.uint8)
    pos = 0
    for _, batch in store.batches(unique, 1024):
        codes[pos : pos + len(batch)] = batch
        pos += len(batch)
    return codes[inverse]


def sample_rows(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """A seeded subsample of at most ``limit`` rows, sorted."""
    if len(rows) <= limit:
        return np.sort(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))


def discover(
    contrib: np.ndarray,
    codes: np.ndarray,
    task_of: np.ndarray,
    tasks: list[str],
    settings: Mapping[str, Any],
    both_strands: bool,
) -> list[Motif]:
    """Seqlet motifs of every task from (n, 4, L) contributions."""
    s = settings["seqlets"]
    motifs: list[Motif] = []
    for t, task in enumerate(tasks):
        mine = task_of == t
        if not mine.any():
            continue
        seqlets = find_seqlets(
            contrib[mine], codes[mine], s["width"], s["flank"], s["max_per_sequence"], s["min_fraction"], s["max_total"]
        )
        found = cluster_seqlets(
            seqlets, task, s["min_similarity"], s["min_seqlets"], s["max_shift"], both_strands, s["trim"]
        )
        log.info("%s: %d seqlets in %d sequences -> %d motifs", task, len(seqlets.seq), int(mine.sum()), len(found))
        motifs += found
    return motifs


def attribute(
    fn: torch.nn.Module, codes: np.ndarray, task_of: np.ndarray, settings: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, float]]:
    """Every attribution the settings ask for: contributions of the observed bases and
    hypothetical contributions (every base), by method, with the CPU seconds of each."""
    batch = int(settings["batch_size"])
    contrib: dict[str, np.ndarray] = {}
    hypothetical: dict[str, np.ndarray] = {}
    cpu: dict[str, float] = {}
    x = one_hot(codes).numpy()
    t = time.process_time()
    deltas = ism(fn, codes, task_of, batch)
    contrib["ism"], hypothetical["ism"] = ism_contributions(deltas, codes), ism_hypothetical(deltas)
    cpu["ism"] = time.process_time() - t
    contrib["ism_deltas"] = deltas
    t = time.process_time()
    hypothetical["gradient_x_input"] = gradient_x_input(fn, codes, task_of, batch, hypothetical=True)
    contrib["gradient_x_input"] = hypothetical["gradient_x_input"] * x
    cpu["gradient_x_input"] = time.process_time() - t
    d = settings["deep_lift_shap"]
    if d["enabled"]:
        t = time.process_time()
        seed = stable_seed("deep_lift_shap")
        hyp = deep_lift_shap(fn, codes, task_of, int(d["shuffles"]), seed, int(d["batch_size"]), hypothetical=True)
        hypothetical["deep_lift_shap"], contrib["deep_lift_shap"] = hyp, hyp * x
        cpu["deep_lift_shap"] = time.process_time() - t
    return contrib, hypothetical, cpu


def modisco_patterns(
    hypothetical: dict[str, np.ndarray],
    codes: np.ndarray,
    task_of: np.ndarray,
    tasks: list[str],
    settings: Mapping[str, Any],
) -> tuple[list[Motif], pd.DataFrame, dict[str, float]]:
    """TF-MoDISco motifs of every task from the hypothetical contributions of the
    configured method; seqlets indexed by explained sequence; CPU seconds per task."""
    m = settings["modisco"]
    method = m["attribution"]
    motifs: list[Motif] = []
    frames = []
    cpu: dict[str, float] = {}
    for t, task in enumerate(tasks):
        mine = np.flatnonzero(task_of == t)
        if not len(mine):
            continue
        start = time.process_time()
        found = run_modisco(hypothetical[method][mine], codes[mine], task, m)
        cpu[task] = time.process_time() - start
        motifs += found.motifs
        frames.append(found.seqlets.assign(sequence=mine[found.seqlets["sequence"].to_numpy(dtype=np.int64)]))
    seqlets = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SEQLET_COLUMNS)
    return motifs, seqlets, cpu


def check_settings(settings: Mapping[str, Any]) -> None:
    """Attributions chosen for seqlets or TF-MoDISco must be computed."""
    if settings["deep_lift_shap"]["enabled"]:
        return
    for key in ("seqlets", "modisco"):
        if settings[key]["attribution"] == "deep_lift_shap" and (key == "seqlets" or settings[key]["enabled"]):
            raise ConfigError(
                f"config key interpret.{key}.attribution: deep_lift_shap needs interpret.deep_lift_shap.enabled: true"
            )


def interpret_run(
    store_path: str,
    model_path: str,
    predictions_path: str,
    settings: Mapping[str, Any],
    threads: int,
    out_attributions: str,
    out_meme: str,
    out_table: str,
    out_logos: str,
    out_tracks: str,
    out_modisco: str | None = None,
    out_modisco_dir: str | None = None,
) -> pd.DataFrame:
    """Explain one trained network; returns the motif/JASPAR match table."""
    t0 = time.time()
    check_settings(settings)
    if settings["modisco"]["enabled"] and out_modisco is not None:
        # modisco-lite compiles its kernels into numba's cache in forked children, which
        # it only forks while no other thread runs: before PyTorch's first operation
        from modiscolite import precompile

        precompile.start()
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    j = settings["jaspar"]
    ref = jaspar(j["release"], j["collection"], j["tax_group"])  # first: a bad setting fails at once
    ref = with_literature(ref, dict(settings.get("literature") or {}))
    model, meta = load_network(model_path)
    fn = explained(model, bool(meta["rc_average"]))
    both_strands = bool(meta["double_stranded"])
    tasks = list(meta["tasks"])
    splits = tuple(settings.get("splits") or ("test",))
    chosen = top_positives(read_predictions(predictions_path), tasks, int(settings["top_k"]), splits)
    rows = chosen["row"].to_numpy(dtype=np.int64)
    task_of = chosen["task"].to_numpy(dtype=np.int64)
    with Store(store_path) as store:
        codes = read_rows(store, rows)
        test_rows = sample_rows(store.rows("test"), int(settings["filters"]["sequences"]), stable_seed("filters"))
        filter_codes = read_rows(store, test_rows) if settings["filters"]["enabled"] else None
    batch = int(settings["batch_size"])
    contrib, hypothetical, cpu = attribute(fn, codes, task_of, settings)
    log.info(
        "attributions of %d sequences (%d tasks) in %.1f s; CPU s: %s",
        len(codes), len(tasks), time.time() - t0, ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()),
    )  # fmt: skip
    arrays = {"row": rows, "id": chosen["id"].astype(str).to_numpy(), "task": task_of, "tasks": np.array(tasks)}
    extra = {}
    if "deep_lift_shap" in contrib:
        extra = {
            "deep_lift_shap": contrib["deep_lift_shap"],
            "deep_lift_shap_hypothetical": hypothetical["deep_lift_shap"],
        }
    with atomic_output(out_attributions) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays, codes=codes, ism=contrib["ism_deltas"],
                            gradient_x_input=contrib["gradient_x_input"], **extra)  # fmt: skip

    motifs = discover(contrib[settings["seqlets"]["attribution"]], codes, task_of, tasks, settings, both_strands)
    modisco: list[Motif] = []
    seqlets = pd.DataFrame(columns=SEQLET_COLUMNS)
    modisco_cpu: dict[str, float] = {}
    if settings["modisco"]["enabled"] and out_modisco is not None:
        modisco, seqlets, modisco_cpu = modisco_patterns(hypothetical, codes, task_of, tasks, settings)
        motifs += modisco
    if filter_codes is not None:
        f = settings["filters"]
        found = filter_motifs(model, filter_codes, f["activation_fraction"], f["min_sites"], f["trim_ic"], batch)
        log.info("first-layer filters: %d motifs from %d test windows", len(found), len(filter_codes))
        motifs += found
    matches = compare(motifs, ref, int(settings["top_matches"]), both_strands, threads)
    log_matches(matches)
    write_meme(motifs, out_meme)
    buf = io.StringIO()
    matches.to_csv(buf, sep="\t", index=False, float_format="%.4g")
    write_text_atomic(out_table, buf.getvalue())
    plots = settings["plots"]
    motif_logos(motifs, matches, ref, out_logos, int(plots["logos"]))
    shown = np.concatenate([np.flatnonzero(task_of == t)[: int(plots["tracks"])] for t in range(len(tasks))])
    titles = [f"{tasks[task_of[i]]}: {chosen['id'].iloc[i]} (score {chosen['score'].iloc[i]:.3f})" for i in shown]
    tracks = [("ISM", contrib["ism"][shown]), ("grad x input", contrib["gradient_x_input"][shown])]
    if "deep_lift_shap" in contrib:
        tracks.append(("DeepLIFT/SHAP", contrib["deep_lift_shap"][shown]))
    attribution_tracks(codes[shown], tracks, titles, out_tracks)
    if out_modisco is not None and out_modisco_dir is not None:
        seqlets = seqlets.assign(id=chosen["id"].astype(str).to_numpy()[seqlets["sequence"].to_numpy(dtype=np.int64)])
        write_modisco_reports(
            modisco, seqlets, matches, ref, tasks, settings, {**cpu, "modisco": modisco_cpu}, out_modisco,
            out_modisco_dir,
        )  # fmt: skip
    log.info(
        "interpreted in %.1f s: %d motifs vs %d %s matrices", time.time() - t0, len(motifs), len(ref.ids), ref.release
    )
    return matches


def log_matches(matches: pd.DataFrame) -> None:
    """One log line per motif: its best JASPAR match."""
    for _, row in matches[matches["rank"] == 1].iterrows():
        log.info(
            "%s (%s, %d sites, %s): best match %s %s, q=%.3g",
            row["motif"],
            row["source"],
            row["sites"],
            row["consensus"],
            row["jaspar_id"],
            row["jaspar_name"],
            row["q_value"],
        )


def recovered(matches: pd.DataFrame, names: list[str], top: int, max_q: float = 1.0) -> dict[str, bool]:
    """For each JASPAR name: is it among the ``top`` matches (q <= ``max_q``) of some motif?"""
    hits = matches[(matches["rank"] <= top) & (matches["q_value"] <= max_q)]
    found = {str(n).upper() for n in hits["jaspar_name"]}
    return {name: name.upper() in found for name in names}


def default_settings() -> dict[str, Any]:
    """The schema's defaults of the interpret block (for use outside the workflow)."""
    from genomicdl.config import validation as gconfig
    schema = gconfig.load_schema(Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml")
    props = schema["properties"]["interpret"]

    def fill(node: Mapping[str, Any]) -> Any:
        if node.get("type") == "object" and "properties" in node:
            return {k: fill(v) for k, v in node["properties"].items()}
        return node.get("default")

    return fill(props)
