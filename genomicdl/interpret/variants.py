"""The variants stage: effect scores of VCF variants under one trained model.

For each allele (multi-allelic records split), a reference and an alternative window
of the model's length are centred on the variant: each allele sits in the middle of
its own window, with the genome's flanks on either side, so SNVs and short indels are
scored alike. Both windows go through the model (with their reverse complements when
the model averages strands, all in one batch); effect scores per task are the
difference P(alt) - P(ref) and the log-odds ratio logit P(alt) - logit P(ref).

REF is checked against the genome; chromosome names are reconciled as in the data
stage (chr1/1, roman/arabic, the dataset's chrom_aliases). Records are read, scored
and written chunk by chunk: memory is flat whatever the VCF's size. Outputs (an
annotated, bgzipped, sites-only VCF; a gzipped TSV; a JSON summary) appear whole or
not at all.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from genomicdl.core.errors import InputError
from genomicdl.core.files import atomic_output
from genomicdl.core.numtext import format_rows
from genomicdl.core.sequence_torch import DeviceEncoder
from genomicdl.io.bgzf import BgzfWriter
from genomicdl.io.genome import ChromNames, Genome, to_codes
from genomicdl.io.store import window_of
from genomicdl.io.vcf import Allele, VcfReader, allele_kind, drop_info

log = logging.getLogger(__name__)

PREFIX = "GDL_"
EPS = 1e-6
BAD = ("malformed", "ref_n", "out_of_bounds", "unknown_chrom")  # governed by bad_records
UNSCORED = ("ref_mismatch", *BAD, "unsupported_allele", "allele_too_long", "no_alt")
LINES_KEPT = 100  # line numbers listed per problem in the summary


# ------------------------------------------------------------------ scorers


class Scorer(Protocol):
    """Probabilities of reference and alternative windows, (n, tasks) each."""

    tasks: list[str]
    window: int

    def score(self, ref: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class NetworkScorer:
    """A trained network; ref, alt and (when it averages strands) both reverse
    complements go through it as one batch, one-hot made on the fly, in inference mode."""

    def __init__(
        self, model: torch.nn.Module, meta: Mapping[str, Any], batch_size: int = 128, device: str = "cpu"
    ) -> None:
        self.model = model.eval().to(device)
        for module in self.model.modules():  # inference only: ReLUs may overwrite their input
            if isinstance(module, torch.nn.ReLU):
                module.inplace = True
        self.tasks = list(meta["tasks"])
        self.window = window_of(meta, "the network's metadata")
        self.rc_average = bool(meta.get("rc_average"))
        self.batch_size = batch_size
        self.batcher = DeviceEncoder(torch.device(device), meta.get("alphabet", "dna"))

    @torch.inference_mode()
    def probabilities(self, codes: np.ndarray) -> np.ndarray:
        """(n, L) codes -> (n, tasks) sigmoid outputs, strand-averaged when asked."""
        out = np.empty((len(codes), len(self.tasks)), dtype=np.float32)
        for lo in range(0, len(codes), self.batch_size):
            c = self.batcher.codes(codes[lo : lo + self.batch_size])
            n = len(c)
            if self.rc_average:
                c = torch.cat([c, self.batcher.reverse_complement(c)])
            p = torch.sigmoid(self.model(self.batcher.one_hot(c)))
            if self.rc_average:
                p = (p[:n] + p[n:]) / 2
            out[lo : lo + n] = p.cpu().numpy()
        return out

    def score(self, ref: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.probabilities(np.concatenate([ref, alt]))
        return p[: len(ref)], p[len(ref) :]


class BaselineScorer:
    """A classical baseline (k-mer features; strands are collapsed in its features)."""

    def __init__(self, model: Any, meta: Mapping[str, Any]) -> None:
        self.model = model
        self.tasks = list(meta["tasks"])
        self.window = window_of(meta, "the baseline's metadata")

    def score(self, ref: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes = np.concatenate([ref, alt])
        lengths = np.full(len(codes), codes.shape[1], np.int64)
        p = np.asarray(self.model.predict(self.model.features(codes, lengths)), dtype=np.float32)
        return p[: len(ref)], p[len(ref) :]


def load_scorer(
    model_path: str, family: str, batch_size: int = 128, device: str = "auto", engine: str = "auto", threads: int = 1
) -> Scorer:
    """The scorer of a saved model of either family (``batch_size`` windows a forward
    pass, twice that with reverse complements: small batches stay in the CPU's caches);
    networks run on the GPU when there is one (``device`` auto) unless told cpu.
    ``engine`` onnxruntime scores networks through onnxruntime on the CPU; auto is PyTorch,
    the faster of the two on CPU in bench/variants.py (README, "Export and fine-tuning")."""
    if family == "torch":
        from genomicdl.training.inference import load_network, resolve_device

        dev = resolve_device("cpu" if device == "cpu" else "auto")
        if engine == "onnxruntime":
            from genomicdl.export.convert import OnnxScorer

            return OnnxScorer.load(model_path, batch_size, threads)
        model, meta = load_network(model_path)
        return NetworkScorer(model, meta, batch_size, str(dev))
    from genomicdl.training.baselines import load_baseline

    model, meta = load_baseline(model_path)
    return BaselineScorer(model, meta)


def effects(p_ref: np.ndarray, p_alt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Difference and log-odds ratio of alternative vs reference probabilities."""
    a = np.clip(p_alt.astype(np.float64), EPS, 1 - EPS)
    r = np.clip(p_ref.astype(np.float64), EPS, 1 - EPS)
    return p_alt - p_ref, np.log(a / (1 - a)) - np.log(r / (1 - r))


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Hand the heap pages freed by a chunk back to the OS (glibc's malloc_trim), so that
    the resident size follows what is live rather than the allocator's fragmentation."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


# ------------------------------------------------------------------ windows


def allele_window(genome: Genome, chrom: str, start: int, end: int, allele: np.ndarray, window: int) -> np.ndarray:
    """``window`` bases with ``allele`` (replacing genome [start, end)) in the middle and
    the genome's flanks around it (N beyond the chromosome)."""
    left = (window - len(allele)) // 2
    right = window - len(allele) - left
    return np.concatenate([genome.codes(chrom, start - left, start), allele, genome.codes(chrom, end, end + right)])


# ------------------------------------------------------------------ the stage


@dataclass
class Tally:
    """Counts of alleles by status, with the first line numbers of each problem."""

    records: int = 0
    alleles: int = 0
    status: Counter = field(default_factory=Counter)
    lines: dict[str, list[int]] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)  # status -> first message (with its hint)

    def add(self, status: str, line: int, message: str = "") -> None:
        self.status[status] += 1
        if message and status not in self.examples:
            self.examples[status] = f"line {line}: {message}"
        if status != "ok":
            kept = self.lines.setdefault(status, [])
            if len(kept) < LINES_KEPT and (not kept or kept[-1] != line):
                kept.append(line)


@dataclass
class Pending:
    """Output entries of the current chunk (in file order) and the windows to score."""

    entries: list[tuple[Allele, str, str, int]] = field(default_factory=list)  # allele, status, genome chrom, slot
    ref: list[np.ndarray] = field(default_factory=list)
    alt: list[np.ndarray] = field(default_factory=list)


def info_key(kind: str, task: str) -> str:
    """A valid INFO key for a task's score (non-word characters become _)."""
    return f"{PREFIX}{kind}_{re.sub(r'[^0-9A-Za-z_.]', '_', task)}"


class VariantScorer:
    """Streams one VCF through one model into the annotated VCF and TSV."""

    def __init__(
        self,
        reader: VcfReader,
        genome: Genome,
        scorer: Scorer,
        settings: Mapping[str, Any],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.reader, self.genome, self.scorer = reader, genome, scorer
        self.settings = settings
        self.max_length = int(settings["max_allele_length"])
        self.names = ChromNames(list(genome.sizes), aliases)
        self.vcf_chroms = reader.chrom_names()
        self.roman = self.names.scheme_of(self.vcf_chroms)
        self.tally = Tally()
        tasks = scorer.tasks
        keys = [info_key("DIFF", t) for t in tasks] + [info_key("LOGOR", t) for t in tasks]
        self.info_prefixes = [f"{k}=".encode() for k in keys]
        self._writer: ThreadPoolExecutor | None = None
        self._written: Future | None = None

    def problem(self, allele: Allele) -> tuple[str, str | None, str]:
        """(status, genome chromosome, message) of an allele before scoring."""
        if allele.problem:
            return "malformed", None, allele.problem
        chrom = self.names.resolve(allele.chrom, self.roman)
        if chrom is None:
            known = ", ".join(sorted(self.genome.sizes)[:5])
            hint = f"chromosome {allele.chrom!r} is not in the genome (genome has e.g. {known})"
            return "unknown_chrom", None, f"{hint}; add it to the dataset's chrom_aliases"
        start, end = allele.pos - 1, allele.pos - 1 + len(allele.ref)
        size = self.genome.sizes[chrom]
        if end > size:
            return (
                "out_of_bounds",
                chrom,
                f"{allele.chrom}:{allele.pos} {allele.ref} ends past the end of {chrom} ({size} bp)",
            )
        if "N" in allele.ref.upper():
            return "ref_n", chrom, f"REF {allele.ref!r} contains N"
        genome_ref = self.genome.codes(chrom, start, end)
        if not np.array_equal(genome_ref, to_codes(allele.ref)):
            bases = "".join("ACGTN"[c] for c in genome_ref)
            where = f"REF {allele.ref} at {allele.chrom}:{allele.pos}"
            return (
                "ref_mismatch",
                chrom,
                f"{where} does not match the genome ({bases} on {chrom}); is the VCF for another assembly?",
            )
        kind = allele_kind(allele.alt, self.max_length, allele.ref)
        return (kind or "ok"), chrom, ""

    def check(self, allele: Allele, status: str, message: str) -> None:
        """Apply the ref_mismatch / bad_records policies (fail raises, naming file and line)."""
        if status == "ref_mismatch" and self.settings["ref_mismatch"] == "fail":
            raise InputError(
                self.reader.name, f"{message} (variants.ref_mismatch: skip leaves such records unscored)", allele.line
            )
        if status in BAD and self.settings["bad_records"] == "fail":
            raise InputError(
                self.reader.name, f"{message} (variants.bad_records: skip counts and skips such records)", allele.line
            )

    def run(self, vcf_out: Any, tsv_out: Any, header_meta: list[str]) -> None:
        tasks = self.scorer.tasks
        info_lines = [
            f'##INFO=<ID={PREFIX}STATUS,Number=1,Type=String,Description="genomicdl: ok, or why the allele '
            f'was not scored ({", ".join(UNSCORED)})">'
        ]
        for task in tasks:
            info_lines.append(
                f"##INFO=<ID={info_key('DIFF', task)},Number=1,Type=Float,"
                f'Description="genomicdl: P(alt) - P(ref) of task {task}">'
            )
            info_lines.append(
                f"##INFO=<ID={info_key('LOGOR', task)},Number=1,Type=Float,"
                f'Description="genomicdl: log-odds ratio, logit P(alt) - logit P(ref), of task {task}">'
            )
        vcf_out.write(self.reader.output_header(info_lines, header_meta, PREFIX, self.vcf_chroms).encode())
        tsv_out.write(("\t".join(tsv_columns(tasks)) + "\n").encode())
        # one writer thread formats, compresses and writes a chunk while the next is
        # scored (the network runs without the GIL); at most one chunk waits, so memory
        # stays bounded by two chunks
        with ThreadPoolExecutor(1, "genomicdl-writer") as writer:
            self._writer, self._written = writer, None
            self._stream(vcf_out, tsv_out)
            if self._written is not None:
                self._written.result()

    def _stream(self, vcf_out: Any, tsv_out: Any) -> None:
        """Check and queue every allele; score and hand over each full chunk."""
        chunk = int(self.settings["chunk_size"])
        pending = Pending()
        last_line = 0
        for allele in self.reader.alleles():
            if allele.line != last_line:
                self.tally.records += 1
                last_line = allele.line
            status, chrom, message = self.problem(allele)
            self.check(allele, status, message)
            self.tally.alleles += 1
            self.tally.add(status, allele.line, message)
            slot = -1
            if status == "ok":
                slot = len(pending.ref)
                self.add_windows(pending, allele, chrom)
            pending.entries.append((allele, status, chrom or "", slot))
            if len(pending.entries) >= chunk:
                self.flush(pending, vcf_out, tsv_out)
                pending = Pending()
        self.flush(pending, vcf_out, tsv_out)

    def add_windows(self, pending: Pending, allele: Allele, chrom: str) -> None:
        start, end = allele.pos - 1, allele.pos - 1 + len(allele.ref)
        window = self.scorer.window
        ref = self.genome.codes(chrom, start, end)
        alt = to_codes(allele.alt)
        if len(ref) == 1 and len(alt) == 1:  # SNV: one read, one change
            ref_w = self.genome.codes(chrom, start - (window - 1) // 2, start - (window - 1) // 2 + window)
            alt_w = ref_w.copy()
            alt_w[(window - 1) // 2] = alt[0]
        else:
            ref_w = allele_window(self.genome, chrom, start, end, ref, window)
            alt_w = allele_window(self.genome, chrom, start, end, alt, window)
        pending.ref.append(ref_w)
        pending.alt.append(alt_w)

    def flush(self, pending: Pending, vcf_out: Any, tsv_out: Any) -> None:
        """Score the chunk's windows, then hand its entries to the writer thread."""
        if not pending.entries:
            return
        n_tasks = len(self.scorer.tasks)
        scores = np.empty((0, 4 * n_tasks))
        if pending.ref:
            p_ref, p_alt = self.scorer.score(np.stack(pending.ref), np.stack(pending.alt))
            diff, logor = effects(p_ref, p_alt)
            scores = np.stack([p_ref, p_alt, diff, logor], axis=2).reshape(len(p_ref), 4 * n_tasks)
        if self._written is not None:
            self._written.result()  # the previous chunk is out (and its errors raised here)
        self._written = self._writer.submit(self.write, pending.entries, scores, vcf_out, tsv_out)

    def write(self, entries_all: list, scores: np.ndarray, vcf_out: Any, tsv_out: Any) -> None:
        """Write a chunk's entries in file order. ``scores`` holds ref, alt, diff and
        log-odds per task, interleaved (the TSV's order); they become ``%.4e`` text through
        genomicdl.core.numtext (many-task models write thousands of numbers a line), ``step``
        entries at a time so that the text stays small."""
        n_tasks = len(self.scorer.tasks)
        blank = "\t".join(["NA"] * (4 * n_tasks)).encode()
        step = 256
        for lo in range(0, len(entries_all), step):
            entries = entries_all[lo : lo + step]
            slots = [slot for _, _, _, slot in entries if slot >= 0]
            rows = scores[slots]
            effect = np.concatenate([rows[:, 2::4], rows[:, 3::4]], axis=1)  # INFO: every DIFF, then every LOGOR
            tsv_text = dict(zip(slots, format_rows(rows))) if slots else {}
            info_text = dict(zip(slots, format_rows(effect, b";", self.info_prefixes))) if slots else {}
            vcf_lines, tsv_lines = [], []
            for allele, status, chrom, slot in entries:
                fixed = [str(allele.line), allele.chrom, str(allele.pos), allele.id, allele.ref, allele.alt, chrom]
                head = "\t".join([*fixed, status]).encode()
                tsv_lines.append(head + b"\t" + tsv_text.get(slot, blank))
                if status == "malformed":
                    continue
                ours = f"{PREFIX}STATUS={status}".encode()
                if slot in info_text:
                    ours += b";" + info_text[slot]
                kept = drop_info(allele.info, PREFIX).encode()
                info = kept + b";" + ours if kept else ours
                site = "\t".join([*fixed[1:5], allele.alt or ".", allele.qual, allele.filter]).encode()
                vcf_lines.append(site + b"\t" + info)
            if vcf_lines:
                vcf_out.write(b"\n".join(vcf_lines) + b"\n")
            tsv_out.write(b"\n".join(tsv_lines) + b"\n")
        release_freed_memory()

    def summary(self) -> dict[str, Any]:
        t = self.tally
        return {
            "records": t.records,
            "alleles": t.alleles,
            "scored": t.status["ok"],
            "status": {s: t.status[s] for s in ("ok", *UNSCORED) if t.status[s]},
            "lines": t.lines,
            "first_problem": t.examples,
            "renamed_chromosomes": dict(sorted(self.names.renamed.items())),
        }


def score_variants(
    vcf_path: str,
    genome_path: str,
    model_path: str,
    family: str,
    settings: Mapping[str, Any],
    out_vcf: str,
    out_tsv: str,
    out_summary: str,
    aliases: Mapping[str, str] | None = None,
    source: str | None = None,
    run: Mapping[str, Any] | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Score every allele of a VCF with one saved model; write the annotated VCF (bgzip),
    the TSV (gzip) and a JSON summary, all or nothing. ``source`` names the VCF in messages."""
    torch.set_num_threads(max(1, threads))
    name = f"{vcf_path} (from {source})" if source and source != vcf_path else vcf_path
    reader = VcfReader(vcf_path, name)
    scorer = load_scorer(model_path, family, engine=settings.get("engine", "auto"), threads=threads)
    return write_scores(reader, genome_path, scorer, settings, out_vcf, out_tsv, out_summary, aliases, run)


def write_scores(
    reader: VcfReader,
    genome_path: str,
    scorer: Scorer,
    settings: Mapping[str, Any],
    out_vcf: str,
    out_tsv: str,
    out_summary: str,
    aliases: Mapping[str, str] | None = None,
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Stream ``reader``'s alleles through ``scorer`` into the three outputs."""
    t0 = time.time()
    meta = [f"##genomicdl_model=<{','.join(f'{k}={v}' for k, v in (run or {}).items())},window={scorer.window}>"]
    with contextlib.ExitStack() as stack, Genome(genome_path) as genome:
        vcf_tmp = stack.enter_context(atomic_output(out_vcf))
        tsv_tmp = stack.enter_context(atomic_output(out_tsv))
        # BGZF (gzip-compatible, indexable) at level 1: compression would otherwise cost
        # as much as a small model for many-task outputs
        vcf_out = stack.enter_context(BgzfWriter(vcf_tmp))
        tsv_out = stack.enter_context(BgzfWriter(tsv_tmp))
        job = VariantScorer(reader, genome, scorer, settings, aliases)
        job.run(vcf_out, tsv_out, meta)
        summary = job.summary()
    summary["seconds"] = round(time.time() - t0, 2)
    log_summary(summary, reader.name)
    with atomic_output(out_summary) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def log_summary(summary: Mapping[str, Any], name: str) -> None:
    """Log what was scored and what was not, with line numbers."""
    log.info(
        "%s: %d records, %d alleles, %d scored in %.1f s",
        name,
        summary["records"],
        summary["alleles"],
        summary["scored"],
        summary["seconds"],
    )
    if summary["renamed_chromosomes"]:
        log.info(
            "chromosome names reconciled: %s", ", ".join(f"{a}->{b}" for a, b in summary["renamed_chromosomes"].items())
        )
    for status, count in summary["status"].items():
        if status == "ok":
            continue
        lines = summary["lines"].get(status, [])
        more = " ..." if count > len(lines) else ""
        log.warning(
            "%s: %d alleles not scored (%s) at lines %s%s", name, count, status, ", ".join(map(str, lines)), more
        )
        if status in summary.get("first_problem", {}):
            log.warning("%s: first of them, %s", name, summary["first_problem"][status])
    checked = summary["scored"] + summary["status"].get("ref_mismatch", 0)
    if checked and summary["status"].get("ref_mismatch", 0) > checked / 2:
        log.warning("%s: REF disagrees with the genome for most records: is the VCF for another assembly?", name)


def tsv_columns(tasks: Sequence[str]) -> list[str]:
    """Columns of the scores TSV."""
    cols = ["line", "chrom", "pos", "id", "ref", "alt", "genome_chrom", "status"]
    for task in tasks:
        cols += [f"ref_{task}", f"alt_{task}", f"diff_{task}", f"logodds_{task}"]
    return cols

