"""Synthetic cohorts of any size under the data contract, to test and benchmark the
pipeline at scale; not a model of the disease, never to be reported as data.

Marginals are close to the paper's Tables 1-2 and section 3, and every cross-field rule
holds by construction. All draws come from one local ``Generator(PCG64(seed))``. CR
follows a logistic model (lower odds with high burden, more than two lines, >= 50 %
blasts after debulking) calibrated to :data:`CR_RATE`; CRS, MRD, HSCT and cycles depend
on response. Follow-up (optional) uses a second generator ``PCG64([seed, 1])`` so the
other columns do not change: exponential times with the medians below, censored by a
uniform end of follow-up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from helpers.contract import FOLLOW_UP_NAMES, NAMES, column

CATEGORY_CODES = column("debulking_category").codes
RESPONSE_CODES = column("response").codes

# --- Marginals (paper Table 1, Table 2 and section 3; shares of all patients) ---

MALE_SHARE = 0.62
RELAPSED_SHARE = 0.71
PH_POSITIVE_SHARE = 0.38
#: Previous treatment lines 1..5 (Table 1: 21 % / 38 % / 41 % for 1 / 2 / >= 3).
PRIOR_LINES_SHARES = {1: 0.21, 2: 0.38, 3: 0.24, 4: 0.11, 5: 0.06}
#: Prior HSCT by lines (1, 2, >= 3); about 50 % overall.
PRIOR_HSCT_BY_LINES = (0.25, 0.50, 0.62)
#: Age: 18 + 62 * Beta(a, b) rounded: median about 45, range 18-80, about 58 % < 50.
AGE_MIN, AGE_SPAN, AGE_BETA = 18, 62, (1.5, 1.8)
#: Baseline blasts groups: missing, < 20, 20-49, >= 50 (Table 1: 3 / 21 / 18 / 59 %).
BASELINE_GROUP_SHARES = (0.03, 0.20, 0.18, 0.59)
#: Debulking categories for patients without a TKI (Table 2 proportions 21:53:15).
NON_TKI_CATEGORY_WEIGHTS = {"steroids": 21, "low_intensity_chemo": 53, "polychemotherapy": 15}
#: Share of Ph-positive patients debulked with a TKI (12 % of all / 38 % Ph+).
TKI_AMONG_PH_POSITIVE = 0.12 / 0.38
#: Regimens within each category, weighted by Table 2 counts.
REGIMENS = {
    "steroids": {"dexamethasone": 5, "prednisone": 2},
    "low_intensity_chemo": {
        "vincristine + steroids": 6,
        "vindesine + dexamethasone": 1,
        "6-mp + steroids": 2,
        "vincristine": 4,
        "hydroxyurea": 1,
        "vinblastine + prednisone + 6-mp + methotrexate": 1,
        "vincristine + 6-mp": 2,
        "steroids + hydroxyurea + 6-mp": 1,
    },
    "polychemotherapy": {
        "idarubicin + vincristine + peg-asparaginase + dexamethasone": 1,
        "hyper-cvad": 1,
        "vincristine + daunoblastin + erwinase + methylprednisolone": 1,
        "cyclophosphamide + vincristine": 1,
        "steroids + cyclophosphamide + vincristine": 1,
    },
    "tki": {
        "ponatinib": 1,
        "ponatinib + dexamethasone": 1,
        "vincristine + ponatinib + prednisone": 1,
        "steroids + fla-ida + ponatinib": 1,
    },
}
#: Days from debulking start to blinatumomab: inclusive uniform range per category
#: (polychemotherapy 20-48 as in section 3.2), and the share not recorded.
DAYS_RANGE = {
    "steroids": (3, 10),
    "low_intensity_chemo": (5, 30),
    "polychemotherapy": (20, 48),
    "tki": (7, 30),
}
DAYS_MISSING_SHARE = 0.10
#: Blasts after debulking: share available (22/34), and among high-burden patients
#: the share >= 50 %, among patients with >= 20 % the share 20-49 % (section 3.2:
#: 82 / 9 / 9 % for < 20 / 20-49 / >= 50 among available).
POST_AVAILABLE_SHARE = 0.65
POST_HIGH_AMONG_HIGH_BURDEN = 0.15
POST_MID_AMONG_AT_LEAST_20 = 0.12
#: Blinatumomab dose: full, full_interrupted, reduced (30 / 3 / 1 of 34).
DOSE_SHARES = {"full": 0.88, "full_interrupted": 0.09, "reduced": 0.03}
#: Population share with CR within 2 cycles (23/34) and the CR / CRp / CRi split.
CR_RATE = 0.68
CR_KIND_SHARES = {"cr": 19 / 23, "crp": 2 / 23, "cri": 2 / 23}
#: Log odds-ratios of CR: baseline blasts >= 50 %, > 2 previous lines, blasts after
#: debulking >= 50 %. Chosen by hand to give subgroup gaps of the paper's direction.
CR_LOG_ODDS = {"high_burden": -1.5, "more_than_two_lines": -1.5, "post_high": -1.5}
#: MRD assessed among CR (21/23) and complete MRD response among assessed (17/21).
MRD_ASSESSED_AMONG_CR = 0.91
MRD_NEGATIVE_AMONG_ASSESSED = 0.81
#: CRS: not recorded share; yes among recorded by high baseline burden (about 15 %).
CRS_MISSING_SHARE = 0.03
CRS_BY_HIGH_BURDEN = (0.06, 0.22)
CRS_GRADE_SHARES = {1: 0.50, 2: 0.40, 3: 0.08, 4: 0.02}
#: HSCT after blinatumomab among CR, by prior HSCT (no, yes); about 30 % overall.
HSCT_AFTER_BY_PRIOR = (0.40, 0.20)
#: Among patients without CR, the share stopped after cycle 1 (26 % of all / 32 %).
ONE_CYCLE_AMONG_NO_CR = 0.26 / 0.32
#: Follow-up, in months: time from blinatumomab start to CR (uniform); medians of
#: the exponential times: death without CR (from start), relapse (from CR), death
#: after relapse (from relapse), death without relapse (from CR, and after HSCT).
MONTHS_TO_CR = (1.0, 3.0)
MEDIAN_DEATH_WITHOUT_CR = 3.5
MEDIAN_RELAPSE = 7.0
MEDIAN_DEATH_AFTER_RELAPSE = 4.0
MEDIAN_DEATH_WITHOUT_RELAPSE = 60.0
MEDIAN_DEATH_WITHOUT_RELAPSE_AFTER_HSCT = 30.0
#: Hazard ratios: high baseline burden (death without CR, relapse); HSCT (relapse after it).
HIGH_BURDEN_HAZARD_RATIO = 1.4
HSCT_RELAPSE_HAZARD_RATIO = 0.6
#: Months from CR to HSCT (uniform) and the end of follow-up from start (uniform).
MONTHS_CR_TO_HSCT = (0.5, 3.0)
FOLLOW_UP_END = (3.0, 48.0)
#: Share of patients whose follow-up is not recorded (all six cells blank).
FOLLOW_UP_MISSING_SHARE = 0.02
#: Share of relapse-free-survival events whose cause (relapse or death) is not recorded.
CAUSE_UNKNOWN_SHARE = 0.03
CENTERS = tuple(f"c{i:02d}" for i in range(1, 8))
SOURCE_SHARES = {"neuf": 14 / 34, "paap": 15 / 34, "observational": 5 / 34}


def synthesize_cohort(n: int, seed: int = 0, *, follow_up: bool = False) -> pd.DataFrame:
    """Raw cohort of ``n`` patients as CSV text cells (blank = missing): the contract
    columns in order, plus the five follow-up columns when ``follow_up``. The same
    ``(n, seed)`` always gives the same frame; ids ``S000001``, ``S000002``..."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.Generator(np.random.PCG64(seed))

    male = rng.random(n) < MALE_SHARE
    age = AGE_MIN + np.floor(AGE_SPAN * rng.beta(*AGE_BETA, size=n) + 0.5)
    relapsed = rng.random(n) < RELAPSED_SHARE
    lines = _draw_index(rng, n, list(PRIOR_LINES_SHARES.values())) + 1
    prior_hsct = rng.random(n) < np.asarray(PRIOR_HSCT_BY_LINES)[np.minimum(lines, 3) - 1]
    ph_positive = rng.random(n) < PH_POSITIVE_SHARE

    baseline_group = _draw_index(rng, n, BASELINE_GROUP_SHARES)  # 0 = missing
    baseline = _blasts_in_group(rng, baseline_group, {1: (1, 20), 2: (20, 50), 3: (50, 96)})
    high_burden = baseline_group == 3

    category = _draw_category(rng, ph_positive)
    regimen = _draw_regimen(rng, category)
    days = _draw_days(rng, category)

    post = _draw_post_blasts(rng, baseline, baseline_group)
    post_high = post >= 50  # NaN compares False

    shift = (
        CR_LOG_ODDS["high_burden"] * high_burden
        + CR_LOG_ODDS["more_than_two_lines"] * (lines > 2)
        + CR_LOG_ODDS["post_high"] * post_high
    )
    any_cr = rng.random(n) < expit(_cr_intercept() + shift)
    cr_kind = _draw_index(rng, n, list(CR_KIND_SHARES.values()))
    response = _words(RESPONSE_CODES, np.where(any_cr, cr_kind, RESPONSE_CODES.index("none")))

    one_cycle = ~any_cr & (rng.random(n) < ONE_CYCLE_AMONG_NO_CR)
    cycles = np.where(one_cycle, 1.0, 2.0)

    mrd_assessed = any_cr & (rng.random(n) < MRD_ASSESSED_AMONG_CR)
    mrd_positive = rng.random(n) >= MRD_NEGATIVE_AMONG_ASSESSED
    mrd = _words(("", "negative", "positive"), mrd_assessed * (1 + mrd_positive))

    crs_recorded = rng.random(n) >= CRS_MISSING_SHARE
    crs_yes = crs_recorded & (
        rng.random(n) < np.asarray(CRS_BY_HIGH_BURDEN)[high_burden.astype(int)]
    )
    crs = _words(("", "no", "yes"), crs_recorded * (1 + crs_yes))
    grade = _draw_index(rng, n, list(CRS_GRADE_SHARES.values())) + 1.0
    crs_grade = _number_text(np.where(crs_yes, grade, np.nan))

    hsct_after = any_cr & (rng.random(n) < np.asarray(HSCT_AFTER_BY_PRIOR)[prior_hsct.astype(int)])

    width = max(6, len(str(n)))
    columns = {
        "patient_id": np.array([f"S{i:0{width}d}" for i in range(1, n + 1)], dtype=object),
        "center": _words(CENTERS, rng.integers(0, len(CENTERS), size=n)),
        "source": _words(list(SOURCE_SHARES), _draw_index(rng, n, list(SOURCE_SHARES.values()))),
        "sex": _words(("female", "male"), male),
        "age_years": _number_text(age),
        "disease_status": _words(("refractory", "relapsed"), relapsed),
        "prior_lines": _number_text(lines),
        "prior_hsct": _yes_no(prior_hsct),
        "ph_status": _words(("negative", "positive"), ph_positive),
        "bmb_baseline_pct": _number_text(baseline),
        "debulking_category": _words(CATEGORY_CODES, category),
        "debulking_regimen": regimen,
        "debulking_to_blina_days": _number_text(days),
        "bmb_post_debulking_pct": _number_text(post),
        "blina_dose": _words(list(DOSE_SHARES), _draw_index(rng, n, list(DOSE_SHARES.values()))),
        "blina_cycles": _number_text(cycles),
        "response": response,
        "mrd_status": mrd,
        "crs": crs,
        "crs_grade": crs_grade,
        "hsct_after_blina": _yes_no(hsct_after),
    }
    names = NAMES
    if follow_up:
        high = baseline_group == 3
        columns.update(
            _draw_follow_up(
                np.random.Generator(np.random.PCG64([seed, 1])), any_cr, high, hsct_after
            )
        )
        names = NAMES + FOLLOW_UP_NAMES
    return pd.DataFrame({name: pd.array(columns[name], dtype="str") for name in names})


