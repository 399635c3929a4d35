"""End to end: the real snakemake on a tiny config, from another working directory."""

from __future__ import annotations

import gzip
import http.server
import os
import random
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from conftest import DEMO, snakemake, srf_table

pytestmark = pytest.mark.e2e


def tiny_config(workdir: Path) -> Path:
    """Two datasets, as a user would write them: relative paths from the working dir."""
    cfg = {
        "datasets": {
            "tiny_yeast": {
                "genome": {"url": f"file://{DEMO / 'yeast' / 'genome.fa.gz'}"},
                "targets": {
                    "Reb1": {"url": str(DEMO / "yeast" / "Reb1.bed")},
                    "Cbf1": {"url": str(DEMO / "yeast" / "Cbf1.bed")},
                },
                "blacklist": {"url": str(DEMO / "yeast" / "blacklist.bed")},
                "window": 100,
                "negatives": {"strategy": "gc_matched", "per_positive": 1},
                "split": {"valid": ["chrXVI"], "test": ["chrIV"]},
            },
            "srf": srf_table(workdir),
        },
        "models": ["deepbind", "kmer_logreg"],
        "balance": ["none", "class_weight"],
        "seeds": [1],
        "train": {"max_epochs": 3, "patience": 2},
        "evaluate": {"bootstrap": 20},
    }
    path = workdir / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    workdir = tmp_path_factory.mktemp("e2e")
    cfg = tiny_config(workdir)
    result = snakemake(["--cores", "2", "--configfile", str(cfg)], cwd=workdir)
    return workdir, result


def test_workflow_runs_and_writes_the_benchmark(tiny_run: tuple[Path, object]) -> None:
    workdir, result = tiny_run
    assert result.returncode == 0, result.stderr[-4000:]
    table = pd.read_csv(workdir / "results" / "benchmark.tsv", sep="\t")
    for column in ("dataset", "model", "balance", "seed", "task", "auroc", "auprc"):
        assert column in table.columns
    # --configfile replaces the embedded demo: only the tiny datasets ran
    assert set(table["dataset"]) == {"tiny_yeast", "srf"}
    runs = table.groupby(["dataset", "model", "balance", "seed"]).size()
    assert len(runs) == 2 * 2 * 2
    assert set(table.loc[table["dataset"] == "tiny_yeast", "task"]) == {"Reb1", "Cbf1"}
    assert set(table.loc[table["dataset"] == "srf", "task"]) == {"Bound"}
    assert table["auroc"].between(0, 1).all()
    # the k-mer baseline learns the SRF CArG box and Cbf1's CACGTG even from tiny data
    srf = table[(table["dataset"] == "srf") & (table["model"] == "kmer_logreg")]
    assert (srf["auroc"] > 0.7).all(), srf


def test_every_stage_left_its_outputs_and_logs(tiny_run: tuple[Path, object]) -> None:
    workdir, result = tiny_run
    assert result.returncode == 0
    for path in (
        "resources/tiny_yeast/genome.fa.gz",
        "data/tiny_yeast/genome.fa.gz.fai",
        "data/tiny_yeast/dataset.h5",
        "data/srf/summary.json",
        "data/srf/rebalance/class_weight/1/counts.tsv",
        "models/tiny_yeast/deepbind/none/1/model.pt",
        "models/tiny_yeast/deepbind/none/1/history.csv",
        "models/srf/kmer_logreg/none/1/model.npz",
        "results/srf/deepbind/class_weight/1/predictions.tsv.gz",
        "results/plots/tiny_yeast/roc_pr.png",
        "results/plots/srf/calibration.png",
        "results/plots/tiny_yeast/training.png",
        "results/summary.tsv",
        "results/benchmark.md",
        "logs/train/tiny_yeast/deepbind/none/1.log",
    ):
        assert (workdir / path).is_file(), path
    log = (workdir / "logs/preprocess/tiny_yeast.log").read_text()
    assert "chr4->chrIV" in log  # the peaks' arabic names were reconciled with the genome's roman ones
    # the positives-only SRF training file was completed with shuffled negatives
    summary = (workdir / "data/srf/summary.json").read_text()
    assert '"generated_negatives_for": [\n    "train",\n    "valid"\n  ]' in summary
    # nothing half-written anywhere
    assert not list(workdir.rglob("*.tmp[0-9]*"))


