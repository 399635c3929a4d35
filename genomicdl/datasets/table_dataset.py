"""The table stage: labelled sequences (one file, or one per split) -> the dataset store.

Two streaming passes. The first validates every record (alphabet, labels for the target
kind, lengths), assigns splits, collects class names and sequence hashes for the
leakage check; the second encodes and writes. Nothing is written when the first pass
finds a problem. Rows keep their own lengths (capped by ``max_length``, with a stated
policy) unless a fixed ``window`` is asked for.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genomicdl.config.specs import TableSpec
from genomicdl.core import sequence
from genomicdl.core.errors import GenomicdlError, InputError
from genomicdl.core.files import write_json_atomic, write_text_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.core.sequence import PAD
from genomicdl.datasets.labels import LabelParser
from genomicdl.datasets.negatives import dinucleotide_shuffle, gc_fraction
from genomicdl.datasets.summary import DatasetReport, per_positive_count
from genomicdl.io.store import KIND_CODE, SPLIT_CODE, SPLITS, StoreWriter
from genomicdl.io.tables import Record, field_limit, iter_records, tasks_of
from genomicdl.kinds import get
from genomicdl.kinds.targets import Target

log = logging.getLogger(__name__)
FLUSH_ROWS = 4096


@dataclass
class Shape:
    """How rows get their length: a fixed ``window`` (centre-crop / pad with the unknown
    code), or their own length capped at ``max_length`` (too_long: error, drop or crop
    by ``crop``: center, ends or start)."""

    window: int | None
    max_length: int
    too_long: str
    crop: str

    def keep(self, n: int, where: str) -> bool:
        """Whether a row of length ``n`` is kept (raises under too_long: error)."""
        if self.window is None and n > self.max_length and self.too_long != "crop":
            if self.too_long == "error":
                raise GenomicdlError(
                    f"{where}: sequence of length {n} is longer than max_length {self.max_length} "
                    "(set too_long: crop or drop, or raise max_length)"
                )
            return False
        return True

    def span(self, n: int) -> tuple[np.ndarray, int]:
        """(indices of the kept residues, the row's length) for a sequence of length ``n``."""
        limit = self.window or self.max_length
        if n <= limit:
            return np.arange(n), n
        if self.crop == "ends":
            head = (limit + 1) // 2
            return np.concatenate([np.arange(head), np.arange(n - (limit - head), n)]), limit
        lo = 0 if self.crop == "start" else (n - limit) // 2
        return np.arange(lo, lo + limit), limit


@dataclass
class FirstPass:
    """What the first pass learns."""

    n: int = 0
    longest: int = 0
    dropped: Counter = field(default_factory=Counter)
    nonstandard: Counter = field(default_factory=Counter)
    pos: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    neg: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    hashes: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    proteins: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: {s: [] for s in SPLITS})


@dataclass
class Folds:
    """Cross-validation by a partition column (``split.folds``): rows whose partition is
    ``fold`` are the test split; validation is the next partition (``fold_valid: next``,
    homology-separated like the test split) or a seeded fraction of the rest."""

    column: str
    values: list[str]
    fold: int
    valid: str | float

    @classmethod
    def of(cls, split: Mapping[str, Any]) -> Folds | None:
        if not split.get("folds"):
            return None
        if split.get("fold") is None:
            raise GenomicdlError("split.folds is set but no fold chosen: the config expands a dataset with folds "
                                 "into <name>_fold<k> datasets (genomicdl.config.plan.expand_folds)")  # fmt: skip
        values = [str(v) for v in (split.get("fold_values") or range(int(split["n_folds"])))]
        return cls(split["folds"], values, int(split["fold"]), split.get("fold_valid", "next"))

    def split(self, rec: Record, path: str, u: float) -> str:
        if rec.group is None:
            raise InputError(path, f"record {rec.id!r} has no value in the folds column {self.column!r}", rec.line)
        if rec.group not in self.values:
            raise InputError(path, f"record {rec.id!r}: partition {rec.group!r} is not one of {self.values} "
                             "(split.n_folds / split.fold_values)", rec.line)  # fmt: skip
        at = self.values.index(rec.group)
        if at == self.fold:
            return "test"
        if self.valid == "next":
            return "valid" if at == (self.fold + 1) % len(self.values) else "train"
        return "valid" if u < float(self.valid) else "train"