def write_synthetic(n: int, seed: int, path: str | Path, *, follow_up: bool = False) -> Path:
    """Write :func:`synthesize_cohort` as a UTF-8 CSV (``n >= 1``, else ValueError); the
    bytes depend only on ``(n, seed, follow_up)``."""
    if n < 1:
        raise ValueError(f"a cohort file needs at least 1 patient, got n={n}")
    path = Path(path)
    synthesize_cohort(n, seed, follow_up=follow_up).to_csv(
        path, index=False, lineterminator="\n", encoding="utf-8"
    )
    return path


def synth_from_cli(args) -> int:
    """``python -m pipeline synth``: 0 when the whole CSV was written; 1, silently, when the
    reader of standard output closed it early (``synth ... | head``)."""
    follow_up = getattr(args, "follow_up", False)
    if args.out is not None:
        write_synthetic(args.n, args.seed, args.out, follow_up=follow_up)
        return 0
    if args.n < 1:
        raise ValueError(f"a cohort file needs at least 1 patient, got n={args.n}")
    try:
        synthesize_cohort(args.n, args.seed, follow_up=follow_up).to_csv(
            sys.stdout, index=False, lineterminator="\n"
        )
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


# --- private drawing helpers (vectorised; categories are integer positions) ---


def _draw_index(rng: np.random.Generator, n: int, shares) -> np.ndarray:
    """Indices 0..k-1 drawn with probabilities ``shares`` (normalised)."""
    cumulative = np.cumsum(shares, dtype=float)
    cumulative /= cumulative[-1]
    return np.searchsorted(cumulative, rng.random(n), side="right").clip(max=len(cumulative) - 1)


