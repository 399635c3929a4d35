"""Homology leakage between held-out and training proteins, measured with a real aligner.

A random (or accession-based) split of proteins leaks through homologues: a test protein
whose close relative is in the training data is not a test of generalisation. This
module searches every held-out protein against the training proteins with pyhmmer's
``phmmer`` (HMMER3: Eddy 2011, PLoS Comput Biol 7:e1002195; Larralde & Zeller 2023,
Bioinformatics 39:btad214) and reports the training proteins that align to a held-out
one at or above an identity threshold (default 30%, the twilight zone of Rost 1999),
so that the data stage can report, drop or refuse them.

Identity is the fraction of identical residues over the aligned columns of the best
domain of a significant hit (E-value at most ``evalue``) that spans at least
``min_aligned`` columns (short local hits of high identity are chance). Identical
sequences are always homologues, whatever their length.

pyhmmer was chosen over parasail (both on PyPI): an all-against-all Smith-Waterman of
the DeepLoc 1.0 test set against the DeepLoc 2.0 data is ~77 million alignments, while
phmmer's SIMD prefilters discard almost every unrelated pair before aligning
(``bench`` figures in docs/proteins.md).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: Defaults of the check (config keys split.homology.*).
IDENTITY = 0.3
EVALUE = 1e-3
MIN_ALIGNED = 30
#: Held-out proteins searched per pass (training homologues found leave the database after each).
CHUNK = 64


@dataclass(frozen=True)
class Hit:
    """One held-out protein (query) aligned to one training protein (target)."""

    query: str
    target: str
    identity: float
    aligned: int
    evalue: float


@dataclass
class HomologyReport:
    """Result of one check: the hits at or above the threshold and what they imply."""

    identity: float
    queries: int
    targets: int
    hits: list[Hit] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def offending(self) -> set[str]:
        """Training (target) ids with a held-out homologue."""
        return {h.target for h in self.hits}

    @property
    def queries_with_homologue(self) -> set[str]:
        return {h.query for h in self.hits}

    def summary(self) -> dict[str, object]:
        return {
            "identity_threshold": self.identity,
            "held_out_proteins": self.queries,
            "training_proteins": self.targets,
            "held_out_with_homologue": len(self.queries_with_homologue),
            "training_homologues": len(self.offending),
            "pairs": len(self.hits),
            "seconds": round(self.seconds, 2),
            "pairs_per_second": round(self.queries * self.targets / max(self.seconds, 1e-9)),
        }


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name


def _digital(records: Sequence[tuple[str, str]], alphabet) -> list:  # of pyhmmer.easel.DigitalSequence
    from pyhmmer import easel

    # names are row numbers: ids need not be unique or ASCII-safe
    return [easel.TextSequence(name=str(i), sequence=s.upper()).digitize(alphabet) for i, (_, s) in enumerate(records)]


def find_homologues(
    held_out: Sequence[tuple[str, str]],
    training: Sequence[tuple[str, str]],
    *,
    identity: float = IDENTITY,
    evalue: float = EVALUE,
    min_aligned: int = MIN_ALIGNED,
    cpus: int = 1,
    chunk: int = CHUNK,
) -> HomologyReport:
    """Every training protein, given as (id, sequence), that shares at least ``identity``
    with a held-out protein over a significant alignment (identical sequences always count),
    with the held-out proteins that found it.

    Only what must be searched is searched, with the same result set of training proteins
    (``offending``) as searching every pair: a training protein identical to a held-out one
    is a homologue without a search; a held-out sequence that occurs several times is
    searched once; the held-out proteins go in chunks of ``chunk``, and a training protein
    already found by an earlier chunk leaves the database for the later ones (it is dropped
    whichever held-out protein finds it). E-values stay those of the whole database: ``Z``
    is fixed to the number of training proteins, so the shrinking database finds no more and
    no fewer. ``hits`` therefore lists, for each training homologue, the held-out proteins
    of the chunk that first found it (every pair only when ``chunk`` covers all of them)."""
    if not 0 < identity <= 1:
        raise ValueError(f"identity must be in (0, 1], got {identity}")
    from pyhmmer import easel, hmmer
    from tqdm import tqdm

    t0 = time.time()
    report = HomologyReport(identity, len(held_out), len(training))
    if not held_out or not training:
        return report
    same: dict[str, list[int]] = {}
    for j, (_, seq) in enumerate(training):
        same.setdefault(seq.upper(), []).append(j)
    found: dict[tuple[int, int], Hit] = {}
    copies: dict[str, list[int]] = {}  # distinct held-out sequence -> its held-out proteins
    for i, (qid, seq) in enumerate(held_out):
        copies.setdefault(seq.upper(), []).append(i)
        for j in same.get(seq.upper(), []):
            found[(i, j)] = Hit(qid, training[j][0], 1.0, len(seq), 0.0)
    alphabet = easel.Alphabet.amino()
    distinct = list(copies)
    queries = _digital([("", s) for s in distinct], alphabet)
    targets = _digital(training, alphabet)
    known = {j for _, j in found}
    progress = tqdm(total=len(distinct), desc="homology (phmmer)", mininterval=30, file=sys.stderr)
    for start in range(0, len(distinct), chunk):
        database = easel.DigitalSequenceBlock(alphabet, [t for j, t in enumerate(targets) if j not in known])
        block = easel.DigitalSequenceBlock(alphabet, queries[start : start + chunk])
        new: set[int] = set()
        for hits in hmmer.phmmer(block, database, cpus=cpus, E=evalue, domE=evalue, Z=len(training)):
            progress.update(1)
            for hit in hits.included:
                ali = hit.best_domain.alignment
                columns = len(ali.hmm_sequence)
                ident = sum(c.isalpha() for c in ali.identity_sequence) / max(columns, 1)
                if columns < min_aligned or ident < identity:
                    continue
                j = int(_text(hit.name))
                new.add(j)
                for i in copies[distinct[int(_text(hits.query.name))]]:
                    found.setdefault((i, j), Hit(held_out[i][0], training[j][0], round(ident, 4), columns,
                                                 float(hit.evalue)))  # fmt: skip
        known |= new
    progress.close()
    report.hits = sorted(found.values(), key=lambda h: (h.query, -h.identity, h.target))
    report.seconds = time.time() - t0
    log.info("homology check: %d held-out vs %d training proteins in %.1f s: %d held-out proteins have a training "
             "homologue at >= %.0f%% identity (%d training proteins)", report.queries, report.targets,
             report.seconds, len(report.queries_with_homologue), 100 * identity, len(report.offending))  # fmt: skip
    return report


def hits_table(report: HomologyReport) -> str:
    """The hits as TSV text (query, target, identity, aligned columns, E-value)."""
    lines = ["held_out\ttraining\tidentity\taligned\tevalue"]
    lines += [f"{h.query}\t{h.target}\t{h.identity:.4f}\t{h.aligned}\t{h.evalue:.3g}" for h in report.hits]
    return "\n".join(lines) + "\n"
