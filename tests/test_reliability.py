"""Trust under faults (issue 13): path-safe names, integrity where data is used, bounded
reads of hostile input, stale temporaries of killed runs, resume after kill -9."""

from __future__ import annotations

import errno
import gzip
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import DATA, DEMO, REPO, snakemake

from genomicdl.config import validation as gconfig
from genomicdl.core.errors import ConfigError, DiskFullError, InputError
from genomicdl.core.files import (
    atomic_output,
    bounded_lines,
    csv_rows,
    disk_full,
    disk_full_error,
    first_line,
    open_text,
    printable_prefix,
    remove_stale_temporaries,
)
from genomicdl.evaluation.evaluate import evaluate_run
from genomicdl.io.integrity import record_integrity, sidecar_path, verify_input
from genomicdl.io.store import StoreWriter
from genomicdl.io.tables import field_limit, iter_records
from genomicdl.kinds.targets import Target
from genomicdl.training.baselines import train_baseline
from genomicdl.training.checkpoints import load_checkpoint, save_checkpoint
from genomicdl.training.rebalance import rebalance

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
UNSAFE = ["..", ".", ".hidden", "a/b", "-rf", "", "../x"]


def genome_config() -> dict:
    return {
        "datasets": {
            "d": {
                "genome": {"url": str(DEMO / "yeast" / "genome.fa.gz")},
                "targets": {"Reb1": {"url": str(DEMO / "yeast" / "Reb1.bed")}},
                "split": {"valid": ["chrXVI"], "test": ["chrIV"]},
            }
        }
    }


def table_config() -> dict:
    return {"datasets": {"t": {"table": {"url": "t.tsv", "label_columns": ["label"]}}}}


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---------------------------------------------------------------- path-safe names


def _rename_dataset(cfg: dict, name: str) -> dict:
    cfg["datasets"] = {name: cfg["datasets"]["d"]}
    return cfg


def _rename_task(cfg: dict, name: str) -> dict:
    cfg["datasets"]["d"]["targets"] = {name: cfg["datasets"]["d"]["targets"]["Reb1"]}
    return cfg


def _label_column(cfg: dict, name: str) -> dict:
    cfg = table_config()
    cfg["datasets"]["t"]["table"]["label_columns"] = [name]
    return cfg


def _fasta_task(cfg: dict, name: str) -> dict:
    cfg = table_config()
    cfg["datasets"]["t"]["table"]["task"] = name
    return cfg


def _model(cfg: dict, name: str) -> dict:
    cfg["models"] = [name]
    return cfg


def _model_params(cfg: dict, name: str) -> dict:
    cfg["model_params"] = {name: {}}
    return cfg


WHERE = [_rename_dataset, _rename_task, _label_column, _fasta_task, _model, _model_params]


