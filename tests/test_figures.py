"""Figures: blasts before-after (one line per patient, or a summary for large cohorts), CRS scatter.

Expected values are worked out by hand from the small cohorts built here.
"""

import re

import matplotlib.colors
import pandas as pd
import pytest

from helpers import figures, suppression


def blasts(before, after, category="steroids"):
    """A minimal cohort: one patient per (before, after) pair, all in ``category``."""
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(len(before))],
            "debulking_category": category,
            "bmb_baseline_pct": [float(v) for v in before],
            "bmb_post_debulking_pct": [float("nan") if v is None else float(v) for v in after],
        }
    )


def solid_lines(ax):
    """Data lines of a panel (the blast cut-offs are the dashed lines)."""
    return [line for line in ax.get_lines() if line.get_linestyle() != "--"]


def test_a_small_cohort_draws_each_patient_with_both_values_as_its_own_line():
    cohort = blasts([10, 20, 30, 40], [0, 4, 8, None])
    fig = figures.plot_blasts_before_after(cohort)
    lines = solid_lines(fig.axes[0])
    assert sorted(tuple(line.get_ydata()) for line in lines) == [(10, 0), (20, 4), (30, 8)]
    assert "median" not in fig.get_suptitle()
    assert "3 patients with both values; 1 without" in fig.get_suptitle()


def test_above_the_line_limit_each_category_shows_its_median_and_interquartile_range():
    # Before 10, 20, 30, 40: median 25; quartiles (linear) 10 + 0.75*10 = 17.5 and 30 + 0.25*10 = 32.5.
    # After 0, 4, 8, 100: median 6; quartiles 0 + 0.75*4 = 3 and 8 + 0.25*92 = 31.
    cohort = blasts([10, 20, 30, 40], [0, 4, 8, 100])
    fig = figures.plot_blasts_before_after(cohort, max_lines=3)
    ax = fig.axes[0]
    [medians] = solid_lines(ax)
    assert list(medians.get_xdata()) == [0, 1]
    assert list(medians.get_ydata()) == pytest.approx([25, 6])
    [iqr] = ax.collections
    assert [tuple(seg[:, 1]) for seg in iqr.get_segments()] == [
        pytest.approx((17.5, 32.5)),
        pytest.approx((3, 31)),
    ]
    assert "median and interquartile range per category" in fig.get_suptitle()
    assert "more than 3 patients" in fig.get_suptitle()


def test_the_default_limit_switches_to_the_summary_just_above_max_patient_lines():
    n = figures.MAX_PATIENT_LINES
    at_limit = figures.plot_blasts_before_after(blasts([60] * n, [10] * n))
    above = figures.plot_blasts_before_after(blasts([60] * (n + 1), [10] * (n + 1)))
    assert len(solid_lines(at_limit.axes[0])) == n
    assert len(solid_lines(above.axes[0])) == 1
    assert "median" not in at_limit.get_suptitle()
    assert f"more than {n} patients" in above.get_suptitle()


def test_a_category_without_patients_gets_an_empty_panel_in_both_modes():
    cohort = blasts([50, 70], [5, 15], category="tki")
    for max_lines in (10, 1):
        fig = figures.plot_blasts_before_after(cohort, max_lines=max_lines)
        assert solid_lines(fig.axes[0]) == []
        assert fig.axes[0].get_title().endswith("(n=0)")
        assert fig.axes[3].get_title().endswith("(n=2)")


def test_median_iqr_summary_lists_before_then_after_and_leaves_the_input_unchanged():
    long = pd.DataFrame(
        {"time": ["After", "Before", "After", "Before"], "blasts": [2.0, 90.0, 4.0, 70.0]}
    )
    copy = long.copy()
    summary = figures.blasts_median_iqr(long)
    assert list(summary.index) == ["Before", "After"]
    assert summary.loc["Before", "median"] == 80 and summary.loc["After", "median"] == 3
    assert summary.loc["Before", "q1"] == 75 and summary.loc["Before", "q3"] == 85
    pd.testing.assert_frame_equal(long, copy)


