"""The report's "A beats B" claims as the workflow plans them, before any job runs: each compares two
configurations (``experiment/variant``) of one question on a metric. With ``settle`` on, look k pairs
the first ``looks[k-1]`` of ``look_seeds`` on both sides, and only the claims still open train the next
look's seeds (``homework1.analysis.sequential`` decides). Standard library only."""

from __future__ import annotations

import csv

REPORT_COMPARISONS = "config/report_comparisons.csv"  # the report's claims, below the workflow's checkout
CLAIM_COLUMNS = ["report_id", "question", "metric", "claim", "better", "worse"]
# The looks the report suggests for settling claims left open (``settle: {looks: ...}``).
SUGGESTED_LOOKS = (5, 10, 20)
# Verdicts, as the claims' tables write them (the `verdict` column): a decision, a claim still open (with
# settle on, it trains the next look's seeds), one stopped for futility, one whose configurations the study lacks.
HOLDS, REVERSED = "holds", "reversed"
DECIDED = (HOLDS, REVERSED)
OPEN = "undecided"
STOPPED = "stopped for futility"
NOT_TESTABLE = "not testable"


def read_claims(path) -> list[dict]:
    """The report's "better beats worse on metric" conclusions (sides named experiment/variant)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in CLAIM_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return [{column: row[column] for column in CLAIM_COLUMNS} for row in reader]


def claim_key(claim: dict) -> tuple[str, str, str, str]:
    """What names a claim in the tables: its question, its two sides and its metric."""
    return claim["question"], claim["better"], claim["worse"], claim["metric"]


def sides(claim: dict) -> list[tuple[str, str, str]]:
    """(question, experiment, variant) of the claim's better and worse configurations."""
    return [(claim["question"], *claim[side].split("/", 1)) for side in ("better", "worse")]


def testable(claim: dict, runs: dict) -> bool:
    """Whether both configurations the claim compares are in the study (``runs``:
    {question: {experiment: {variant: ...}}})."""
    return all(variant in runs.get(question, {}).get(experiment, {}) for question, experiment, variant in sides(claim))


def look_seeds(seeds: list[int], count: int) -> list[int]:
    """The first ``count`` seeds of a settled study: the configured ``seeds``, then 1, 2, 3, ...
    leaving out those already among them. (So ``seeds: [42]`` and five seeds give 42, 1, 2, 3, 4:
    the same runs as ``seeds: [42, 1, 2, 3, 4]``.)"""
    sequence, candidate = list(seeds), 1
    while len(sequence) < count:
        if candidate not in seeds:
            sequence.append(candidate)
        candidate += 1
    return sequence[:count]


def configurations(claims: list[dict]) -> list[tuple[str, str, str]]:
    """The configurations the claims compare, each once, in the claims' order."""
    return list(dict.fromkeys(side for claim in claims for side in sides(claim)))


def open_claims(decisions_path, claims: list[dict]) -> list[dict]:
    """The claims a look's decisions table leaves open: those that train the next look's seeds."""
    with open(decisions_path, newline="", encoding="utf-8") as handle:
        verdicts = {claim_key(row): row["verdict"] for row in csv.DictReader(handle)}
    return [claim for claim in claims if verdicts.get(claim_key(claim)) == OPEN]
