"""Headline findings: declared by the notebook that computes them, filled from results.csv on the index;
result keys written and read by one type."""

import ast
import html
import json
import re

import pandas as pd
import pytest

from helpers import headlines, suppression
from helpers.headlines import Headline
from helpers.results import Key


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (Key("any_cr"), "any_cr[all]"),
        (Key("any_cr", {"high_burden": True}), "any_cr[high_burden=True]"),
        (
            Key("any_cr", {"high_burden": True, "debulking_category": "tki"}),
            "any_cr[high_burden=True&debulking_category=tki]",
        ),
        (Key("any_cr", by="high_burden", test="fisher"), "any_cr[high_burden]~fisher"),
        (
            Key("any_cr", by="high_burden", test="fisher", part="holm"),
            "any_cr[high_burden]~fisher.holm",
        ),
        (
            Key("crs", by="debulking_category", within={"crs_recorded": True}, test="fisher"),
            "crs[debulking_category|crs_recorded=True]~fisher",
        ),
        (
            Key("km_rfs", {"high_burden": True}, within={"any_cr": True}),
            "km_rfs[high_burden=True|any_cr=True]",
        ),
        (Key("km_os", part="median"), "km_os[all].median"),
        (Key("cir", {"any_cr": True}, part="cif_12m"), "cir[any_cr=True].cif_12m"),
        (Key("any_cr", {"lines_group": "<=2"}), "any_cr[lines_group=<=2]"),
        (Key("response=none", {"blina_cycles": 1}), "response=none[blina_cycles=1]"),
        (
            Key("maic", by="tower_cr_crh_cri_phneg", part="balance[age_mean].after"),
            "maic[tower_cr_crh_cri_phneg].balance[age_mean].after",
        ),
        (Key("replication", by="any_cr[all]"), "replication[any_cr[all]]"),
    ],
)
def test_a_key_writes_the_results_grammar_and_reads_back_as_the_same_key(key, text):
    assert str(key) == text
    assert Key.parse(text) == key


@pytest.mark.parametrize("text", ["cox_os_adjusted", "any_cr[all", "[all]"])
def test_text_that_is_not_a_result_key_is_refused(text):
    with pytest.raises(ValueError, match="not a result key"):
        Key.parse(text)


# The shipped cohort's rows (paper, section 3.3: CR 23/34; blasts <50% 12/13 vs >=50% 10/20,
# p = 0.022). CIs: R binom.test(23, 34)$conf.int.
ROWS = pd.DataFrame(
    [
        (
            "any_cr[all]",
            23,
            34,
            0.4947346991,
            0.8261165725,
            None,
            "count; Clopper-Pearson exact 95% CI",
        ),
        ("any_cr[high_burden=False]", 12, 13, None, None, None, None),
        ("any_cr[high_burden=True]", 10, 20, None, None, None, None),
        (
            "any_cr[high_burden]~fisher",
            None,
            None,
            None,
            None,
            0.02159081749,
            "Fisher's exact test (2x2, two-sided)",
        ),
    ],
    columns=["key", "numerator", "denominator", "ci_low", "ci_high", "p_value", "method"],
)
BURDEN = Headline(
    "CR by marrow blasts before debulking",
    "blasts <50%: [[below:n_of]] vs ≥50%: [[above:n_of]]; [[test:test]]",
    "CR by subgroup",
    {
        "below": Key("any_cr", {"high_burden": False}),
        "above": Key("any_cr", {"high_burden": True}),
        "test": Key("any_cr", by="high_burden", test="fisher"),
    },
)


def test_a_headline_is_its_template_filled_from_the_rows_its_keys_name():
    assert BURDEN.text(ROWS) == (
        "blasts <50%: 12/13 (92.3%) vs ≥50%: 10/20 (50.0%); Fisher's exact test, two-sided, p = 0.022"
    )


def test_a_headline_names_the_test_that_stood_in_when_fisher_s_was_infeasible():
    # helpers.contingency.fisher_exact past its work budget (e.g. a 4 x 2 table at n = 20,000)
    rows = ROWS.copy()
    rows.loc[3, "method"] = (
        "Pearson chi-square in place of Fisher's exact test (2x2, asymptotic; exact "
        "enumeration infeasible at n=20000); estimate = chi-square statistic"
    )
    assert BURDEN.text(rows).endswith(
        "Pearson chi-square (asymptotic; Fisher's exact test infeasible at this size), two-sided, p = 0.022"
    )


def test_a_declared_headline_whose_result_is_missing_stops_the_notebook_with_the_key_named(
    tmp_path,
):
    with pytest.raises(
        ValueError, match=r"'CR by marrow blasts before debulking'.*any_cr\[high_burden\]~fisher"
    ):
        headlines.write_headlines([BURDEN], ROWS.iloc[:3], "03_response_by_subgroup", tmp_path)
    assert not (tmp_path / "results" / "03_response_by_subgroup.headlines.json").exists()


