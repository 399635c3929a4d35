"""Reports of the TF-MoDISco patterns of one network: one Markdown file and one logo
image per task (in a directory, with every seqlet in seqlets.tsv), and one
self-contained HTML page over all tasks for the workflow report."""

from __future__ import annotations

import base64
import html
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from genomicdl.core.files import write_text_atomic
from genomicdl.interpret.logos import motif_logos
from genomicdl.interpret.motifs import Motif, Reference


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def pattern_table(motifs: Sequence[Motif], matches: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """One row per pattern: seqlets, consensus, and its ``top`` JASPAR matches (name, q)."""
    rows = []
    for m in motifs:
        hits = matches[matches["motif"] == m.name].sort_values("rank").head(top)
        best = hits.iloc[0] if len(hits) else None
        rows.append(
            {
                "pattern": m.name,
                "seqlets": m.sites,
                "length": len(m.ppm),
                "consensus": m.consensus,
                "best match": f"{best['jaspar_id']} {best['jaspar_name']}" if best is not None else "",
                "q-value": float(best["q_value"]) if best is not None else float("nan"),
                "other matches": ", ".join(f"{r.jaspar_name} (q={r.q_value:.2g})" for r in hits.iloc[1:].itertuples()),
            }
        )
    return pd.DataFrame(rows, columns=["pattern", "seqlets", "length", "consensus", "best match", "q-value",
                                       "other matches"])  # fmt: skip


def _markdown(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_modisco-lite found no pattern for this task (too few seqlets)._\n"
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.2g}" if isinstance(v, float) else f"`{v}`" if i == 3 else str(v) for i, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_modisco_reports(
    motifs: Sequence[Motif],
    seqlets: pd.DataFrame,
    matches: pd.DataFrame,
    ref: Reference,
    tasks: Sequence[str],
    settings: Mapping[str, Any],
    cpu: Mapping[str, Any],
    out_html: str | Path,
    out_dir: str | Path,
) -> None:
    """``out_dir``/<task>.md and <task>.png for every task, ``out_dir``/seqlets.tsv, and
    ``out_html``. The directory is built aside and moved into place whole."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    m = settings["modisco"]
    method = m["attribution"]
    build = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    sections = []
    try:
        for task in tasks:
            mine = [x for x in motifs if x.task == task]
            table = pattern_table(mine, matches)
            png = build / f"{_safe(task)}.png"
            motif_logos(mine, matches[matches["motif"].isin([x.name for x in mine])], ref, png, max(1, len(mine)))
            seconds = cpu.get("modisco", {}).get(task, float("nan"))
            text = (
                f"# TF-MoDISco patterns of task {task}\n\n"
                f"modisco-lite on the {method} hypothetical contributions of the explained sequences of {task} "
                f"(window {m['window']} bp, flank {m['flank']}, at least {m['min_seqlets']} seqlets per pattern; "
                f"{seconds:.1f} CPU s). Best JASPAR matches by TOMTOM (q: Benjamini-Hochberg over the "
                f"{len(ref.ids)} {ref.release} matrices compared). Seqlets: `seqlets.tsv`.\n\n"
                + _markdown(table)
                + f"\n![patterns of {task} beside their best JASPAR match]({png.name})\n"
            )
            (build / f"{_safe(task)}.md").write_text(text)
            image = base64.b64encode(png.read_bytes()).decode()
            sections.append(
                f"<h2>{html.escape(task)}</h2><p>{len(mine)} patterns, {seconds:.1f} CPU s</p>"
                + table.to_html(index=False, float_format=lambda v: f"{v:.2g}", border=0)
                + f'<img alt="logos of {html.escape(task)}" src="data:image/png;base64,{image}">'
            )
        seqlets.to_csv(build / "seqlets.tsv", sep="\t", index=False)
        timing = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if isinstance(v, float))
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>TF-MoDISco patterns</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px}img{max-width:100%}</style></head><body>"
            f"<h1>TF-MoDISco patterns ({html.escape(method)} contributions)</h1>"
            f"<p>Attribution CPU seconds: {html.escape(timing)}. One Markdown report per task beside this file, "
            "in modisco/.</p>" + "".join(sections) + "</body></html>"
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        build.rename(out_dir)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    write_text_atomic(out_html, page)
