"""Inter-reviewer agreement: Cohen's kappa for each pair of reviewers, Krippendorff's alpha overall.

Kappa compares two reviewers over the items both labelled (scikit-learn's `cohen_kappa_score`). Alpha
(nominal) takes every item with two or more labels, however many reviewers gave them, which is what
escalation produces (two answers on most loops, three on escalated ones); scikit-learn has no alpha, so it
is computed here from its coincidence matrix (Krippendorff, "Computing Krippendorff's Alpha-Reliability",
2011). Both are undefined (None) when the labels show no variation to agree on.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    items: int  # labelled by both
    observed: float | None  # share of those items with the same label
    kappa: float | None


@dataclass(frozen=True)
class Agreement:
    reviewers: list[str]
    alpha: float | None
    alpha_items: int  # items with at least two labels
    pairs: list[PairAgreement]


def krippendorff_alpha_nominal(units: Iterable[Iterable[Hashable]]) -> float | None:
    """Alpha for nominal values; each unit is the labels it received (missing ones left out)."""
    coincidences: Counter = Counter()
    for unit in units:
        values = list(unit)
        if len(values) < 2:
            continue  # a unit with one value has nothing to be compared with
        weight = 1.0 / (len(values) - 1)
        for i, j in itertools.permutations(range(len(values)), 2):
            coincidences[values[i], values[j]] += weight
    totals: Counter = Counter()
    for (c, _k), count in coincidences.items():
        totals[c] += count
    n = sum(totals.values())
    disagreeing = sum(count for (c, k), count in coincidences.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if n <= 1 or expected == 0:
        return None
    return 1.0 - (n - 1) * disagreeing / expected


def cohens_kappa(first: list[Hashable], second: list[Hashable]) -> float | None:
    """Kappa of two reviewers' labels on the same items (None when there is only one label in all)."""
    if len(first) != len(second):
        raise ValueError("kappa needs the two reviewers' labels of the same items")
    if len(set(first) | set(second)) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(first, second))


def agreement(labels: Mapping[str, Mapping[str, Hashable | None]]) -> Agreement:
    """Agreement over `item -> {reviewer: label}` (a label of None, no decision, is left out)."""
    by_reviewer: dict[str, dict[str, Hashable]] = defaultdict(dict)
    units = []
    for item, given in labels.items():
        decided = {reviewer: label for reviewer, label in given.items() if label is not None}
        units.append(list(decided.values()))
        for reviewer, label in decided.items():
            by_reviewer[reviewer][item] = label
    reviewers = sorted(by_reviewer)
    pairs = []
    for a, b in itertools.combinations(reviewers, 2):
        common = sorted(by_reviewer[a].keys() & by_reviewer[b].keys())
        first = [by_reviewer[a][i] for i in common]
        second = [by_reviewer[b][i] for i in common]
        observed = sum(x == y for x, y in zip(first, second, strict=True)) / len(common) if common else None
        pairs.append(PairAgreement(a, b, len(common), observed, cohens_kappa(first, second) if common else None))
    return Agreement(
        reviewers=reviewers,
        alpha=krippendorff_alpha_nominal(units),
        alpha_items=sum(1 for u in units if len(u) >= 2),
        pairs=pairs,
    )