def crs_cohort(before, after):
    """Patients in one category with the given blasts (%) before and after debulking."""
    return pd.DataFrame(
        {
            "debulking_category": "steroids",
            "bmb_baseline_pct": [float(v) for v in before],
            "bmb_post_debulking_pct": [float(v) for v in after],
        }
    )


def test_crs_scatter_draws_patients_sharing_blasts_and_crs_state_as_one_point_and_counts_them_all():
    from helpers import response_figures

    # Patients 0, 1 and 3 share (60, 10, CRS): one point, placed where patient 3 is
    # drawn (after patient 2); patient 2 (60, 10, No CRS) is a different marker.
    cohort = crs_cohort([60, 60, 60, 60, 80], [10, 10, 10, 10, 5])
    status = pd.Series(["CRS", "CRS", "No CRS", "CRS", "CRS"])
    fig = response_figures.plot_crs(cohort.assign(crs_status=status))
    right = fig.axes[1]
    [points] = right.collections
    assert [tuple(xy) for xy in points.get_offsets()] == [(60, 10), (60, 10), (80, 5)]
    colours = [tuple(c) for c in points.get_facecolors()]
    crs, no_crs = (
        matplotlib.colors.to_rgba(response_figures.CRS_PALETTE[k]) for k in ("CRS", "No CRS")
    )
    assert colours == [pytest.approx(no_crs), pytest.approx(crs), pytest.approx(crs)]
    assert "5 patients with both values; 0 left out" in right.get_title()


def test_a_saved_figure_carries_its_alt_text_in_the_png_and_svg_and_in_the_notebook_output(
    tmp_path, monkeypatch
):
    import IPython.display
    from PIL import Image

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    fig, _ = figures.new_figure()
    alt = "Bar chart of CR by blasts; 33 patients"
    figures.save_figure(fig, "f", tmp_path, alt=alt)
    assert Image.open(tmp_path / "figures" / "f.png").text["Description"] == alt
    assert f"<dc:description>{alt}</dc:description>" in (tmp_path / "figures" / "f.svg").read_text()
    assert shown[0][1]["metadata"] == {"image/png": {"alt": alt}}


def test_a_figure_without_alt_text_is_refused(tmp_path):
    fig, _ = figures.new_figure()
    with pytest.raises(ValueError, match="alt text"):
        figures.save_figure(fig, "f", tmp_path, alt=" ", show=False)
    with pytest.raises(TypeError):
        figures.save_figure(fig, "f", tmp_path, show=False)


def cr_by_burden() -> pd.DataFrame:
    """CR rates by blast burden for plot_cr_mrd_by_burden: under 50% 12/13, at or above 10/20."""
    return pd.DataFrame(
        {
            "level": ["False", "True"],
            "numerator": [12, 10],
            "denominator": [13, 20],
            "estimate": [12 / 13, 0.5],
            "ci_low": [0.6, 0.27],
            "ci_high": [0.99, 0.73],
        }
    )


def test_percent_axes_end_at_100():
    from helpers import response_figures

    rates = cr_by_burden()
    ax = response_figures.plot_cr_mrd_by_burden(rates, rates).axes[0]
    assert max(ax.get_yticks()) == 100
    forest = pd.DataFrame(
        {
            "group": ["g", "g"],
            "label": ["a (1/2)", "b (1/2)"],
            "estimate": [0.5, 0.5],
            "ci_low": [0.1, 0.1],
            "ci_high": [0.9, 0.9],
        }
    )
    assert max(figures.plot_forest(forest).axes[0].get_xticks()) == 100


def test_the_forest_plot_widens_with_its_longest_label_so_the_plot_keeps_its_width():
    def width(label):
        rows = pd.DataFrame(
            {"group": ["g"], "label": [label], "estimate": [0.5], "ci_low": [0.1], "ci_high": [0.9]}
        )
        return figures.plot_forest(rows).get_figwidth()

    assert width("x" * 60) - width("x" * 10) == pytest.approx(50 * 0.075)


