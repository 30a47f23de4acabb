"""Competing risks after remission (helpers.competing) against R's cmprsk.

Reference values from R 4.2, cmprsk 2.2 (``cuminc``; Gray's test in ``$Tests``), computed on
the data below with:

    library(cmprsk)
    months <- c(3, 6, 11, 1, 2, 35, 2, 3, 4, 7, 4, 8, 10, 2, 14, 13, 26, 28, 17, 13, 6, 6, 7, 9,
                22, 9, 13, 37, 1, 5, 11, 4, 29, 5, 4, 12, 3, 6, 2, 2)
    codes <- c(0, 1, 1, 2, 1, 1, 0, 0, 2, 1, 1, 0, 0, 2, 1, 1, 1, 0, 0, 0, 2, 1, 0, 1, 0, 0, 1, 2,
               0, 2, 0, 0, 0, 0, 1, 1, 2, 0, 1, 0)
    groups <- c(2, 3, 2, 3, 2, 2, 3, 2, 3, 1, 3, 3, 3, 1, 1, 1, 2, 2, 3, 1, 1, 3, 1, 3, 1, 2, 1, 2,
                3, 3, 3, 3, 2, 3, 2, 1, 2, 2, 1, 1)
    three <- cuminc(months, codes, groups, cencode = 0); print(three$Tests, digits = 12)
    two <- cuminc(months, codes, groups == 1, cencode = 0); print(two$Tests, digits = 12)
    all <- cuminc(months, codes, cencode = 0)
    print(timepoints(all, c(3, 6, 12, 24))$est, digits = 12)

The data have many tied times, within and across causes, and censorings tied with events.
"""

import math

import pandas as pd
import pytest

from helpers import competing

MONTHS = [
    3,
    6,
    11,
    1,
    2,
    35,
    2,
    3,
    4,
    7,
    4,
    8,
    10,
    2,
    14,
    13,
    26,
    28,
    17,
    13,
    6,
    6,
    7,
    9,
    22,
    9,
    13,
    37,
    1,
    5,
    11,
    4,
    29,
    5,
    4,
    12,
    3,
    6,
    2,
    2,
]
CODES = [
    0,
    1,
    1,
    2,
    1,
    1,
    0,
    0,
    2,
    1,
    1,
    0,
    0,
    2,
    1,
    1,
    1,
    0,
    0,
    0,
    2,
    1,
    0,
    1,
    0,
    0,
    1,
    2,
    0,
    2,
    0,
    0,
    0,
    0,
    1,
    1,
    2,
    0,
    1,
    0,
]
GROUPS = [
    2,
    3,
    2,
    3,
    2,
    2,
    3,
    2,
    3,
    1,
    3,
    3,
    3,
    1,
    1,
    1,
    2,
    2,
    3,
    1,
    1,
    3,
    1,
    3,
    1,
    2,
    1,
    2,
    3,
    3,
    3,
    3,
    2,
    3,
    2,
    1,
    2,
    2,
    1,
    1,
]


@pytest.mark.parametrize(
    "groups, cause, r_stat, r_p, r_df",
    [
        (GROUPS, 1, 1.000705001984, 0.606316894732, 2),
        (GROUPS, 2, 0.967945234835, 0.616330078390, 2),
        ([g == 1 for g in GROUPS], 1, 0.52745675884597, 0.467678057705, 1),
        ([g == 1 for g in GROUPS], 2, 0.00681069856259, 0.934227683190, 1),
    ],
)
def test_grays_test_equals_cmprsk_cuminc(groups, cause, r_stat, r_p, r_df):
    statistic, df, p = competing.gray_test(MONTHS, CODES, groups, cause)
    assert df == r_df
    assert statistic == pytest.approx(r_stat, abs=1e-9)
    assert p == pytest.approx(r_p, abs=1e-9)


def test_grays_test_does_not_depend_on_which_group_is_named_last():
    relabelled = [{1: "c", 2: "a", 3: "b"}[g] for g in GROUPS]
    assert competing.gray_test(MONTHS, CODES, relabelled, 1)[0] == pytest.approx(
        1.000705001984, abs=1e-9
    )


@pytest.mark.parametrize(
    "groups, codes",
    [
        ([1] * len(MONTHS), CODES),  # one group: nothing to compare
        (GROUPS, [c if c != 1 else 2 for c in CODES]),  # no event of the cause
    ],
)
def test_grays_test_is_not_computed_without_two_groups_or_an_event(groups, codes):
    statistic, _, p = competing.gray_test(MONTHS, codes, groups, 1)
    assert math.isnan(statistic) and math.isnan(p)


@pytest.mark.parametrize(
    "cause, t, r_value",
    [
        (1, 3, 0.0513157894737),
        (1, 6, 0.172169059011),
        (1, 12, 0.329720775870),
        (1, 24, 0.472288456351),
        (2, 3, 0.0778708133971),
        (2, 6, 0.168440988836),
        (2, 12, 0.168440988836),
        (2, 24, 0.168440988836),
    ],
)
def test_the_aalen_johansen_incidence_equals_cmprsk_at_and_between_event_times(cause, t, r_value):
    fit = competing.fit_cif(MONTHS, CODES, cause)
    value, low, high = competing.cif_at(fit, t)
    assert value == pytest.approx(r_value, abs=1e-6)
    assert low < value < high


def test_relapse_and_death_in_remission_add_up_to_one_minus_relapse_free_survival():
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(MONTHS, [c != 0 for c in CODES])
    for t in (2, 5, 13, 30):
        total = sum(
            competing.cif_at(competing.fit_cif(MONTHS, CODES, cause), t)[0] for cause in (1, 2)
        )
        assert total == pytest.approx(1 - float(km.survival_function_at_times(t).iloc[0]), abs=1e-9)


def test_the_incidence_is_not_estimated_past_the_longest_follow_up():
    assert all(math.isnan(x) for x in competing.cif_at(competing.fit_cif(MONTHS, CODES, 1), 40))


@pytest.mark.parametrize(
    "event, cause, expected",
    [
        (True, "relapse", 1),
        (True, "death", 2),
        (False, None, 0),
        (True, None, None),
        (None, None, None),
    ],
)
def test_event_codes_read_the_contract_columns_and_leave_an_unknown_cause_missing(
    event, cause, expected
):
    codes = competing.event_codes(
        pd.Series([event], dtype="boolean"), pd.Series([cause], dtype="category")
    )
    assert pd.isna(codes.iloc[0]) if expected is None else codes.iloc[0] == expected
