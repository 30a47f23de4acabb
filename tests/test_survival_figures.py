"""Annotated survival and cumulative-incidence figures (helpers.survival_figures): what they print."""

import math

import pytest
from lifelines import KaplanMeierFitter

from helpers import competing, suppression
from helpers import survival_figures as curves

SHARE = suppression.Policy.for_run(True, 5)

# Two groups: A has deaths at 1, 2, 2 and 5 months and censorings at 3 and 8; B one death at 4.
A = ([1, 2, 2, 3, 5, 8], [1, 1, 1, 0, 1, 0])
B = ([4, 6, 7, 9, 10, 12], [1, 0, 0, 0, 0, 0])


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize(
    "times, expected", [([0, 2, 4, 8], [0, 3, 3, 4]), ([1.5, 5, 100], [1, 4, 4])]
)
def test_cumulative_events_count_events_up_to_and_including_each_time(times, expected):
    assert curves.cumulative_events(*A, times) == expected


@pytest.mark.parametrize("n_groups, drawn", [(1, True), (2, True), (3, False), (4, False)])
def test_bands_are_drawn_by_default_for_one_or_two_curves_only(n_groups, drawn):
    assert curves.bands_default(n_groups) is drawn


def test_the_annotation_gives_the_test_and_for_two_groups_the_hazard_ratio():
    assert (
        curves.annotation_text(0.0123, (1.916, 1.287, 2.855))
        == "Log-rank p = 0.012\nHR 1.92 (95% CI 1.29–2.85)"
    )
    assert curves.annotation_text(0.0123) == "Log-rank p = 0.012"
    assert curves.annotation_text(0.5, (math.nan, math.nan, math.nan)) == "Log-rank p = 0.500"


def test_a_figure_prints_its_test_and_the_numbers_at_risk_and_cumulative_events_of_each_group():
    fits = {"A": KaplanMeierFitter().fit(*A), "B": KaplanMeierFitter().fit(*B)}
    texts = _texts(curves.plot_km(fits, [0, 4, 8, 12], "t", "S", annotation="Log-rank p = 0.042"))
    assert "Log-rank p = 0.042" in texts
    # A: at risk 6, 2 (5 and 8 months), 1, 0; cumulative events 0, 3, 4, 4. B: 6, 6, 3, 1; 0, 1, 1, 1.
    numbers = [t for t in texts if t not in ("A", "B", "Log-rank p = 0.042")]
    assert numbers == [
        "6",
        "2",
        "1",
        "0",
        "6",
        "6",
        "3",
        "1",
        "0",
        "3",
        "4",
        "4",
        "0",
        "1",
        "1",
        "1",
    ]


def test_a_share_run_figure_shows_counts_below_k_as_hidden():
    fits = {"A": KaplanMeierFitter().fit(*A)}
    texts = _texts(curves.plot_km(fits, [0, 4, 8, 12], "t", "S", policy=SHARE))
    # counts of k or more are rounded to a multiple of 5 (6 -> 5), 1 to k-1 hidden
    assert [t for t in texts if t != "A"] == ["5", "<5", "<5", "0", "0", "<5", "<5", "<5"]


def test_a_share_run_draws_no_curve_of_a_group_below_k_and_the_others_as_rounded_steps():
    months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    codes = [1, 2, 0, 1, 0, 2, 1, 1, 0, 2, 1, 0]
    small_months, small_codes = [2, 3, 5], [1, 0, 2]
    groups = {"Big": (months, codes), "Small": (small_months, small_codes)}
    fits = {
        g: {"Relapse": competing.fit_cif(m, c, 1), "Death": competing.fit_cif(m, c, 2)}
        for g, (m, c) in groups.items()
    }
    figure = curves.plot_cif(fits, groups, [0, 6, 12], "t", policy=SHARE)
    relapse_12 = competing.cif_at(fits["Big"]["Relapse"], 12, policy=SHARE)
    lines = [line for line in figure.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert sorted(line.get_label() for line in lines) == ["Death, Big", "Relapse, Big"]
    # the incidence read in a share run is that of the rounded steps, with no interval
    expected = suppression.Policy.for_run(True, 5).cif_steps(months, codes)["cif_1"].iloc[-1]
    assert relapse_12[0] == expected and all(map(lambda v: v != v, relapse_12[1:]))


def test_the_incidence_figure_counts_every_patient_of_each_group_once():
    months, codes = [1, 2, 3, 4, 5, 6], [1, 2, 0, 1, 0, 2]
    fits = {
        "Relapse": competing.fit_cif(months, codes, 1),
        "Death": competing.fit_cif(months, codes, 2),
    }
    texts = _texts(curves.plot_cif({"All": fits}, {"All": (months, codes)}, [0, 3, 6], "t"))
    assert [t for t in texts if t != "All"] == ["6", "4", "1", "0", "2", "4"]