# --- share runs: aggregate views ------------------------------------------------------------


def test_binned_rates_join_bins_until_each_holds_min_cell_patients_and_a_short_last_bin_joins_the_one_before():
    # Bins of 10 from 0: [0,10) 1 patient, [10,20) 3, [20,30) 2 -> first bin [0,30) with 6 (CR: 5, 12, 18, 22).
    # Then [30,40) 1, [40,50) 2, [50,60) 1, [70,80) 1 -> [30,80) with 5; 95 and 100 (2 patients) are too few
    # alone and join it: [30,100] with 7 patients, CR at 45 and 100 -> 2/7.
    x = pd.Series([5, 12, 15, 18, 22, 25, 31, 45, 47, 55, 70, 95, 100.0, None])
    cr = pd.Series(
        [1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1]
    )  # the last patient has no blast value
    bins = figures.binned_rates(x, cr, min_cell=5, width=10)
    assert bins[["low", "high", "n", "events"]].values.tolist() == [[0, 30, 6, 4], [30, 100, 7, 2]]
    assert bins["rate"].tolist() == pytest.approx([4 / 6, 2 / 7])
    assert figures.binned_rates(
        x.head(4), cr.head(4), min_cell=5
    ).empty  # 4 patients: no bin at all


def test_the_share_view_of_blasts_draws_medians_only_for_categories_of_min_cell_patients():
    # steroids: 5 patients, before 10..50 (median 30, quartiles 20 and 40), after 0..8 (median 4, 2 and 6);
    # tki: 2 patients (under 5: not drawn, shown as <5); 1 patient without a post value left out (<5).
    # Two hidden counts in the row, so the 5 steroids patients stay shown.
    cohort = pd.concat(
        [
            blasts([10, 20, 30, 40, 50], [0, 2, 4, 6, 8]),
            blasts([70, 80], [5, 10], category="tki"),
            blasts([60], [None]),
        ],
        ignore_index=True,
    )
    fig = figures.plot_blasts_before_after(cohort, share_safe=True, min_cell=5)
    steroids, tki = fig.axes[0], fig.axes[3]
    [medians] = solid_lines(steroids)
    assert list(medians.get_ydata()) == pytest.approx([30, 4])
    [iqr] = steroids.collections
    assert [tuple(seg[:, 1]) for seg in iqr.get_segments()] == [
        pytest.approx((20, 40)),
        pytest.approx((2, 6)),
    ]
    assert solid_lines(tki) == [] and len(tki.collections) == 0
    assert tki.get_title().endswith("(n=<5)") and steroids.get_title().endswith("(n=5)")
    assert figures.AGGREGATE_VIEW in fig.get_suptitle() and "<5 without" in fig.get_suptitle()


def test_the_share_view_of_crs_draws_no_point_per_patient_and_no_bar_under_min_cell():
    from helpers import response_figures

    # 6 patients with CRS (blasts before 60..85, after 0..25) and 3 without CRS, all steroids.
    cohort = crs_cohort([60, 65, 70, 75, 80, 85, 40, 50, 55], [0, 5, 10, 15, 20, 25, 30, 35, 40])
    cohort["crs_status"] = ["CRS"] * 6 + ["No CRS"] * 3
    fig = response_figures.plot_crs(cohort, share_safe=True, min_cell=5)
    left, right = fig.axes
    widths = [p.get_width() for p in left.patches]
    assert (
        3 not in widths and 6 not in widths and 5 in widths
    )  # 3 is under 5 (no bar); 6 is drawn as 5
    assert sorted(
        t.get_text().strip() for t in left.texts if t.get_text().strip() not in ("0",)
    ) == ["5", "<5"]
    [crs_point] = [line for line in right.get_lines() if line.get_marker() == "o"]
    # medians: before 72.5 (60..85), after 12.5 (0..25); No CRS (3 patients) is not drawn
    assert (crs_point.get_xdata()[0], crs_point.get_ydata()[0]) == pytest.approx((72.5, 12.5))
    assert (
        figures.AGGREGATE_VIEW in right.get_title() and figures.AGGREGATE_VIEW in left.get_title()
    )