def test_declared_headlines_are_read_back_in_reading_order(tmp_path):
    rate = Headline("CR", "[[cr:rate]]", "Overall response", {"cr": Key("any_cr")})
    headlines.write_headlines([rate, BURDEN], ROWS, "03_response_by_subgroup", tmp_path)
    headlines.write_headlines([], ROWS.iloc[:0], "01_cohort_description", tmp_path)
    found = headlines.read_headlines(tmp_path)
    assert found == [("03_response_by_subgroup", rate), ("03_response_by_subgroup", BURDEN)]
    assert found[0][1].text(ROWS) == "23/34 (67.6%), 95% CI 49.5–82.6% (Clopper-Pearson exact)"


@pytest.mark.parametrize(
    ("numerator", "denominator", "shown"),
    [
        # a shown count is rounded to a multiple of 5 (14 -> 15, 12 -> 10)
        ("not shown", "14", "not shown/15 (–), 95% CI –"),  # 13/14: its complement of 1 is hidden
        ("<5", "12", "<5/10 (–), 95% CI –"),
        ("0", "<5", "0/<5 (–), 95% CI –"),
    ],
)
def test_a_share_runs_hidden_counts_are_shown_as_hidden_not_read_as_numbers(
    numerator, denominator, shown
):
    rows = pd.DataFrame(
        {
            "key": ["any_cr[all]", "crs_grade_ge3[crs=True]"],
            "numerator": [numerator, "<5"],
            "denominator": [denominator, "not shown"],
            "ci_low": [None, None],
            "ci_high": [None, None],
        }
    )
    crs = Headline(
        "CRS",
        "[[cr:rate]]; grade 3 or higher in [[severe:n_of]] of the patients with CRS",
        "Incidence",
        {"cr": Key("any_cr"), "severe": Key("crs_grade_ge3", {"crs": True})},
    )
    assert crs.text(rows, policy=suppression.Policy.for_run(True, 5)) == (
        f"{shown}; grade 3 or higher in <5/not shown (–) of the patients with CRS"
    )


def test_a_notebook_says_it_is_not_available_for_the_data_with_one_row():
    rows = pd.DataFrame(
        {
            "notebook": ["08_time_to_event"],
            "key": [headlines.AVAILABILITY_KEY],
            "label": ["no follow-up dates in the data"],
            "estimate": [0],
        }
    )
    assert headlines.not_available(rows, "08_time_to_event") == "no follow-up dates in the data"
    assert headlines.not_available(rows.assign(estimate=1), "08_time_to_event") is None
    assert (
        headlines.not_available(
            ROWS.assign(notebook="03_response_by_subgroup"), "03_response_by_subgroup"
        )
        is None
    )


def test_a_prefixed_availability_row_gives_its_method_as_the_reason():
    # Notebook 08's row when the file has no follow-up columns.
    rows = pd.DataFrame(
        {
            "notebook": ["08_time_to_event"],
            "key": ["follow_up.available[all]"],
            "label": ["Patients with follow-up (os_months given)"],
            "estimate": [0],
            "method": ["not available for this data: no follow-up in the file"],
        }
    )
    assert headlines.not_available(rows, "08_time_to_event") == "no follow-up in the file"
    assert headlines.not_available(rows.assign(estimate=1), "08_time_to_event") is None


# --- what the notebooks declare, on the shipped cohort and on a share run with follow-up ----------


def _index_headlines(run) -> dict[str, tuple[str, str]]:
    """Title -> (text, link) of the index's headlines."""
    index = html.unescape((run / "report" / "index.html").read_text(encoding="utf-8"))
    found = re.findall(
        r'<li><strong>(.*?):</strong> (.*?) <a href="([^"]*)">details</a></li>', index
    )
    return {title: (text, link) for title, text, link in found}