def test_rerun_has_nothing_to_do(tiny_run: tuple[Path, object]) -> None:
    workdir, result = tiny_run
    assert result.returncode == 0
    again = snakemake(["--cores", "2", "--configfile", str(workdir / "tiny.yaml"), "-n"], cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert "Nothing to be done" in again.stdout + again.stderr


class BadFiles(http.server.BaseHTTPRequestHandler):
    """/missing.fa.gz: 404; /login.fa.gz: an HTML page with status 200."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        code, body = (200, b"<!DOCTYPE html><html>Sign in</html>") if self.path == "/login.fa.gz" else (404, b"")
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def bad_server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BadFiles)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


GOOD_BED = "chr1\t100\t200\nchr1\t300\t400\n"
# case -> (genome url, target text, target sha256, message the user sees, path that must not exist)
BAD_INPUTS = {
    "bad_integer": (
        "genome.fa", "chr1\t100\t200\nchr1\tabc\t300\n", None,
        "target.T.bed (from bad.bed), line 2: start and end must be integers, got 'abc' and '300'",
        "data/broken/dataset.h5",
    ),
    "unknown_chromosome": (
        "genome.fa", GOOD_BED + "chrZ\t10\t20\n", None,
        "target.T.bed (from bad.bed), line 3: chromosome 'chrZ' is not in the genome",
        "data/broken/dataset.h5",
    ),
    "past_chromosome_end": (
        "genome.fa", GOOD_BED + "chr2\t4990\t5100\n", None,
        "target.T.bed (from bad.bed), line 3: interval chr2:4990-5100 ends past the end of chr2 (5000 bp)",
        "data/broken/dataset.h5",
    ),
    "checksum_mismatch": (
        "genome.fa", GOOD_BED, "0" * 64,
        "bad.bed: checksum mismatch: expected sha256 " + "0" * 64 + ", got",
        "resources/broken/target.T.bed",
    ),
    "http_404": (
        "{server}/missing.fa.gz", GOOD_BED, None, "{server}/missing.fa.gz: HTTP 404", "resources/broken/genome.fa.gz"
    ),
    "html_page": (
        "{server}/login.fa.gz", GOOD_BED, None,
        "{server}/login.fa.gz: the server returned an HTML page instead of the data file",
        "resources/broken/genome.fa.gz",
    ),
    "truncated_gzip": (
        "cut.fa.gz", GOOD_BED, None, "cut.fa.gz: truncated or corrupt gzip file", "resources/broken/genome.fa.gz"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_stops_the_workflow_with_a_clear_error(case: str, bad_server: str, tmp_path: Path) -> None:
    genome_url, bed, sha, message, absent = (x.format(server=bad_server) if x else x for x in BAD_INPUTS[case])
    rng = random.Random(0)
    fasta = "".join(f">chr{i}\n{''.join(rng.choices('ACGT', k=5000))}\n" for i in (1, 2, 3))
    (tmp_path / "genome.fa").write_text(fasta)
    (tmp_path / "cut.fa.gz").write_bytes(gzip.compress(fasta.encode())[:2000])
    (tmp_path / "bad.bed").write_text(bed)
    cfg = {
        "datasets": {
            "broken": {
                "genome": {"url": genome_url},
                "targets": {"T": {"url": "bad.bed", "sha256": sha}},
                "window": 50,
                "split": {"valid": ["chr2"], "test": ["chr3"]},
            }
        },
        "models": ["kmer_logreg"],
        "balance": ["none"],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake(["--cores", "1", "--configfile", "c.yaml"], cwd=tmp_path, timeout=300)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-3000:]
    assert not (tmp_path / absent).exists()  # the failed job left no output ...
    leftovers = [p for p in tmp_path.rglob("*") if ".tmp" in p.name or (p.name.startswith(".") and p.is_file())]
    assert not [p for p in leftovers if ".snakemake" not in p.parts], leftovers  # ... and no temporary


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if os.geteuid() == 0:
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed and we are not root to install it")


def test_report_renders_in_chromium(tiny_run: tuple[Path, object], tmp_path: Path) -> None:
    workdir, result = tiny_run
    assert result.returncode == 0
    report = workdir / "results" / "report.html"
    made = snakemake(["--report", str(report), "--configfile", str(workdir / "tiny.yaml")], cwd=workdir)
    assert made.returncode == 0, made.stderr[-3000:]
    html = report.read_text()
    expected = ["benchmark.tsv", "summary.tsv", "comparisons.tsv", "published.tsv", "benchmark.md"]
    for dataset in ("tiny_yeast", "srf"):
        expected += [
            dataset,
            *(f"{plot}.png" for plot in ("roc_pr", "calibration", "benchmark", "training", "class_balance", "gc")),
        ]
    missing = [entry for entry in expected if entry not in html]
    assert not missing, missing
    assert "ROC and precision-recall curves on the held-out test split" in html  # a caption
    browser = chromium()
    profile = tmp_path / "profile"
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1280,900",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file(), run.stderr[-2000:]
    pixels = plt.imread(shot)[..., :3]
    assert pixels.std() > 0.05 and (pixels.mean(axis=2) < 0.9).mean() > 0.01  # not a blank page
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    # the report's JavaScript ran and listed our result categories
    assert "Snakemake" in dom and "tiny_yeast" in dom and "srf" in dom and "benchmark" in dom