class TableDataset:
    """One table dataset's settings, its files and the two passes over them."""

    def __init__(self, spec: TableSpec, files: Mapping[str, str]) -> None:
        self.spec, self.files = spec, files
        self.table, self.seed = spec.table, spec.seed
        self.alphabet = sequence.get(spec.alphabet)
        self.kind = spec.kind
        self.roles = [r for r in ("table", "table.train", "table.valid", "table.test") if r in files]
        self.columns = tasks_of(self.settings(self.roles[0]), files[self.roles[0]])
        for role in self.roles[1:]:
            theirs = tasks_of(self.settings(role), files[role])
            if len(theirs) != len(self.columns) or (theirs != self.columns and not self.overrides(role)):
                raise InputError(files[role], f"label columns {theirs} differ from "
                                 f"{self.columns} of {files[self.roles[0]]}")  # fmt: skip
        self.parser = LabelParser(
            self.kind, columns=self.columns, classes=spec.classes, class_map=spec.class_map,
            separator=self.table["label_separator"], position_separator=self.table["position_separator"],
            multiple=self.table.get("multiple_labels", "error"),
        )  # fmt: skip
        self.folds = Folds.of(spec.split)
        self.shape = Shape(spec.window, int(spec.max_length), spec.too_long, spec.crop)
        split_cfg = spec.split
        self.valid_frac = 0.0 if "table.valid" in files else float(split_cfg["valid"])
        self.test_frac = 0.0 if "table.test" in files else float(split_cfg["test"])

    def overrides(self, role: str) -> dict[str, Any]:
        """Per-file reading settings of table.<split> (e.g. another format or columns)."""
        part = self.table.get(role.split(".")[1]) if "." in role else None
        skip = ("url", "sha256", "labels", "mask")
        return {k: v for k, v in (part or {}).items() if k not in skip and v is not None}

    def settings(self, role: str) -> dict[str, Any]:
        """How to read one file: the table's settings, the file's overrides, the folds column."""
        out = {**self.table, **self.overrides(role)}
        out["group_column"] = self.spec.split.get("folds") if "." not in role or role == "table.train" else None
        out["max_field"] = field_limit(max(self.spec.window or 0, int(self.spec.max_length)))
        return out

    def stream(self, role: str) -> Iterator[tuple[Record, str]]:
        """Records of one file with their split (the same seeded draws in both passes).
        Train/valid records of a subsampled table are kept with probability ``subsample``."""
        rng = np.random.default_rng(stable_seed("table-split", self.seed, role))
        keep = np.random.default_rng(stable_seed("table-subsample", self.seed, role))
        fraction = float(self.table.get("subsample") or 1.0)
        fixed = role.split(".")[1] if "." in role else None
        paired = {k: self.files[f"{role}.{k}"] for k in ("labels", "mask") if f"{role}.{k}" in self.files}
        for index, rec in enumerate(iter_records(self.files[role], self.settings(role), paired)):
            u, kept = rng.random(), keep.random() < fraction
            if fixed in ("valid", "test"):
                split = fixed
            elif rec.split is not None:
                split = rec.split
            elif self.folds is not None:
                split = self.folds.split(rec, self.files[role], u)
            elif self.spec.split.get("families"):
                split = self.family_splits(role)[index]
            elif self.locus_splits(role) is not None:
                split = self.locus_splits(role)[index]
            else:
                split = "valid" if u < self.valid_frac else "test" if u < self.valid_frac + self.test_frac else "train"
            if split == "test" or kept:
                yield rec, split

    def family_splits(self, role: str) -> list[str]:
        """Split of every record of one file when whole families of near-identical
        sequences go to one split (genomicdl.datasets.families; computed once per file)."""
        cache = self.__dict__.setdefault("_families", {})
        if role not in cache:
            from genomicdl.datasets.families import family_split

            seqs = [rec.seq.upper() for rec in iter_records(self.files[role], self.settings(role), {})]
            splits, fam = family_split(seqs, self.valid_frac, self.test_frac, self.seed,
                                       max_mismatches=int(self.spec.split["families"]["max_mismatches"]))  # fmt: skip
            log.info("%s: %d sequences in %d families (within %d mismatches), whole families split",
                     self.files[role], len(seqs), len(set(fam.tolist())),
                     self.spec.split["families"]["max_mismatches"])  # fmt: skip
            cache[role] = list(splits)
            self.__dict__.setdefault("near_duplicates", {})[role] = self._near_duplicates(seqs, splits)
        return cache[role]

    def locus_splits(self, role: str) -> list[str] | None:
        """Split of every record of one file when its ids carry coordinates and
        ``split.by_locus`` asks for it (auto: when every id does): overlapping windows go
        to one split together (genomicdl.datasets.loci). None when records are drawn one by one."""
        cache = self.__dict__.setdefault("_loci", {})
        if role in cache:
            return cache[role]
        setting, path = self.spec.split.get("by_locus", "auto"), self.files[role]
        cache[role] = None
        if setting is False or not (self.valid_frac or self.test_frac):
            return None
        from genomicdl.datasets.loci import locus_splits, parse_locus

        loci = []
        for rec in iter_records(path, self.settings(role), {}):
            if rec.split is not None:  # the file names its splits
                return None
            locus = parse_locus(rec.id)
            if locus is None:
                if setting is True:
                    raise InputError(path, f"record {rec.id!r}: split.by_locus is true but the id carries "
                                     "no coordinates (expected e.g. chr1,+,100,200 or chr1:100-200)",
                                     rec.line)  # fmt: skip
                log.info("%s: record ids carry no coordinates (line %d): records split one by one", path, rec.line)
                return None
            loci.append(locus)
        splits, counts = locus_splits(loci, self.valid_frac, self.test_frac, self.seed,
                                      int(self.spec.split.get("locus_gap", 0)))  # fmt: skip
        log.info("%s: %d windows in %d loci (%d share a locus): whole loci split", path, counts["windows"],
                 counts["loci"], counts["windows_sharing_a_locus"])  # fmt: skip
        self.__dict__.setdefault("locus_report", {})[role] = counts
        cache[role] = splits
        return splits

    def _near_duplicates(self, seqs: list[str], splits: np.ndarray) -> dict[str, int]:
        """Held-out sequences with a training sequence within max_mismatches (the leakage
        check for near-identical sequences; zero by construction of a family split)."""
        from genomicdl.datasets.families import near_duplicates

        k = int(self.spec.split["families"]["max_mismatches"])
        train = [q for q, sp in zip(seqs, splits) if sp == "train"]
        out = {}
        for held in ("valid", "test"):
            other = [q for q, sp in zip(seqs, splits) if sp == held]
            out[f"train/{held}"] = int(near_duplicates(train, other, max_mismatches=k).sum()) if other else 0
        log.info("near-duplicate leakage check (within %d mismatches): %s", k, out)
        return out

    def codes(self, rec: Record, role: str) -> np.ndarray | None:
        """Codes of a record's sequence; None when it has letters outside the alphabet
        and bad_letters is drop (counted); an error naming file, line and letter otherwise."""
        if not rec.seq:
            raise InputError(self.files[role], "empty sequence", rec.line)
        try:
            return sequence.encode(rec.seq, self.alphabet)
        except sequence.AlphabetError as err:
            if self.spec.bad_letters == "drop":
                return None
            raise InputError(self.files[role], f"record {rec.id!r}: {err}", rec.line) from None

    def mostly_unknown(self, codes: np.ndarray) -> bool:
        """Whether more than ``max_n_fraction`` of a DNA/RNA record's letters are N
        (proteins keep every record: X marks a residue, not a placeholder)."""
        limit = float(self.spec.max_n_fraction)
        if limit >= 1.0 or not self.alphabet.has_complement:
            return False
        return float(np.mean(codes == self.alphabet.unknown)) > limit

    @property
    def unknown_reason(self) -> str:
        letter = self.alphabet.unknown_letter
        return f"records more than {float(self.spec.max_n_fraction):.0%} {letter} (max_n_fraction)"

    def labels(self, rec: Record, role: str, n: int) -> Any:
        """The record's labels, kind-shaped; a bad one is an error naming file, line and record."""
        try:
            return self.parser.parse(rec.labels, self.files[role], rec.line, length=n, mask=rec.mask,
                                     position_separator=self.settings(role)["position_separator"])  # fmt: skip
        except InputError as err:
            if err.problem.startswith("record "):
                raise
            raise InputError(err.path, f"record {rec.id!r}: {err.problem}", err.line) from None

    def first_pass(self) -> FirstPass:
        fp = FirstPass()
        classes_known = self.parser.classes is not None or not get(self.kind).has_classes
        if classes_known:
            self.parser.finish_classes()
        for role in self.roles:
            for rec, split in self.stream(role):
                fp.n += 1
                if self.parser.skip(rec.labels):
                    fp.dropped["multiclass records naming several classes (multiple_labels: drop)"] += 1
                    continue
                codes = self.codes(rec, role)
                if codes is None:
                    fp.dropped[f"records with letters outside the {self.alphabet.name} alphabet"] += 1
                    continue
                if not self.shape.keep(len(codes), f"{self.files[role]}, line {rec.line}, record {rec.id!r}"):
                    fp.dropped[f"records longer than max_length {self.shape.max_length}"] += 1
                    continue
                if self.mostly_unknown(codes):
                    fp.dropped[self.unknown_reason] += 1
                    continue
                fp.nonstandard.update(sequence.nonstandard(rec.seq, self.alphabet))
                fp.longest = max(fp.longest, self.shape.span(len(codes))[1])
                if classes_known:
                    y = self.labels(rec, role, len(codes))
                    if get(self.kind).negatives:
                        fp.pos[split] += int(y.any())
                        fp.neg[split] += int((y == 0).any())
                else:
                    self.parser.file_separator = self.settings(role)["position_separator"]
                    self.parser.observe(rec.labels, self.files[role], rec.line)
                    if get(self.kind).per_position:
                        self.labels_length_check(rec, role, len(codes))
                fp.hashes[split].append(stable_seed(codes.tobytes()))
                if self.homology["policy"] != "off":
                    fp.proteins[split].append((f"{role}:{rec.line}", rec.seq))
        if fp.n == 0:
            raise InputError(self.files[self.roles[0]], "no records")
        if not classes_known:
            self.parser.finish_classes()
        return fp

    @property
    def homology(self) -> dict[str, Any]:
        return self.spec.split.get("homology") or {"policy": "off"}

    def labels_length_check(self, rec: Record, role: str, n: int) -> None:
        tokens = self.parser._tokens(rec.labels[0], self.settings(role)["position_separator"])
        if len(tokens) != n:
            raise InputError(self.files[role], f"record {rec.id!r}: per-position labels have length {len(tokens)} "
                             f"but the sequence has {n} residues", rec.line)  # fmt: skip

    def target(self) -> Target:
        classes = tuple(self.parser.classes or ())
        name = self.table["task"] if self.table["task"] != "label" else self.columns[0]
        tasks = get(self.kind).task_names(self.columns, classes, name)
        return Target(self.kind, tasks, classes if get(self.kind).has_classes else (), self.spec.loss)