def _conditional_index(
    rng: np.random.Generator, group: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Per row, an index drawn from row ``group`` of the weight matrix ``weights``."""
    cumulative = np.cumsum(weights, axis=1, dtype=float)
    cumulative /= cumulative[:, -1:]
    u = rng.random(group.size)[:, None]
    return (u >= cumulative[group]).sum(axis=1).clip(max=weights.shape[1] - 1)


def _draw_category(rng: np.random.Generator, ph_positive: np.ndarray) -> np.ndarray:
    """Debulking category position in :data:`CATEGORY_CODES`; ``tki`` only if Ph-positive."""
    weights = [NON_TKI_CATEGORY_WEIGHTS[c] for c in CATEGORY_CODES[:3]]
    non_tki = _draw_index(rng, ph_positive.size, weights)
    tki = ph_positive & (rng.random(ph_positive.size) < TKI_AMONG_PH_POSITIVE)
    return np.where(tki, CATEGORY_CODES.index("tki"), non_tki)


def _draw_regimen(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Regimen text within each category, weighted by Table 2 counts (object array)."""
    width = max(len(r) for r in REGIMENS.values())
    weights = np.zeros((len(CATEGORY_CODES), width))
    texts = np.full((len(CATEGORY_CODES), width), "", dtype=object)
    for i, name in enumerate(CATEGORY_CODES):
        for j, (text, count) in enumerate(REGIMENS[name].items()):
            weights[i, j], texts[i, j] = count, text
    return texts[category, _conditional_index(rng, category, weights)]


def _draw_days(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Days from debulking to blinatumomab (float, NaN = not recorded)."""
    low, high = np.array([DAYS_RANGE[c] for c in CATEGORY_CODES], dtype=float).T
    low, high = low[category], high[category]
    days = np.floor(low + (high - low + 1) * rng.random(category.size))
    return np.where(rng.random(category.size) < DAYS_MISSING_SHARE, np.nan, days)


def _blasts_in_group(rng: np.random.Generator, group: np.ndarray, bounds: dict) -> np.ndarray:
    """Whole-number blasts uniform in ``[low, high)`` of each group; NaN for others."""
    low = np.full(group.size, np.nan)
    high = np.full(group.size, np.nan)
    for g, (a, b) in bounds.items():
        low[group == g], high[group == g] = a, b
    return np.floor(low + (high - low) * rng.random(group.size))


def _draw_post_blasts(
    rng: np.random.Generator, baseline: np.ndarray, baseline_group: np.ndarray
) -> np.ndarray:
    """Blasts after debulking: available for a share, >= 50 only after high burden,
    20-49 only after >= 20, and never above the baseline value (NaN = not available)."""
    n = baseline.size
    post_group = np.where(
        (baseline_group == 3) & (rng.random(n) < POST_HIGH_AMONG_HIGH_BURDEN),
        3,
        np.where((baseline_group >= 2) & (rng.random(n) < POST_MID_AMONG_AT_LEAST_20), 2, 1),
    )
    # Low blasts after debulking are skewed towards 0 (paper median 8 %).
    low_value = np.floor(20 * rng.beta(0.8, 1.4, size=n))
    mid_value = np.floor(20 + 30 * rng.random(n))
    high_value = np.floor(50 + 41 * rng.random(n))
    post = np.choose(post_group - 1, [low_value, mid_value, high_value])
    post = np.fmin(post, baseline)  # fmin keeps post where baseline is NaN
    return np.where(rng.random(n) < POST_AVAILABLE_SHARE, post, np.nan)


def _draw_follow_up(
    rng: np.random.Generator, any_cr: np.ndarray, high_burden: np.ndarray, hsct: np.ndarray
) -> dict[str, np.ndarray]:
    """The six follow-up columns as text. Times run from CR; transplanted patients are
    in remission and alive (and followed) until their HSCT."""
    n = any_cr.size
    burden = np.where(high_burden, HIGH_BURDEN_HAZARD_RATIO, 1.0)

    def exponential(median, hazard_ratio=1.0):
        return rng.exponential(median / np.log(2) / hazard_ratio, n)

    to_cr = rng.uniform(*MONTHS_TO_CR, n)
    death_without_cr = exponential(MEDIAN_DEATH_WITHOUT_CR, burden)
    to_hsct = rng.uniform(*MONTHS_CR_TO_HSCT, n)  # from CR
    relapse = np.where(
        hsct,
        to_hsct + exponential(MEDIAN_RELAPSE, burden * HSCT_RELAPSE_HAZARD_RATIO),
        exponential(MEDIAN_RELAPSE, burden),
    )
    after_relapse = exponential(MEDIAN_DEATH_AFTER_RELAPSE)
    without_relapse = np.where(
        hsct,
        to_hsct + exponential(MEDIAN_DEATH_WITHOUT_RELAPSE_AFTER_HSCT),
        exponential(MEDIAN_DEATH_WITHOUT_RELAPSE),
    )
    death_from_cr = np.minimum(relapse + after_relapse, without_relapse)
    rfs_end = np.minimum(relapse, without_relapse)
    death = np.where(any_cr, to_cr + death_from_cr, death_without_cr)
    end = rng.uniform(*FOLLOW_UP_END, n)
    end = np.where(hsct, np.maximum(end, to_cr + to_hsct + 0.1), end)
    os_months = np.maximum(np.minimum(death, end), 0.1)
    rfs_months = np.maximum(np.minimum(rfs_end, end - to_cr), 0.1)
    recorded = rng.random(n) >= FOLLOW_UP_MISSING_SHARE
    given = recorded & any_cr
    rfs_event = given & (rfs_end <= end - to_cr)
    # Drawn last, so the other columns are those of a file without the cause.
    cause_known = rng.random(n) >= CAUSE_UNKNOWN_SHARE
    cause = np.where(rfs_event & cause_known, 1 + (relapse > without_relapse), 0)
    return {
        "os_months": _month_text(np.where(recorded, os_months, np.nan)),
        "os_event": _words(("", "no", "yes"), recorded * (1 + (death <= end))),
        "rfs_months": _month_text(np.where(given, rfs_months, np.nan)),
        "rfs_event": _words(("", "no", "yes"), given * (1 + rfs_event)),
        "rfs_event_cause": _words(("", "relapse", "death"), cause),
        "hsct_months": _month_text(np.where(recorded & hsct, to_cr + to_hsct, np.nan)),
    }


def _month_text(values: np.ndarray) -> np.ndarray:
    """Months with one decimal (rounding keeps every order between them); NaN becomes blank."""
    text = np.char.mod("%.1f", np.round(np.nan_to_num(values), 1)).astype(object)
    return np.where(np.isnan(values), "", text)


def _cr_intercept() -> float:
    """Intercept of the CR model giving population CR rate :data:`CR_RATE`, averaged over
    the strata with their probabilities under this module's constants."""
    p_high = BASELINE_GROUP_SHARES[3]
    p_lines = sum(v for k, v in PRIOR_LINES_SHARES.items() if k > 2) / sum(
        PRIOR_LINES_SHARES.values()
    )
    p_post_high = POST_AVAILABLE_SHARE * POST_HIGH_AMONG_HIGH_BURDEN  # given high burden
    strata = []  # (probability, log-odds shift)
    for high in (0, 1):
        for many in (0, 1):
            for post in (0, 1) if high else (0,):
                p = (p_high if high else 1 - p_high) * (p_lines if many else 1 - p_lines)
                if high:
                    p *= p_post_high if post else 1 - p_post_high
                shift = (
                    CR_LOG_ODDS["high_burden"] * high
                    + CR_LOG_ODDS["more_than_two_lines"] * many
                    + CR_LOG_ODDS["post_high"] * post
                )
                strata.append((p, shift))
    weights, shifts = np.array(strata).T

    def gap(intercept: float) -> float:
        return float(weights @ expit(intercept + shifts)) - CR_RATE

    return brentq(gap, -20.0, 20.0, xtol=1e-12)


def _words(words, index: np.ndarray) -> np.ndarray:
    """``words[index]`` as an object array (fast: no per-cell string conversion)."""
    return np.asarray(tuple(words), dtype=object)[np.asarray(index, dtype=np.int64)]


def _yes_no(flag: np.ndarray) -> np.ndarray:
    return _words(("no", "yes"), flag)


def _number_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers 0..999 as text via a lookup table; NaN becomes blank."""
    values = np.asarray(values, dtype=float)
    table = np.array([str(i) for i in range(1000)] + [""], dtype=object)
    return table[np.where(np.isnan(values), 1000, np.nan_to_num(values)).astype(np.int64)]
