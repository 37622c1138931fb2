"""Agreement statistics: Krippendorff's alpha against the published worked example (missing values and a
varying number of coders per unit, as escalation makes), Cohen's kappa against a hand computation, and the
undefined cases."""

from __future__ import annotations

import pytest

from review.portal.agreement import agreement, cohens_kappa, krippendorff_alpha_nominal

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units,
# missing values; nominal alpha = 0.743.
N = None
OBSERVERS = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}


def test_alpha_reproduces_krippendorffs_worked_example():
    units = [[v for v in column if v is not None] for column in zip(*OBSERVERS.values(), strict=True)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)


def test_alpha_is_one_for_perfect_agreement_and_undefined_without_variation():
    assert krippendorff_alpha_nominal([[1, 1], [0, 0, 0], [1, 1]]) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal([[1, 1], [1, 1, 1]]) is None  # one value everywhere: nothing to compare
    assert krippendorff_alpha_nominal([[1], [0]]) is None  # no unit has two values
    assert krippendorff_alpha_nominal([]) is None


def test_alpha_ignores_units_with_a_single_value():
    with_singles = [[1, 1], [0, 1], [0, 0], [1], [0]]
    assert krippendorff_alpha_nominal(with_singles) == krippendorff_alpha_nominal([[1, 1], [0, 1], [0, 0]])


def test_kappa_matches_a_hand_computation():
    first, second = [1, 1, 0, 0, 1, 0, 1, 1], [1, 0, 0, 0, 1, 1, 1, 1]
    observed = 6 / 8
    expected = (5 / 8) * (5 / 8) + (3 / 8) * (3 / 8)
    assert cohens_kappa(first, second) == pytest.approx((observed - expected) / (1 - expected))


def test_kappa_is_undefined_when_both_give_one_label_only_and_refuses_unpaired_labels():
    assert cohens_kappa([1, 1, 1], [1, 1, 1]) is None
    with pytest.raises(ValueError, match="same items"):
        cohens_kappa([1, 0], [1])


def test_agreement_pairs_reviewers_over_the_items_both_labelled():
    labels = {
        "loop-1": {"ana": 1, "ben": 1},
        "loop-2": {"ana": 0, "ben": 1, "cy": 0},  # escalated: three reviewers
        "loop-3": {"ana": 0, "ben": 0},
        "loop-4": {"ana": 1, "cy": None},  # cy's answer decided no label
    }
    found = agreement(labels)
    assert found.reviewers == ["ana", "ben", "cy"]
    pairs = {(p.first, p.second): p for p in found.pairs}
    assert (pairs["ana", "ben"].items, pairs["ana", "ben"].observed) == (3, pytest.approx(2 / 3))
    assert pairs["ana", "ben"].kappa == pytest.approx(cohens_kappa([1, 0, 0], [1, 1, 0]))
    assert (pairs["ana", "cy"].items, pairs["ana", "cy"].observed, pairs["ana", "cy"].kappa) == (1, 1.0, None)
    assert (pairs["ben", "cy"].items, pairs["ben", "cy"].observed) == (1, 0.0)
    assert found.alpha_items == 3
    assert found.alpha == pytest.approx(krippendorff_alpha_nominal([[1, 1], [0, 1, 0], [0, 0]]))