def _leak_examples(tab: TableDataset, shared: np.ndarray, limit: int = 3) -> str:
    """What the shared sequences are: records per split that carry one, and up to
    ``limit`` of them described (id, file, line, length, unknown letters). A third pass
    over the files, made only when something is shared; memory bounded by ``shared``."""
    want, described = {int(h) for h in shared}, set()
    records: Counter = Counter()
    examples: list[str] = []
    for role in tab.roles:
        for rec, split in tab.stream(role):
            codes = None if tab.parser.skip(rec.labels) else tab.codes(rec, role)
            if codes is None or not tab.shape.keep(len(codes), "") or tab.mostly_unknown(codes):
                continue
            h = stable_seed(codes.tobytes())
            if h not in want:
                continue
            records[split] += 1
            if h not in described and len(examples) < limit:
                described.add(h)
                unknown = f"{float(np.mean(codes == tab.alphabet.unknown)):.0%} {tab.alphabet.unknown_letter}"
                examples.append(f"{rec.id!r} ({tab.files[role]}, line {rec.line}: {len(codes)} letters, {unknown})")
    return f"{sum(records.values())} records ({dict(records)}), e.g. {'; '.join(examples)}"


def _leakage(
    fp: FirstPass, policy: str, tab: TableDataset | None = None
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Sequences shared between splits: the hashes to drop per split, and the counts."""
    sets = {s: np.unique(np.array(h, dtype=np.uint64)) for s, h in fp.hashes.items()}
    leaks = {
        (a, b): np.intersect1d(sets[a], sets[b]) for a, b in (("train", "valid"), ("train", "test"), ("valid", "test"))
    }
    counts = {f"{a}/{b}": len(v) for (a, b), v in leaks.items() if len(v)}
    if counts:
        message = f"leakage: distinct sequences shared between splits: {counts}"
        if tab is not None:
            message += f", carried by {_leak_examples(tab, np.unique(np.concatenate(list(leaks.values()))))}"
        if policy == "fail":
            raise GenomicdlError(f"{message} (set split.leakage: drop to drop them from train/valid, or warn)")
        log.warning("%s; %s", message, "dropping the copies from train/valid" if policy == "drop" else "kept")
    drop = {
        "train": np.union1d(leaks[("train", "valid")], leaks[("train", "test")]),
        "valid": leaks[("valid", "test")],
        "test": np.empty(0, dtype=np.uint64),
    }
    return (drop if policy == "drop" else {s: np.empty(0, np.uint64) for s in SPLITS}), counts


def _homology(fp: FirstPass, settings: Mapping[str, Any]) -> tuple[set[str], dict[str, Any] | None]:
    """Training and validation proteins with a test homologue (genomicdl.datasets.homology): the
    record keys to drop (policy drop), and the check's summary; fails under policy fail."""
    if settings["policy"] == "off":
        return set(), None
    from genomicdl.datasets.homology import find_homologues

    report = find_homologues(
        fp.proteins["test"], fp.proteins["train"] + fp.proteins["valid"], identity=float(settings["identity"]),
        evalue=float(settings["evalue"]), min_aligned=int(settings["min_aligned"]), cpus=int(settings["cpus"]),
    )  # fmt: skip
    summary = {**report.summary(), "policy": settings["policy"],
               "examples": [vars(h) for h in report.hits[:20]]}  # fmt: skip
    if report.hits and settings["policy"] == "fail":
        raise GenomicdlError(f"homology: {len(report.queries_with_homologue)} test proteins have a training or "
                             f"validation homologue at >= {settings['identity']:.0%} identity "
                             "(set split.homology.policy: drop to drop them from training)")  # fmt: skip
    if report.hits and settings["policy"] == "warn":
        log.warning("homology: %d training/validation proteins have a test homologue (kept: policy warn)",
                    len(report.offending))  # fmt: skip
    return (report.offending if settings["policy"] == "drop" else set()), summary


class RowBuffer:
    """Rows waiting to be written in one block."""

    def __init__(self, writer: StoreWriter, report: DatasetReport, target: Target, nucleotide: bool) -> None:
        self.writer, self.report, self.target, self.nucleotide = writer, report, target, nucleotide
        self.rows: list[tuple[np.ndarray, Any, int, int, str, np.ndarray | None]] = []
        self.shortest, self.longest = None, 0  # row lengths written (after fitting)

    def add(
        self, codes: np.ndarray, labels: Any, split: int, origin: int, rid: str, positions: np.ndarray | None
    ) -> None:
        self.rows.append((codes, labels, split, origin, rid, positions))
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        width = self.writer.window
        n = len(self.rows)
        seq = np.full((n, width), PAD, np.uint8)
        lengths = np.array([len(r[0]) for r in self.rows], np.int32)
        self.shortest = min(int(lengths.min()), self.shortest or int(lengths.min()))
        self.longest = max(int(lengths.max()), self.longest)
        for i, r in enumerate(self.rows):
            seq[i, : len(r[0])] = r[0]
        positions = None
        if self.target.k.per_position:
            positions = np.full((n, width), -1, np.int8)
            for i, r in enumerate(self.rows):
                positions[i, : len(r[5])] = r[5]
            labels = np.zeros((n, 0), np.uint8)
        else:
            labels = np.stack([np.asarray(r[1]) for r in self.rows])
        split = np.array([r[2] for r in self.rows], np.uint8)
        origin = np.array([r[3] for r in self.rows], np.uint8)
        gc = gc_fraction(seq)[0] if self.nucleotide else np.zeros(n, np.float32)
        self.writer.append(seq, labels=labels, split=split, lengths=lengths, gc=gc, kind=origin,
                           ids=[r[4] for r in self.rows], positions=positions)  # fmt: skip
        self.report.add(split, self.target.k.report_view(labels, self.target.classes), gc, origin)
        self.rows.clear()


def _fit_codes(shape: Shape, codes: np.ndarray, unknown: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(codes fitted to the shape, kept indices, -1 crop / +1 pad / 0 as is)."""
    keep, n = shape.span(len(codes))
    fitted = codes[keep]
    if shape.window is not None and n < shape.window:
        out = np.full(shape.window, unknown, np.uint8)
        lo = (shape.window - n) // 2
        out[lo : lo + n] = fitted
        return out, keep, 1
    return fitted, keep, -1 if len(keep) < len(codes) else 0


def _skipped(tab: TableDataset, rec: Record, role: str, split: str, codes: np.ndarray | None, *,
             homologues: set[str], drop: Mapping[str, np.ndarray], report: DatasetReport) -> bool:  # fmt: skip
    """Whether a record stays out of the store (counted in the report where it is news)."""
    if codes is None or not tab.shape.keep(len(codes), "") or tab.mostly_unknown(codes):
        return True
    if split == "test" and role != "table.test" and "table.test" in tab.files:
        report.drop("test records of a training file (the separate test file is the test set)", 1)
        return True
    if split != "test" and f"{role}:{rec.line}" in homologues:
        report.drop(f"{split} proteins homologous to a test protein", 1)
        return True
    if len(drop[split]) and np.isin(np.uint64(stable_seed(codes.tobytes())), drop[split]):
        report.drop(f"{split} sequences also in a held-out split", 1)
        return True
    return False


def _position_labels(labels: np.ndarray, row: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per-position labels of the kept residues, padded with -1 (masked) like the row."""
    positions = labels[keep]
    if len(row) > len(keep):  # fixed window: pad the labels too
        padded = np.full(len(row), -1, np.int8)
        lo = (len(row) - len(keep)) // 2
        padded[lo : lo + len(keep)] = positions
        positions = padded
    return positions


def _add_shuffled_negatives(buf: RowBuffer, tab: TableDataset, rec: Record, role: str, split: str,
                            row: np.ndarray, labels: np.ndarray, per_positive: float) -> None:  # fmt: skip
    """Dinucleotide-shuffled negatives of one positive (splits that hold positives only)."""
    count = per_positive_count(per_positive, "table-shuffle", tab.seed, role, rec.line)
    for k in range(count):
        rng = np.random.default_rng(stable_seed("dinuc", tab.seed, role, rec.line, k))
        buf.add(dinucleotide_shuffle(row, rng), np.zeros_like(labels), SPLIT_CODE[split],
                KIND_CODE["table_shuffle"], f"{rec.id}|shuffle{k}", None)  # fmt: skip


def _write_records(tab: TableDataset, buf: RowBuffer, *, homologues: set[str], drop: Mapping[str, np.ndarray],
                   complete: set[str], per_positive: float, report: DatasetReport) -> Counter:  # fmt: skip
    """Second pass: every kept record into the store; returns how many were cropped/padded."""
    fitted: Counter = Counter()
    per_position = get(tab.kind).per_position
    for role in tab.roles:
        for rec, split in tab.stream(role):
            if tab.parser.skip(rec.labels):
                continue
            codes = tab.codes(rec, role)
            if _skipped(tab, rec, role, split, codes, homologues=homologues, drop=drop, report=report):
                continue
            labels = tab.labels(rec, role, len(codes))
            row, keep, fit = _fit_codes(tab.shape, codes, tab.alphabet.unknown)
            fitted[{-1: "cropped", 1: "padded", 0: "as is"}[fit]] += 1
            positions = _position_labels(labels, row, keep) if per_position else None
            buf.add(row, labels, SPLIT_CODE[split], KIND_CODE["table"], rec.id, positions)
            if split in complete and labels.any():
                _add_shuffled_negatives(buf, tab, rec, role, split, row, labels, per_positive)
    return fitted


def build_table_dataset(
    spec: TableSpec, files: Mapping[str, str], out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Labelled sequences (one file or one per split) -> store, summary and GC table."""
    t0 = time.time()
    tab = TableDataset(spec, files)
    fp = tab.first_pass()
    drop, n_leaks = _leakage(fp, spec.split["leakage"], tab)
    homologues, homology = _homology(fp, tab.homology)
    target = tab.target()
    nucleotide = tab.alphabet.has_complement
    complete = {s for s in SPLITS if fp.pos[s] and not fp.neg[s]} if nucleotide and target.k.negatives else set()
    if complete:
        log.info("splits %s hold positives only: adding %s dinucleotide-shuffled negatives per positive",
                 sorted(complete), spec.negatives["per_positive"])  # fmt: skip
    width = tab.shape.window or fp.longest
    report = DatasetReport(target.k.report_columns(target.tasks, target.classes))
    writer = StoreWriter(out_store, window=width, target=target, alphabet=tab.alphabet.name,
                         attrs={"dataset_kind": "table"}, ids=True)  # fmt: skip
    try:
        buf = RowBuffer(writer, report, target, nucleotide)
        fitted = _write_records(tab, buf, homologues=homologues, drop=drop, complete=complete,
                                per_positive=float(spec.negatives["per_positive"]), report=report)  # fmt: skip
        buf.flush()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    tab.parser.report_notices()
    for reason, count in fp.dropped.items():
        report.drop(reason, count)
    if fp.nonstandard:
        log.info("non-standard letters read as others: %s", dict(fp.nonstandard))
    if fitted["cropped"] or fitted["padded"]:
        log.info(
            "sequences fitted to %d: %d cropped (%s), %d padded", width, fitted["cropped"], spec.crop, fitted["padded"]
        )
    summary = {
        "dataset_kind": "table",
        "alphabet": tab.alphabet.name,
        "target": target.to_json(),
        "window": width,
        "variable_length": buf.shortest is not None and buf.shortest != buf.longest,
        "window_set": tab.shape.window is not None,
        "lengths": {"min": buf.shortest, "max": buf.longest},
        "tasks": list(target.tasks),
        "n_windows": writer.n,
        "fitted": dict(fitted),
        "nonstandard_letters": dict(fp.nonstandard),
        "leakage_shared_sequences": n_leaks,
        "leakage_near_duplicates": getattr(tab, "near_duplicates", None),
        "leakage_policy": spec.split["leakage"],
        "locus_split": getattr(tab, "locus_report", None),
        "homology": homology,
        "generated_negatives_for": sorted(complete),
        **report.summary(),
        "seconds": round(time.time() - t0, 2),
    }
    report.log_counts(log)
    write_text_atomic(out_gc, report.gc_table())
    write_json_atomic(out_summary, summary)
    log.info("wrote %d sequences to %s in %.1f s", writer.n, out_store, time.time() - t0)
    return summary