# The paper's section 3.3 and the abstract (CR 23/34, MRD 17/21, CRS 5/34 with 1 of grade >= 3); Fisher's
# p-values from R: fisher.test(matrix(c(12, 1, 10, 10), 2))$p.value = 0.02159,
# fisher.test(matrix(c(17, 3, 6, 8), 2))$p.value = 0.02299; TOWER 119/271 (Kantarjian 2017).
SHIPPED = {
    "Complete remission (CR, CRp or CRi) within two cycles": (
        "23/34 (67.6%), 95% CI 49.5–82.6% (Clopper-Pearson exact)",
        "03_response_by_subgroup.html#overall-response-section-3-3-1",
    ),
    "Complete MRD response among CR patients with an MRD result": (
        "17/21 (81.0%), 95% CI 58.1–94.6% (Clopper-Pearson exact)",
        "03_response_by_subgroup.html#overall-response-section-3-3-1",
    ),
    "CR by marrow blasts before debulking": (
        "blasts <50%: 12/13 (92.3%) vs ≥50%: 10/20 (50.0%); Fisher's exact test, two-sided, p = 0.022",
        "03_response_by_subgroup.html#cr-and-mrd-response-by-subgroup",
    ),
    "CR by previous treatment lines": (
        "≤2 previous lines: 17/20 (85.0%) vs >2: 6/14 (42.9%); Fisher's exact test, two-sided, p = 0.023",
        "03_response_by_subgroup.html#cr-and-mrd-response-by-subgroup",
    ),
    "Cytokine release syndrome (CRS)": (
        "5/34 (14.7%), 95% CI 5.0–31.1% (Clopper-Pearson exact); grade 3 or higher in 1/5 (20.0%) of the "
        "patients with CRS",
        "04_crs_analysis.html#incidence",
    ),
    "CR/CRh/CRi against the TOWER trial (historic comparison)": (
        "this cohort 23/34 (67.6%) vs TOWER, blinatumomab 119/271 (43.9%); difference +23.7 percentage points "
        "(95% CI +5.9 to +38.2, Newcombe hybrid score); Fisher's exact test, two-sided, p = 0.010",
        "05_historic_comparison.html#comparisons",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("title", SHIPPED)
def test_the_index_shows_each_headline_the_notebooks_declare_linked_to_its_section(
    shipped_run, title
):
    assert _index_headlines(shipped_run)[title] == SHIPPED[title]


@pytest.mark.slow
def test_the_index_lists_the_headlines_in_reading_order_notebook_by_notebook(shipped_run):
    links = [link for _, link in _index_headlines(shipped_run).values()]
    assert links == sorted(links, key=lambda link: link.split(".html")[0])
    assert "CR by debulking therapy" in _index_headlines(shipped_run)


@pytest.mark.slow
def test_every_declared_headline_links_to_a_section_of_its_page(shipped_run, followup_share_run):
    for run in (shipped_run, followup_share_run):
        for title, (_, link) in _index_headlines(run).items():
            assert "#" in link, (run.name, title)


@pytest.mark.slow
def test_with_follow_up_the_survival_headlines_are_declared_and_their_counts_hidden_as_on_the_pages(
    followup_share_run,
):
    found = _index_headlines(followup_share_run)
    assert re.fullmatch(
        r"median \d+\.\d months \(95% CI [\d.]+–[\d.]+\); (<5|\d*[05])/\d*[05] \([\d.–%]+\) died; "
        r"median follow-up (\d+\.\d months|not reached) \(95% CI .*\)",
        found["Overall survival"][0],
    )
    assert found["Overall survival by marrow blasts before debulking"][0].startswith(
        "blasts ≥50% vs <50%: hazard ratio of death "
    )
    assert "Cumulative incidence of relapse at 12 months from CR" in found
    # no count from 1 to 4, and every count a multiple of 5 (the share policy), in any headline
    texts = " ".join(text for text, _ in found.values())
    assert not re.search(r"(?<![\d.<])[1-4]/|/[1-4](?![\d.])", texts)
    declared = json.loads(
        (followup_share_run / "results" / "08_time_to_event.headlines.json").read_text()
    )
    assert [d["title"] for d in declared] == [
        "Overall survival",
        "Overall survival by marrow blasts before debulking",
        "Cumulative incidence of relapse at 12 months from CR",
    ]


#: A key's statistic: a lower-case name (``any_cr``, ``by_centre.available``, ``response=cr``)
_STATISTIC = re.compile(r"[a-z_][a-z0-9_.]*(=[a-z0-9_]+)?")


def _code_strings(tree: ast.AST):
    """The text of every string constant and f-string in ``tree``, docstrings aside; an f-string
    is read whole, its replacement fields as ``x``: ``f"any_cr[{by}]~fisher"`` is
    ``any_cr[x]~fisher``."""
    skipped = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skipped |= {id(v) for v in node.values}
            yield "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skipped
        ):
            yield node.value


def _has_the_shape_of_a_key(word: str) -> bool:
    try:
        key = Key.parse(word.strip("`'\",;:()"))
    except ValueError:
        return False
    return bool(_STATISTIC.fullmatch(key.statistic) and re.fullmatch(r"([a-z_]\w*)?", key.by))


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        ("any_cr[all]", True),
        ("crs_grade_ge3[crs=True]", True),
        ("by_centre.available[all]", True),
        ("any_cr[x=x]", True),  # f"any_cr[{var}={level}]"
        ("see x[x]~fisher", True),  # f"see {measure}[{by}]~fisher"
        ("write NAME=VALUE[,VALUE...]", False),
        ("runs/x/report/index.html", False),
    ],
)
def test_a_word_with_the_shape_of_a_result_key_is_told_from_other_bracketed_text(text, shaped):
    assert any(_has_the_shape_of_a_key(word) for word in text.split()) is shaped


def test_a_docstring_naming_a_key_is_not_read_as_code_but_an_f_string_building_one_is():
    source = 'def f(by):\n    """Reads ``any_cr[all]``."""\n    return f"any_cr[{by}]~fisher"\n'
    assert list(_code_strings(ast.parse(source))) == ["any_cr[x]~fisher"]


def test_no_string_or_f_string_in_the_pipeline_package_has_the_shape_of_a_result_key():
    from pathlib import Path

    found = [
        f"{path.name}: {text!r}"
        for path in sorted((Path(__file__).parents[1] / "pipeline").glob("*.py"))
        for text in _code_strings(ast.parse(path.read_text(encoding="utf-8")))
        if any(_has_the_shape_of_a_key(word) for word in text.split())
    ]
    assert not found, (
        "result keys belong to helpers (helpers.batch_view for the batch summary):\n"
        + "\n".join(found)
    )
