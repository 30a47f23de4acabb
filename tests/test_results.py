"""Result rows: schema, key grammar, duplicate keys, atomic writes."""

import pandas as pd
import pytest

from helpers import results


@pytest.mark.parametrize(
    "args, expected",
    [
        (("any_cr",), "any_cr[all]"),
        (("any_cr", {"high_burden": True}), "any_cr[high_burden=True]"),
        (
            ("n", {"high_burden": True, "debulking_category": "tki"}),
            "n[high_burden=True&debulking_category=tki]",
        ),
    ],
)
def test_rate_key_follows_the_documented_grammar(args, expected):
    assert results.rate_key(*args) == expected


@pytest.mark.parametrize(
    "key, part, expected",
    [
        ("km_os[all]", "median", "km_os[all].median"),
        (
            "km_rfs[high_burden=True|any_cr=True]",
            "survival_12m",
            "km_rfs[high_burden=True|any_cr=True].survival_12m",
        ),
        ("cir[any_cr=True]", "cif_6m", "cir[any_cr=True].cif_6m"),
    ],
)
def test_part_of_adds_a_part_to_a_key_and_keeps_the_rest_as_written(key, part, expected):
    assert results.Key.part_of(key, part) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ()),
        ("ph_status=negative", (("ph_status", "negative"),)),
        (
            "high_burden=True&ph_status=positive",
            (("high_burden", "True"), ("ph_status", "positive")),
        ),
    ],
)
def test_conditions_reads_the_name_level_pairs_of_a_key(text, expected):
    assert results.conditions(text) == expected


def test_test_key_puts_the_population_filter_after_a_bar():
    assert results.test_key("any_cr", "lines_group", "fisher") == "any_cr[lines_group]~fisher"
    assert (
        results.test_key("crs", "debulking_category", "fisher", {"crs_recorded": True})
        == "crs[debulking_category|crs_recorded=True]~fisher"
    )


def test_result_frame_has_exactly_the_schema_columns_and_rejects_duplicate_keys():
    frame = results.result_frame([{"key": "a", "estimate": 1.0}], "01_x")
    assert tuple(frame.columns) == results.RESULT_COLUMNS
    assert frame.loc[0, "notebook"] == "01_x"
    with pytest.raises(ValueError, match="duplicate result keys in 01_x: \\['a'\\]"):
        results.result_frame([{"key": "a"}, {"key": "a"}], "01_x")


def test_written_results_read_back_in_notebook_order(tmp_path):
    results.write_results(pd.DataFrame([{"key": "b", "estimate": 2.0}]), "02_y", tmp_path)
    results.write_results(pd.DataFrame([{"key": "a", "estimate": 1.0}]), "01_x", tmp_path)
    back = results.read_results(tmp_path)
    assert back["notebook"].tolist() == ["01_x", "02_y"]
    assert back["estimate"].tolist() == [1.0, 2.0]
    assert not list((tmp_path / "results").glob("*.part"))


@pytest.mark.parametrize(
    "key, expected",
    [
        (results.Key("any_cr", by="high_burden"), "any_cr[high_burden]"),
        (
            results.Key("fisher_sample_size", by="cr_crh_cri", within={"true_rate": 0.3}, part="n"),
            "fisher_sample_size[cr_crh_cri|true_rate=0.3].n",
        ),
        (results.Key("replication", by="any_cr[all]"), "replication[any_cr[all]]"),
        (
            results.Key("replication", by="any_cr[high_burden=False] - any_cr[high_burden=True]"),
            "replication[any_cr[high_burden=False] - any_cr[high_burden=True]]",
        ),
        (
            results.Key("landmark_os", by="hsct_by_6m", within={"any_cr": True}, test="logrank"),
            "landmark_os[hsct_by_6m|any_cr=True]~logrank",
        ),
        (results.Key("km_os", part="survival_12m"), "km_os[all].survival_12m"),
        (
            results.Key(
                "maic", by="tower", part=str(results.Key("balance", by="male", part="after"))
            ),
            "maic[tower].balance[male].after",
        ),
        (
            results.Key("maic", by="tower", part=str(results.Key("rate", {"matched": "age+male"}))),
            "maic[tower].rate[matched=age+male]",
        ),
    ],
)
def test_a_key_writes_the_text_the_notebooks_store_and_reads_back_as_written(key, expected):
    assert str(key) == expected
    assert str(results.Key.parse(expected)) == expected