def test_in_a_share_run_the_cr_mrd_bars_show_rounded_counts_and_draw_no_bar_for_a_hidden_one():
    from helpers import response_figures

    # Under 50%: 12/13 drawn as 10/15 (rounded counts, 67%); at or above: 10/20 as it is; MRD 3/10: 3 is
    # hidden (<5) and so is its bar; 5/10 is shown.
    cr = cr_by_burden()
    mrd = cr.assign(numerator=[3, 5], denominator=[10, 10], estimate=[0.3, 0.5])
    ax = response_figures.plot_cr_mrd_by_burden(
        cr, mrd, policy=suppression.Policy.for_run(True, 5)
    ).axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["10/15\n(67%)", "10/20\n(50%)", "<5/10\n(–)", "5/10\n(50%)"]
    assert [p.get_height() for p in ax.patches[:4]] == pytest.approx([200 / 3, 50, 0, 50])


def test_in_a_share_run_the_patient_flow_hides_small_counts_and_rounds_the_others():
    from helpers import response_figures
    from helpers.response import PatientFlow

    flow = PatientFlow(
        treated=34,
        two_cycles=31,
        one_cycle=3,
        one_cycle_without_cr=3,
        cr=24,
        mrd_evaluable=20,
        mrd_negative=17,
        hsct_after=14,
    )
    share = suppression.Policy.for_run(True, 5)
    texts = {
        t.get_text() for t in response_figures.plot_patient_flow(flow, policy=share).axes[0].texts
    }
    # 2 cycles 31 / 1 cycle 3: 30 and <5; no CR 7: 5; MRD 20 / not assessed 4: 20 and <5;
    # MRD negative 17 / positive 3: 15 and <5.
    assert {
        "Received 2 cycles\nn = 30",
        "1 cycle only (progressed)\nn = <5",
        "No CR after 2 cycles\nn = 5",
        "MRD assessed\nn = 20",
        "MRD not assessed\nn = <5",
        "MRD positive\nn = <5",
        "Complete MRD response\nn = 15",
    } <= texts


#: Two clip rectangles as matplotlib names them (a hash of full-precision coordinates), and the
#: same figure from a run whose coordinates differed in the last bits.
CLIPPED = (
    '<path d="M 0 0" clip-path="url(#{a})"/><path d="M 1 1" clip-path="url(#{b})"/>'
    '<path d="M 2 2" clip-path="url(#{a})"/>'
    '<defs><clipPath id="{a}"><rect x="1"/></clipPath><clipPath id="{b}"><rect x="2"/></clipPath></defs>'
)


@pytest.mark.parametrize(
    "a, b",
    [("p759244ce4a", "p0123456789"), ("pb47e8fa01a", "pffffffffff")],
    ids=["one run", "a run with other hashes"],
)
def test_svg_clip_ids_are_numbered_in_order_of_definition_whatever_matplotlib_hashed(a, b):
    numbered = figures._numbered_clip_ids(CLIPPED.format(a=a, b=b))
    assert numbered == CLIPPED.format(a="clip1", b="clip2")


def test_an_svg_without_clip_paths_is_written_as_it_is():
    svg = '<svg><path id="p0123456789" d="M 0 0"/></svg>'
    assert figures._numbered_clip_ids(svg) == svg


def test_a_saved_svg_names_its_clip_paths_clip1_and_on(tmp_path):
    fig, ax = figures.new_figure()
    ax.plot([0, 1], [0, 1])
    figures.save_figure(fig, "f", tmp_path, alt="a line, no patients", show=False)
    text = (tmp_path / "figures" / "f.svg").read_text()
    assert 'clip-path="url(#clip1)"' in text and '<clipPath id="clip1">' in text
    assert re.search(r'id="p[0-9a-f]{10}"', text) is None