@pytest.mark.parametrize("where", WHERE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", UNSAFE)
def test_every_name_that_becomes_a_path_must_be_path_safe(where, name: str) -> None:
    cfg = where(genome_config(), name)
    with pytest.raises(ConfigError, match=r"(path-safe|unknown model|does not match)"):
        gconfig.validate(cfg, SCHEMA)


def test_path_safe_names_are_accepted_and_checked_after_the_schema_too() -> None:
    cfg = _rename_dataset(genome_config(), "K562_v1.2-b")
    gconfig.validate(cfg, SCHEMA)
    with pytest.raises(ConfigError, match=r"config key datasets: '\.\.' is not a path-safe name"):
        gconfig.check_names({"datasets": {"..": {}}})


def test_dataset_named_dotdot_is_refused_by_the_workflow_before_any_job(tmp_path: Path) -> None:
    """The issue's case, end to end: outputs of `..` landed in the working dir's parent."""
    work = tmp_path / "work"
    work.mkdir()
    cfg = _rename_dataset(genome_config(), "..")
    (work / "c.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake(["--cores", "1", "--configfile", "c.yaml"], cwd=work)
    assert result.returncode != 0
    assert "is not a path-safe name" in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert not (work / "data").exists() and not (work / "results").exists()


# ---------------------------------------------------------------- chromosome aliases


def test_valid_and_test_chromosome_the_same_under_an_alias_is_a_config_error(tmp_path: Path) -> None:
    cfg = genome_config()
    cfg["datasets"]["d"]["split"] = {"valid": ["chrIV"], "test": ["chr4"]}
    with pytest.raises(ConfigError, match=r"chrIV \(valid\) and chr4 \(test\) are the same chromosome"):
        gconfig.validate(cfg, SCHEMA)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake(["--cores", "1", "-n", "--configfile", "c.yaml"], cwd=tmp_path)
    assert result.returncode != 0
    assert "same chromosome under another name" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("valid", "test", "aliases", "clash"),
    [
        (["chrM"], ["MT"], {}, True),
        (["chrXVI"], ["chr4"], {}, False),
        (["chrX"], ["chr10"], {}, False),  # a lone X is the sex chromosome, not roman ten
        (["scaffold_7"], ["chr7"], {"scaffold_7": "chr7"}, True),
        (["chrXIV"], ["14"], {}, True),
    ],
)
def test_alias_clashes(valid: list[str], test: list[str], aliases: dict, clash: bool) -> None:
    cfg = genome_config()
    cfg["datasets"]["d"]["split"] = {"valid": valid, "test": test}
    cfg["datasets"]["d"]["chrom_aliases"] = aliases
    if clash:
        with pytest.raises(ConfigError, match="same chromosome"):
            gconfig.validate(cfg, SCHEMA)
    else:
        gconfig.validate(cfg, SCHEMA)


# ---------------------------------------------------------------- bounded reads


def test_error_messages_quote_a_short_printable_prefix_only() -> None:
    passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" * 10
    shown = printable_prefix(passwd)
    assert len(shown) <= 40 + 5 and "\n" not in shown and shown.endswith("...'")
    assert printable_prefix(b"\x00\x1b[31mred\xff") == "'??[31mred?'"


def _gzip_bomb(path: Path, mib: int) -> Path:
    zeros = b"\0" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as fh:
        for _ in range(mib):
            fh.write(zeros)
    return path


def test_gzip_bomb_without_newline_fails_fast_with_bounded_memory(tmp_path: Path) -> None:
    bomb = _gzip_bomb(tmp_path / "bomb.tsv.gz", 256)  # 256 MiB of zeros, no newline
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    start = time.monotonic()
    with pytest.raises(InputError, match=r"bomb.tsv.gz, line 1: line longer than 1,048,576 characters"):
        first_line(bomb)
    elapsed = time.monotonic() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 5, elapsed
    assert peak < 32 << 20, peak


def test_bounded_lines_pass_ordinary_lines_through(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n\n1\t2\nlast-without-newline")
    with open_text(path) as fh:
        assert list(bounded_lines(fh, path=path, limit=32)) == ["a\tb\n", "\n", "1\t2\n", "last-without-newline"]
    assert first_line(path) == "a\tb\n"


def test_csv_field_limit_is_the_configured_maximum_and_names_the_line(tmp_path: Path) -> None:
    """A 202 kb field: the csv module's 131,072 default dies without a line number."""
    path = tmp_path / "big.tsv"
    path.write_text("id\tsequence\tlabel\n" + "r1\tACGT\t1\n" + "r2\t" + "A" * 202_000 + "\t0\n")
    with open_text(path) as fh:
        rows = list(csv_rows(fh, path=path, delimiter="\t", max_field=300_000))
    assert [n for n, _ in rows] == [1, 2, 3] and len(rows[2][1][1]) == 202_000
    with open_text(path) as fh, pytest.raises(InputError, match=r"big.tsv, line 3: .*limit is 100,000 characters"):
        list(csv_rows(fh, path=path, delimiter="\t", max_field=100_000))


def _table(**overrides: object) -> dict:
    """A table's reading settings as the schema fills them in, max_field for max_length 10,000."""
    cfg = gconfig.validate(table_config(), SCHEMA)["datasets"]["t"]["table"]
    return {**cfg, "max_field": field_limit(10_000), **overrides}


def test_tables_read_a_gzip_bomb_with_a_bound(tmp_path: Path) -> None:
    """The table reader (not only the helpers) stops at the bound: csv.reader read the whole line."""
    bomb = _gzip_bomb(tmp_path / "bomb.tsv.gz", 256)
    tracemalloc.start()
    start = time.monotonic()
    with pytest.raises(InputError, match=r"bomb.tsv.gz, line 1: line longer than 1,048,577 characters"):
        list(iter_records(bomb, _table()))
    elapsed, peak = time.monotonic() - start, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 5 and peak < 64 << 20, (elapsed, peak)
    fasta = tmp_path / "bomb.fa.gz"
    with gzip.open(fasta, "wb") as fh:
        fh.write(b">r1 class: 1\n")
        for _ in range(8):
            fh.write(b"A" * (1 << 20) + b"\n")  # one record of 8 MiB in 1 MiB lines
    with pytest.raises(InputError, match=r"bomb.fa.gz, line 1: record longer than 1,048,576 characters"):
        list(iter_records(fasta, _table(format="fasta")))


def test_a_202_kb_table_field_is_read_and_a_longer_one_names_its_line(tmp_path: Path) -> None:
    """The csv module's 131,072 default died without a line number."""
    path = tmp_path / "t.tsv"
    path.write_text("sequence\tlabel\nACGT\t1\n" + "A" * 202_000 + "\t0\n" + "C" * 2_000_000 + "\t1\n")
    records = iter_records(path, _table())
    assert [len(next(records).seq) for _ in range(2)] == [4, 202_000]
    with pytest.raises(InputError, match=r"t.tsv, line 4: line longer than 1,048,577 .*raise the dataset's max_length"):
        next(records)
    assert [len(r.seq) for r in iter_records(path, _table(max_field=field_limit(2_000_000)))][-1] == 2_000_000


def test_a_table_pointed_at_another_file_quotes_a_short_printable_prefix_only(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\tsecret-second-field\x1b[31m\n" + "daemon:x:1:1\n" * 50)
    with pytest.raises(InputError) as caught:
        list(iter_records(passwd, _table(format="tsv")))
    message = str(caught.value)
    assert message.endswith("the header starts 'root:x:0:0:root:/root:/bin/bash?secret-s...'")
    assert "daemon" not in message and "\x1b" not in message and len(message) < len(str(passwd)) + 140


# ---------------------------------------------------------------- stale temporaries


def test_only_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "dataset.h5"
    dead, alive = dead_pid(), os.getppid()
    stale = [tmp_path / f".dataset.h5.tmp{dead}", tmp_path / f".dataset.h5.tmp{dead}.fai"]
    kept = [tmp_path / f".dataset.h5.tmp{alive}", tmp_path / f".dataset.h5.tmp{os.getpid()}", tmp_path / ".other.tmp1"]
    for path in stale + kept:
        path.write_text("x")
    (tmp_path / f".dataset.h5.bed-{dead}-abc").mkdir()
    (tmp_path / f".dataset.h5.bed-{dead}-abc" / "peaks.bed").write_text("chr1\t1\t2\n")
    (tmp_path / f".dataset.h5.bed-{alive}-xyz").mkdir()
    removed = remove_stale_temporaries(out)
    assert sorted(p.name for p in removed) == sorted([p.name for p in stale] + [f".dataset.h5.bed-{dead}-abc"])
    assert all(p.exists() for p in kept) and (tmp_path / f".dataset.h5.bed-{alive}-xyz").is_dir()


def test_atomic_output_removes_what_a_killed_writer_of_the_same_file_left(tmp_path: Path) -> None:
    left = tmp_path / f".model.pt.tmp{dead_pid()}"
    left.write_bytes(b"half a checkpoint")
    with atomic_output(tmp_path / "model.pt") as tmp:
        tmp.write_bytes(b"whole")
    assert not left.exists() and (tmp_path / "model.pt").read_bytes() == b"whole"


def test_disk_full_is_recognised_and_explained(tmp_path: Path) -> None:
    with pytest.raises(OSError) as caught, open("/dev/full", "wb") as fh:  # a real ENOSPC
        fh.write(b"x" * 65536)
        fh.flush()
    assert caught.value.errno == errno.ENOSPC and disk_full(caught.value)
    message = str(disk_full_error(str(tmp_path / "dataset.h5")))
    assert message.startswith(f"no space left on the device while writing {tmp_path / 'dataset.h5'}")
    assert "MB free" in message and "rerun" in message and "\n" not in message


def test_disk_full_during_a_checkpoint_write_is_one_line_and_the_last_generation_survives(tmp_path: Path) -> None:
    """The temporary the writer opens is pointed at /dev/full: a real ENOSPC mid-write
    (torch's own writer would only say "unexpected pos")."""
    checkpoint = tmp_path / "checkpoint.pt"
    first = {"format": "f", "fingerprint": "x", "epoch": 1, "w": torch.ones(3)}
    save_checkpoint(first, checkpoint)
    (tmp_path / f".checkpoint.pt.tmp{os.getpid()}").symlink_to("/dev/full")
    with pytest.raises(DiskFullError) as caught:
        save_checkpoint({**first, "epoch": 2, "w": torch.zeros(100_000)}, checkpoint)
    message = str(caught.value)
    assert message.startswith(f"no space left on the device while writing {checkpoint} (")
    assert message.endswith("and rerun: training resumes from the last checkpoint") and "\n" not in message
    assert not checkpoint.exists() and not list(tmp_path.glob(".checkpoint.pt.tmp*"))
    assert load_checkpoint(checkpoint, "f", "x")["epoch"] == 1  # the previous generation


def test_a_truncated_checkpoint_falls_back_to_the_previous_generation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    for epoch in (1, 2):
        save_checkpoint({"format": "f", "fingerprint": "x", "epoch": epoch, "w": torch.randn(256, 256)}, checkpoint)
    with open(checkpoint, "r+b") as fh:
        fh.truncate(checkpoint.stat().st_size - 1000)
    with caplog.at_level(logging.WARNING, logger="genomicdl"):
        assert load_checkpoint(checkpoint, "f", "x")["epoch"] == 1
    assert f"checkpoint {checkpoint} is unreadable (" in caplog.text
    assert (tmp_path / "checkpoint.pt.bad").is_file() and not checkpoint.exists()


# ---------------------------------------------------------------- integrity records


def test_verify_input_is_cheap_when_unchanged_and_names_the_file_when_edited(tmp_path: Path) -> None:
    path = tmp_path / "table.tsv"
    path.write_text("sequence\tlabel\nACGT\t1\n")
    from genomicdl.core.files import sha256sum

    record_integrity(path, sha256=sha256sum(path), url="https://example.org/table.tsv")
    verify_input(path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes
    verify_input(path)
    assert yaml.safe_load(sidecar_path(path).read_text())["mtime_ns"] == path.stat().st_mtime_ns
    with open(path, "a") as fh:
        fh.write("GGGG\t0\n")
    with pytest.raises(InputError, match=rf"{path}: changed since it was downloaded .*rm {path}"):
        verify_input(path)


def test_a_file_without_record_is_recorded_and_a_pin_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "old.bed"
    path.write_text("chr1\t1\t2\n")
    verify_input(path)
    assert sidecar_path(path).is_file()
    with pytest.raises(InputError, match="expected 0000"):
        verify_input(path, sha256="0" * 64)


# ---------------------------------------------------------------- end to end


def srf_config(work: Path) -> Path:
    """One small table dataset (the preprocess stage only is asked for)."""
    inputs = work / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "SRF_AC.head300.seq.gz", inputs / "train.seq.gz")
    cfg = {
        "datasets": {
            "srf": {
                "table": {
                    "train": {"url": "inputs/train.seq.gz"},
                    "sequence_column": "seq",
                    "label_columns": ["Bound"],
                    "id_column": "EventID",
                },
                "negatives": {"strategy": "shuffle", "per_positive": 1},
                "split": {"valid": 0.2, "test": 0.2},
            }
        },
        "models": ["kmer_logreg"],
        "balance": ["none"],
    }
    path = work / "srf.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def test_edited_resource_is_caught_where_it_is_used_and_stale_temporaries_go(tmp_path: Path) -> None:
    cfg = srf_config(tmp_path)
    args = ["data/srf/dataset.h5", "--cores", "1", "--configfile", str(cfg)]
    (tmp_path / "data" / "srf").mkdir(parents=True)
    dead = dead_pid()
    planted = [tmp_path / f"data/srf/.dataset.h5.tmp{dead}", tmp_path / f"data/srf/.summary.json.tmp{dead}"]
    for path in planted:
        path.write_bytes(b"left by a killed run")
    (tmp_path / f"data/srf/.dataset.h5.bed-{dead}-q1w2").mkdir()
    first = snakemake(args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    resource = tmp_path / "resources/srf/table.train.seq.gz"
    assert sidecar_path(resource).is_file()
    assert not any(p.exists() for p in planted) and not list((tmp_path / "data/srf").glob(".dataset.h5.bed-*"))
    # the case: an edited input was used silently (fewer records, rc 0)
    with gzip.open(resource, "rt") as fh:
        lines = fh.readlines()
    with gzip.open(resource, "wt") as fh:
        fh.writelines(lines[: len(lines) // 2])
    second = snakemake(args, cwd=tmp_path)
    assert second.returncode != 0
    assert f"{Path('resources/srf/table.train.seq.gz')}: changed since it was downloaded" in second.stderr
    assert "rm resources/srf/table.train.seq.gz" in second.stderr
    resource.unlink()
    third = snakemake(args, cwd=tmp_path)
    assert third.returncode == 0, third.stderr[-3000:]


def test_kill_9_then_one_resume_command_finishes_the_run(tmp_path: Path) -> None:
    """kill -9 leaves Snakemake's lock; `make resume` (python -m genomicdl.core.resume) unlocks
    (no live Snakemake in this directory) and reruns, with incomplete outputs rerun."""
    cfg = srf_config(tmp_path)
    args = ["data/srf/dataset.h5", "-s", str(REPO / "workflow" / "Snakefile"), "--cores", "1", "--configfile", str(cfg)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *args],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((tmp_path / ".snakemake" / "incomplete").glob("*")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list((tmp_path / ".snakemake" / "locks").glob("*")), "the kill left no lock: nothing tested"
    blocked = snakemake(["data/srf/dataset.h5", "--cores", "1", "--configfile", str(cfg)], cwd=tmp_path)
    assert blocked.returncode != 0 and "cannot be locked" in blocked.stdout + blocked.stderr
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    make = ["make", "-f", str(REPO / "Makefile"), "resume", f"BIN={Path(sys.executable).parent}", "CORES=1"]
    resumed = subprocess.run([*make, f"ARGS={' '.join(args)}"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "removing the lock a killed run left" in resumed.stderr
    assert (tmp_path / "data/srf/dataset.h5").is_file()
    assert not [p for p in tmp_path.rglob(".*.tmp*")]


def test_resume_refuses_while_a_snakemake_runs_in_the_directory(tmp_path: Path) -> None:
    from genomicdl.core.resume import live_snakemake

    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "snakemake", "--directory", str(tmp_path)],
        cwd=tmp_path,
    )
    try:
        time.sleep(0.3)
        assert proc.pid in live_snakemake(tmp_path)
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in live_snakemake(tmp_path)


# ---------------------------------------------------------------- threshold fallback


def _one_class_validation_store(path: Path) -> Path:
    """300 rows of 40 bp, one task (positives carry GGGGGGGG); validation rows are all negative."""
    rng = np.random.default_rng(2)
    seq = rng.integers(0, 4, size=(300, 40)).astype(np.uint8)
    labels = (rng.random(300) < 0.5).astype(np.uint8)
    split = np.repeat(np.array([0, 1, 2], np.uint8), [200, 50, 50])
    labels[split == 1] = 0
    seq[labels == 1, 10:18] = 2
    writer = StoreWriter(path, window=40, target=Target("binary", ("task1",)), chroms=["chr1"])
    writer.append(seq, labels=labels[:, None], split=split, chrom=np.zeros(300, np.uint16),
                  start=np.arange(300) * 100, gc=np.zeros(300, np.float32), kind=np.zeros(300, np.uint8))  # fmt: skip
    writer.close()
    return path


def test_a_threshold_that_cannot_be_chosen_on_validation_is_announced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """kmer_logreg used 0.5 silently when validation had one class (e.g. valid and test the
    same chromosome under an alias)."""
    from test_train import train_cfg

    store = str(_one_class_validation_store(tmp_path / "d.h5"))
    rebalance(store, "none", 1, 1.0, tmp_path / "index.npz", tmp_path / "counts.tsv")
    model = str(tmp_path / "model.npz")
    train_baseline(store=store, index=str(tmp_path / "index.npz"), model="kmer_logreg", params={}, train=train_cfg(),
                   seed=1, double_stranded=True, out_model=model, out_stats=str(tmp_path / "s.json"))  # fmt: skip
    run = {"dataset": "d", "model": "kmer_logreg", "balance": "none", "seed": 1}
    with caplog.at_level(logging.WARNING, logger="genomicdl"):
        metrics = evaluate_run(
            store=store, model=model, family="sklearn", run=run, settings={"bootstrap": 0, "min_positives": 1},
            out_predictions=str(tmp_path / "p.tsv.gz"), out_metrics=str(tmp_path / "m.tsv"),
            out_arrays=str(tmp_path / "a.npz"), device="cpu",
        )  # fmt: skip
    assert metrics.loc[(metrics["split"] == "test") & (metrics["metric"] == "threshold"), "value"].tolist() == [0.5]
    notices = [r for r in caplog.records if "F1 threshold cannot be chosen" in r.getMessage()]
    assert len(notices) == 1 and getattr(notices[0], "console", False)  # shown on the console too
    assert notices[0].getMessage() == (
        f"{store}: task 'task1' has 50 validation rows, 0 positive: the F1 threshold cannot be chosen on validation, "
        "so accuracy, F1 and MCC use 0.5; give the validation split both classes (config key datasets.d.split.valid)"
    )


def test_yes_no_labels_are_read_with_one_console_notice_per_file_and_column(tmp_path: Path) -> None:
    """Real Snakemake: yes/no labels were accepted without notice."""
    rng = np.random.default_rng(1)
    rows = ["sequence\tlabel"] + [
        "".join(rng.choice(list("ACGT"), 50)) + "\t" + ("yes" if i % 2 else "no") for i in range(60)
    ]
    (tmp_path / "t.tsv").write_text("\n".join(rows) + "\n")
    cfg = {
        "datasets": {"yn": {"table": {"url": "t.tsv", "sequence_column": "sequence", "label_columns": ["label"]},
                            "split": {"valid": 0.2, "test": 0.2}}},
        "models": ["kmer_logreg"],
        "balance": ["none"],
    }  # fmt: skip
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake(["data/yn/dataset.h5", "--cores", "1", "--configfile", "c.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    notices = [line for line in result.stderr.splitlines() if "written yes/no" in line]
    assert notices == [
        "genomicdl (preprocess): resources/yn/table.tsv: column 'label': 60 labels written yes/no were read as "
        "yes = 1, no = 0; write 0/1 to silence this"
    ]


# ---------------------------------------------------------------- memory of long records

RECORD_BYTES = 200  # workflow/rules/common.smk: preprocess memory per character of max_length

_PEAK = """
import resource, sys
from pathlib import Path
from genomicdl.config import validation as g
from genomicdl.config.specs import dataset_spec
from genomicdl.datasets.preprocess import build_dataset
n, work = int(sys.argv[1]), Path(sys.argv[2])
schema = g.load_schema(Path(sys.argv[3]))
table = {"table": {"url": str(work / "t.tsv"), "label_columns": ["label"]}, "max_length": n}
ds = g.validate({"datasets": {"t": table}}, schema)["datasets"]["t"]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
build_dataset(
    dataset_spec("t", ds), {"table": str(work / "t.tsv")}, None, *(str(work / f) for f in ("d.h5", "s.json", "gc.tsv"))
)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)
"""


def _long_record_table(path: Path, longest: int) -> Path:
    rng = np.random.default_rng(3)
    lengths = [longest if i % 20 == 0 else 500 for i in range(40)]
    rows = ["".join(rng.choice(list("ACGT"), n)) + f"\t{i % 2}" for i, n in enumerate(lengths)]
    path.write_text("sequence\tlabel\n" + "\n".join(rows) + "\n")
    return path


def test_preprocess_memory_request_tracks_the_longest_record(tmp_path: Path) -> None:
    """One long record widens every row and buffer: the request grows with max_length, by
    at least what a real preprocess of a 1.5 Mb record uses per character."""
    _long_record_table(tmp_path / "t.tsv", 1_500_000)
    code = [sys.executable, "-c", _PEAK, "1500000", str(tmp_path), str(REPO / "workflow/schemas/config.schema.yaml")]
    peak = subprocess.run(code, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert peak.returncode == 0, peak.stderr[-2000:]
    used = int(peak.stdout.split()[-1])
    assert used < RECORD_BYTES * 1_500_000 + 2 * (tmp_path / "t.tsv").stat().st_size, used
    (tmp_path / "t.tsv").write_text("sequence\tlabel\nACGT\t1\n")
    cfg = {"datasets": {"t": {"table": {"url": "t.tsv", "label_columns": ["label"]}, "max_length": 20_000_000}}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    assert snakemake(["resources/t/table.tsv", "--cores", "1", "--configfile", "c.yaml"], cwd=tmp_path).returncode == 0
    dry = snakemake(["data/t/dataset.h5", "-n", "--configfile", "c.yaml"], cwd=tmp_path)
    requested = [line for line in dry.stdout.splitlines() if "mem_mb=" in line]
    assert requested and f"mem_mb={int(20_000_000 * RECORD_BYTES / 2**20 + 200)}," in requested[-1], requested
