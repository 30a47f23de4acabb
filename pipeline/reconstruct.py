"""Reconstruct a 34-patient cohort that reproduces the paper's printed aggregates.

OR-Tools CP-SAT finds one cohort meeting at once every count, proportion, median,
minimum and maximum in ``data/published_figures.csv``; each constraint names its figure
id, and a build fails if a figure of those kinds is not encoded. Not real patients:
joint distributions the paper does not report are whatever the solver finds first; p-values
are not constrained, so they stay genuine checks. One worker, a fixed seed, seeded hints
and no objective make the bytes deterministic for one OR-Tools version.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from ortools.sat.python import cp_model

from helpers.contract import NAMES
from helpers.published import load_published_figures
from helpers.reproduction import CONSTRAINED_KINDS

#: CP-SAT seed (the paper's publication date).
SEED = 20220106

#: Table 2 regimens: (figure id, regimen code written to the cohort, category).
REGIMENS: tuple[tuple[str, str, str], ...] = (
    ("t2_reg_dexamethasone", "dexamethasone", "steroids"),
    ("t2_reg_prednisone", "prednisone", "steroids"),
    ("t2_reg_vincristine_steroids", "vincristine + steroids", "low_intensity_chemo"),
    ("t2_reg_vindesine_dexamethasone", "vindesine + dexamethasone", "low_intensity_chemo"),
    ("t2_reg_6mp_steroids", "6-mp + steroids", "low_intensity_chemo"),
    ("t2_reg_vincristine", "vincristine", "low_intensity_chemo"),
    ("t2_reg_hu", "hu", "low_intensity_chemo"),
    (
        "t2_reg_vinblastine_prednisone_6mp_methotrexate",
        "vinblastine + prednisone + 6-mp + methotrexate",
        "low_intensity_chemo",
    ),
    ("t2_reg_vincristine_6mp", "vincristine + 6-mp", "low_intensity_chemo"),
    ("t2_reg_steroids_hu_6mp", "steroids + hu + 6-mp", "low_intensity_chemo"),
    (
        "t2_reg_idarubicin_vincristine_pegasp_dexamethasone",
        "idarubicin + vincristine + peg-asparaginase + dexamethasone",
        "polychemotherapy",
    ),
    ("t2_reg_hyper_cvad", "hyper-cvad", "polychemotherapy"),
    (
        "t2_reg_vincristine_daunoblastin_erwinase_methylprednisolone",
        "vincristine + daunoblastin + erwinase + methylprednisolone",
        "polychemotherapy",
    ),
    ("t2_reg_cyclophosphamide_vincristine", "cyclophosphamide + vincristine", "polychemotherapy"),
    (
        "t2_reg_steroids_cyclophosphamide_vincristine",
        "steroids + cyclophosphamide + vincristine",
        "polychemotherapy",
    ),
    ("t2_reg_ponatinib", "ponatinib", "tki"),
    ("t2_reg_ponatinib_dexamethasone", "ponatinib + dexamethasone", "tki"),
    ("t2_reg_vincristine_ponatinib_prednisone", "vincristine + ponatinib + prednisone", "tki"),
    ("t2_reg_steroids_flaida_ponatinib", "steroids + fla-ida + ponatinib", "tki"),
)
CATEGORIES = ("steroids", "low_intensity_chemo", "polychemotherapy", "tki")

#: Plausibility assumptions (not published figures), documented in the datasheet.
MAX_PATIENTS_PER_CENTRE = 8
MAX_SAME_AGE = 2
MAX_SAME_BASELINE_BLASTS = 2
MAX_SAME_POST_BLASTS = 3
MAX_SAME_DAYS = 2
#: Previous lines above 2 are only bounded by the range 1-5; keep 3 the most common.
MAX_PATIENTS_WITH_LINES = {4: 5, 5: 2}

_SENTINEL = 100_000  # key offset for patients without a value, so they never clash


@dataclass(frozen=True)
class Reconstruction:
    """A solved cohort (34 rows, contract columns and file codes, blanks ``pd.NA``), the
    figure ids encoded, the CP-SAT status name and the solve time in seconds."""

    cohort: pd.DataFrame
    figure_ids: tuple[str, ...]
    status: str
    wall_seconds: float


class _Model:
    """CP-SAT model of the cohort; each ``fig_*`` call encodes one published figure."""

    def __init__(self, figures: pd.DataFrame):
        self.fig = figures.set_index("id")
        self.m = cp_model.CpModel()
        self.used: list[str] = []
        self.n = self._int("abs_n_patients", "numerator")
        self.P = range(self.n)

    # -- small builders ---------------------------------------------------
    def _int(self, fid: str, col: str) -> int:
        value = self.fig.at[fid, col]
        if pd.isna(value) or float(value) != int(value):
            raise ValueError(f"figure {fid}: {col} must be a whole number, got {value!r}")
        return int(value)

    def bools(self, name: str) -> list:
        return [self.m.NewBoolVar(f"{name}_{i}") for i in self.P]

    def one_hot(self, name: str, levels) -> dict[str, list]:
        hot = {lv: self.bools(f"{name}_{lv}") for lv in levels}
        for i in self.P:
            self.m.AddExactlyOne(hot[lv][i] for lv in levels)
        return hot

    def any_of(self, name: str, arrays) -> list:
        """Per patient, a literal true when one of the (mutually exclusive) literals is."""
        out = self.bools(name)
        for i in self.P:
            self.m.Add(out[i] == sum(a[i] for a in arrays))
        return out

    def conj(self, lits):
        """A literal equal to the AND of ``lits`` (True constant for none)."""
        lits = list(lits)
        if len(lits) == 1:
            return lits[0]
        v = self.m.NewBoolVar("")
        if not lits:
            self.m.Add(v == 1)
            return v
        self.m.AddBoolAnd(lits).OnlyEnforceIf(v)
        self.m.AddBoolOr([lit.Not() for lit in lits] + [v])
        return v

    @staticmethod
    def neg(array) -> list:
        return [lit.Not() for lit in array]

    def reify_le(self, x, bound: int, name: str) -> list:
        """Per patient, a literal true exactly when ``x[i] <= bound``."""
        out = self.bools(name)
        for i in self.P:
            self.m.Add(x[i] <= bound).OnlyEnforceIf(out[i])
            self.m.Add(x[i] >= bound + 1).OnlyEnforceIf(out[i].Not())
        return out

    def cap_repeats(self, x, available, cap: int) -> None:
        """At most ``cap`` patients share a value of ``x`` (plausibility, not a figure)."""
        keys = []
        for i in self.P:
            slot = self.m.NewIntVar(0, cap - 1, "")
            key = self.m.NewIntVar(0, _SENTINEL + self.n, "")
            self.m.Add(key == cap * x[i] + slot).OnlyEnforceIf(available[i])
            self.m.Add(key == _SENTINEL + i).OnlyEnforceIf(available[i].Not())
            keys.append(key)
        self.m.AddAllDifferent(keys)

    # -- figure encoders --------------------------------------------------
    def fig_count(self, fid: str, pop=(), cond=()) -> None:
        """Figure ``fid``: #(pop and cond) == numerator; #pop == denominator if printed."""
        row = self.fig.loc[fid]
        if row["kind"] not in ("count", "proportion"):
            raise ValueError(f"figure {fid} is a {row['kind']}, not a count")
        pop_lits = [self.conj([a[i] for a in pop]) for i in self.P]
        hits = [self.conj([pop_lits[i]] + [a[i] for a in cond]) for i in self.P]
        self.m.Add(sum(hits) == self._int(fid, "numerator"))
        if not pd.isna(row["denominator"]):
            self.m.Add(sum(pop_lits) == self._int(fid, "denominator"))
        self.used.append(fid)

    def fig_summary(
        self, fid_median: str, fid_min: str, fid_max: str, x, available, cap: int
    ) -> None:
        """Median, minimum and maximum of ``x`` over patients where ``available``.

        Median ``m`` of ``k`` values is encoded as ``#(x < m) <= (k-1)//2`` and
        ``#(x > m) <= (k-1)//2``: exact for odd ``k``; for even ``k`` it forces
        both middle values to equal ``m`` (sufficient, slightly stricter).
        """
        med = self._int(fid_median, "value")
        lo = self._int(fid_min, "value")
        hi = self._int(fid_max, "value")
        n_avail = self._available_count(fid_median)
        half = (n_avail - 1) // 2
        self.m.Add(sum(available) == n_avail)
        at_most_below = self.reify_le(x, med - 1, "below")  # x < med
        at_most_med = self.reify_le(x, med, "notabove")  # x <= med
        for i in self.P:
            self.m.Add(x[i] >= lo).OnlyEnforceIf(available[i])
            self.m.Add(x[i] <= hi).OnlyEnforceIf(available[i])
        self.m.Add(sum(self.conj([available[i], at_most_below[i]]) for i in self.P) <= half)
        self.m.Add(sum(self.conj([available[i], at_most_med[i].Not()]) for i in self.P) <= half)
        for target in (lo, hi):
            hit = self.bools("attained")
            for i in self.P:
                self.m.Add(x[i] == target).OnlyEnforceIf(hit[i])
                self.m.AddImplication(hit[i], available[i])
            self.m.AddBoolOr(hit)
        if cap < self.n:
            self.cap_repeats(x, available, cap)
        self.used += [fid_median, fid_min, fid_max]

    def _available_count(self, fid_median: str) -> int:
        # The number of values behind each median, as printed next to it.
        counts = {
            "s31_age_median": self._int("abs_n_patients", "numerator"),
            "s31_lines_median": self._int("abs_n_patients", "numerator"),
            "s31_bmb_baseline_median": self._int("abs_n_patients", "numerator")
            - self._int("t1_bmb_na", "numerator"),
            "s32_post_median": self._int("s32_post_available", "numerator"),
            "s32_poly_days_median": self._int("t2_cat_polychemotherapy", "numerator"),
        }
        return counts[fid_median]


def _build(figures: pd.DataFrame) -> tuple[_Model, dict]:
    """Encode every published figure; return the model and the decision variables."""
    M = _Model(figures)
    m, P, n = M.m, M.P, M.n
    c = M.fig_count

    # ---- patient characteristics -------------------------------------
    male = M.bools("male")
    age = [m.NewIntVar(18, 100, f"age_{i}") for i in P]
    age_lt50 = M.reify_le(age, 49, "age_lt50")
    relapsed = M.bools("relapsed")
    lines = [m.NewIntVar(1, 15, f"lines_{i}") for i in P]
    lines_le1 = M.reify_le(lines, 1, "lines_le1")
    lines_le2 = M.reify_le(lines, 2, "lines_le2")
    lines_eq2 = [M.conj([lines_le2[i], lines_le1[i].Not()]) for i in P]
    prior_hsct = M.bools("prior_hsct")
    ph_pos = M.bools("ph_pos")

    def blast_groups(name, ceiling=None):
        """One-hot blast group, blasts (%; 0 when missing) and availability per patient;
        ``ceiling``: (blasts, available) that bound these where both are known."""
        group = M.one_hot(name, ("lt20", "20_49", "ge50", "na"))
        value = [m.NewIntVar(0, 100, f"{name}_{i}") for i in P]
        avail = M.neg(group["na"])
        for i in P:
            m.Add(value[i] <= 19).OnlyEnforceIf(group["lt20"][i])
            m.Add(value[i] >= 20).OnlyEnforceIf(group["20_49"][i])
            m.Add(value[i] <= 49).OnlyEnforceIf(group["20_49"][i])
            m.Add(value[i] >= 50).OnlyEnforceIf(group["ge50"][i])
            m.Add(value[i] == 0).OnlyEnforceIf(group["na"][i])
            if ceiling is not None:
                m.Add(value[i] <= ceiling[0][i]).OnlyEnforceIf([avail[i], ceiling[1][i]])
        return group, value, avail

    base, base_v, base_avail = blast_groups("base")
    base_lt50 = M.any_of("base_lt50", [base["lt20"], base["20_49"]])

    c("t1_sex_male", cond=[male])
    c("t1_sex_female", cond=[M.neg(male)])
    c("t1_age_lt50", cond=[age_lt50])
    c("t1_age_ge50", cond=[M.neg(age_lt50)])
    M.fig_summary(
        "s31_age_median", "s31_age_min", "s31_age_max", age, [M.conj([]) for _ in P], MAX_SAME_AGE
    )
    for fid in ("t1_status_relapsed", "s31_relapsed"):
        c(fid, cond=[relapsed])
    for fid in ("t1_status_refractory", "s31_refractory"):
        c(fid, cond=[M.neg(relapsed)])
    c("t1_lines_1", cond=[lines_le1])
    c("t1_lines_2", cond=[lines_eq2])
    c("t1_lines_ge3", cond=[M.neg(lines_le2)])
    c("s31_lines_ge2", cond=[M.neg(lines_le1)])
    for value, cap in MAX_PATIENTS_WITH_LINES.items():  # plausibility assumption, not a figure
        at_value = M.bools(f"lines_eq{value}")
        for i in P:
            m.Add(lines[i] == value).OnlyEnforceIf(at_value[i])
            m.Add(lines[i] != value).OnlyEnforceIf(at_value[i].Not())
        m.Add(sum(at_value) <= cap)
    M.fig_summary(
        "s31_lines_median", "s31_lines_min", "s31_lines_max", lines, [M.conj([]) for _ in P], n
    )
    for fid in ("t1_hsct_yes", "s31_prior_hsct"):
        c(fid, cond=[prior_hsct])
    c("t1_hsct_no", cond=[M.neg(prior_hsct)])
    for fid in ("t1_ph_pos", "s31_ph_positive"):
        c(fid, cond=[ph_pos])
    c("t1_ph_neg", cond=[M.neg(ph_pos)])
    c("t1_bmb_lt20", cond=[base["lt20"]])
    c("t1_bmb_20_49", cond=[base["20_49"]])
    for fid in ("t1_bmb_ge50", "s31_bmb_baseline_ge50"):
        c(fid, cond=[base["ge50"]])
    for fid in ("t1_bmb_na", "f1_bmb_baseline_missing"):
        c(fid, cond=[base["na"]])
    M.fig_summary(
        "s31_bmb_baseline_median",
        "s31_bmb_baseline_min",
        "s31_bmb_baseline_max",
        base_v,
        base_avail,
        MAX_SAME_BASELINE_BLASTS,
    )

    # ---- debulking -----------------------------------------------------
    reg = M.one_hot("reg", [code for _, code, _ in REGIMENS])
    cat = {
        k: M.any_of(f"cat_{k}", [reg[code] for _, code, kk in REGIMENS if kk == k])
        for k in CATEGORIES
    }
    for fid, code, _ in REGIMENS:
        c(fid, cond=[reg[code]])
    for k in CATEGORIES:
        c(f"t2_cat_{k}", cond=[cat[k]])
    c("abs_debulk_steroids", cond=[cat["steroids"]])
    c("s32_steroids", cond=[cat["steroids"]])
    c("abs_debulk_tki", cond=[cat["tki"]])
    c("s32_low_intensity_chemo", cond=[cat["low_intensity_chemo"]])
    c(
        "abs_debulk_chemo",
        cond=[M.any_of("chemo", [cat["low_intensity_chemo"], cat["polychemotherapy"]])],
    )
    # every TKI patient is Ph+ (section 2.1 group d; 4 of the 13 Ph+)
    c("s32_tki_among_ph_positive", pop=[ph_pos], cond=[cat["tki"]])
    for i in P:
        m.AddImplication(cat["tki"][i], ph_pos[i])
    c("s32_tki_with_steroids", cond=[reg["ponatinib + dexamethasone"]])
    c("s32_tki_alone", cond=[reg["ponatinib"]])
    c(
        "s32_tki_with_chemo",
        cond=[
            M.any_of(
                "tki_chemo",
                [
                    reg["vincristine + ponatinib + prednisone"],
                    reg["steroids + fla-ida + ponatinib"],
                ],
            )
        ],
    )
    c("s32_high_burden_low_intensity", pop=[base["ge50"]], cond=[cat["low_intensity_chemo"]])

    days = [m.NewIntVar(0, 365, f"days_{i}") for i in P]
    for i in P:  # reported for polychemotherapy only; blank for the others
        m.Add(days[i] == 0).OnlyEnforceIf(cat["polychemotherapy"][i].Not())
    M.fig_summary(
        "s32_poly_days_median",
        "s32_poly_days_min",
        "s32_poly_days_max",
        days,
        cat["polychemotherapy"],
        MAX_SAME_DAYS,
    )

    # assumption: debulking does not raise marrow blasts
    post, post_v, post_avail = blast_groups("post", ceiling=(base_v, base_avail))
    c("s32_post_available", cond=[post_avail])
    c("disc_post_missing", cond=[post["na"]])
    c("s32_post_lt20", pop=[post_avail], cond=[post["lt20"]])
    c("s32_post_20_49", pop=[post_avail], cond=[post["20_49"]])
    c("s32_post_ge50", pop=[post_avail], cond=[post["ge50"]])
    M.fig_summary(
        "s32_post_median", "s32_post_min", "s32_post_max", post_v, post_avail, MAX_SAME_POST_BLASTS
    )

    # ---- blinatumomab, response, MRD, CRS, HSCT ------------------------
    dose = M.one_hot("dose", ("full", "full_interrupted", "reduced"))
    for lv in ("full", "full_interrupted", "reduced"):
        c(f"s331_dose_{lv}", cond=[dose[lv]])
    two_cycles = M.bools("two_cycles")
    c("s331_cycles_2", cond=[two_cycles])
    c("s331_cycles_1", cond=[M.neg(two_cycles)])
    resp = M.one_hot("resp", ("cr", "crp", "cri", "none"))
    any_cr = M.neg(resp["none"])
    c("s331_cycles_1_no_cr", pop=[M.neg(two_cycles)], cond=[resp["none"]])
    for fid in ("abs_cr_overall", "s331_cr_any"):
        c(fid, cond=[any_cr])
    c("s331_cr_full", cond=[resp["cr"]])
    c("s331_crp", cond=[resp["crp"]])
    c("s331_cri", cond=[resp["cri"]])

    mrd_ev = M.bools("mrd_ev")
    mrd_neg = M.bools("mrd_neg")
    hsct = M.bools("hsct_after")
    for i in P:  # contract rules: MRD and HSCT after blinatumomab only in CR
        m.AddImplication(mrd_ev[i], any_cr[i])
        m.AddImplication(mrd_neg[i], mrd_ev[i])
        m.AddImplication(hsct[i], any_cr[i])
    for fid in ("abs_mrd_overall", "s331_mrd_overall"):
        c(fid, pop=[mrd_ev], cond=[mrd_neg])

    crs_rec = M.bools("crs_rec")
    crs_yes = M.bools("crs_yes")
    grade = [m.NewIntVar(0, 3, f"grade_{i}") for i in P]  # 0 = blank; no grade 4-5 reported
    for i in P:
        m.AddImplication(crs_yes[i], crs_rec[i])
        m.Add(grade[i] >= 1).OnlyEnforceIf(crs_yes[i])
        m.Add(grade[i] == 0).OnlyEnforceIf(crs_yes[i].Not())
    grade_le2 = M.reify_le(grade, 2, "grade_le2")
    c("s331_crs", cond=[crs_yes])
    c("s331_crs_grade3", cond=[M.neg(grade_le2)])
    c("s331_crs_grade_1_2", pop=[crs_yes], cond=[grade_le2])
    # reading of the 28-vs-29 contradiction: CRS not recorded for one patient
    c("s331_crs_recorded", cond=[crs_rec])
    no_crs = [M.conj([crs_rec[i], crs_yes[i].Not()]) for i in P]
    for k in CATEGORIES:
        c(f"s331_crs_{k}", pop=[crs_yes], cond=[cat[k]])
        c(f"s331_nocrs_{k}", pop=[no_crs], cond=[cat[k]])
    c("s331_crs_high_to_low_burden", pop=[crs_yes], cond=[base["ge50"], post["lt20"]])

    for k in CATEGORIES:
        c(f"s332_cr_{k}", pop=[cat[k]], cond=[any_cr])
        c(f"s332_mrd_{k}", pop=[cat[k], mrd_ev], cond=[mrd_neg])
    for fid in ("abs_hsct_after_cr", "s332_hsct_after_cr"):
        c(fid, pop=[any_cr], cond=[hsct])
    c("s332_cr_no_hsct_after", pop=[any_cr], cond=[M.neg(hsct)])
    c("s332_cr_no_hsct_after_prior_hsct", pop=[any_cr, M.neg(hsct)], cond=[prior_hsct])
    c("s332_cr_no_hsct_after_no_prior", pop=[any_cr, M.neg(hsct)], cond=[M.neg(prior_hsct)])

    c("s333_cr_bmb_baseline_lt50", pop=[base_lt50], cond=[any_cr])
    for fid in ("s333_cr_bmb_baseline_ge50", "abs_cr_high_burden", "disc_cr_high_burden"):
        c(fid, pop=[base["ge50"]], cond=[any_cr])
    c("s333_cr_bmb_baseline_missing", pop=[base["na"]], cond=[any_cr])
    c("s333_mrd_bmb_baseline_lt50", pop=[base_lt50, mrd_ev], cond=[mrd_neg])
    for fid in ("s333_mrd_bmb_baseline_ge50", "abs_mrd_high_burden", "disc_mrd_high_burden"):
        c(fid, pop=[base["ge50"], mrd_ev], cond=[mrd_neg])
    c("s333_mrd_bmb_baseline_missing", pop=[base["na"], mrd_ev], cond=[mrd_neg])
    c("f1_mrd_available_cr_baseline_known", pop=[any_cr, base_avail], cond=[mrd_ev])
    c("s333_cr_post_lt20", pop=[post["lt20"]], cond=[any_cr])
    c("s333_cr_post_20_49", pop=[post["20_49"]], cond=[any_cr])
    c("s333_cr_post_ge50", pop=[post["ge50"]], cond=[any_cr])
    c("s333_cr_post_missing", pop=[post["na"]], cond=[any_cr])
    c("s333_mrd_post_lt20", pop=[post["lt20"], mrd_ev], cond=[mrd_neg])
    c("s333_mrd_post_20_49", pop=[post["20_49"], mrd_ev], cond=[mrd_neg])
    c("s333_mrd_post_missing", pop=[post["na"], mrd_ev], cond=[mrd_neg])

    c("s334_cr_age_lt50", pop=[age_lt50], cond=[any_cr])
    c("s334_mrd_age_lt50", pop=[age_lt50, mrd_ev], cond=[mrd_neg])
    c("s334_cr_age_ge50", pop=[M.neg(age_lt50)], cond=[any_cr])
    c("s334_mrd_age_ge50", pop=[M.neg(age_lt50), mrd_ev], cond=[mrd_neg])
    c("s335_cr_lines_le2", pop=[lines_le2], cond=[any_cr])
    c("s335_cr_lines_gt2", pop=[M.neg(lines_le2)], cond=[any_cr])
    c("s335_mrd_lines_le2", pop=[lines_le2, mrd_ev], cond=[mrd_neg])
    c("s335_mrd_lines_gt2", pop=[M.neg(lines_le2), mrd_ev], cond=[mrd_neg])

    # ---- study organisation ------------------------------------------------
    c("abs_n_patients")
    c("disc_n_patients")
    source = M.one_hot("source", ("neuf", "paap", "observational"))
    for lv in ("neuf", "paap", "observational"):
        c(f"s21_source_{lv}", cond=[source[lv]])
    n_centres = M._int("abs_n_centres", "numerator")
    centre = M.one_hot("centre", [f"C{j}" for j in range(1, n_centres + 1)])
    for j in centre:  # abs_n_centres: every centre contributed at least one patient
        m.Add(sum(centre[j]) >= 1)
        m.Add(sum(centre[j]) <= MAX_PATIENTS_PER_CENTRE)
    M.used.append("abs_n_centres")

    wanted = set(figures.loc[figures["kind"].isin(CONSTRAINED_KINDS), "id"])
    missing = sorted(wanted - set(M.used))
    if missing:
        raise ValueError(f"published figures not encoded in the reconstruction: {missing}")
    variables = dict(
        male=male,
        age=age,
        relapsed=relapsed,
        lines=lines,
        prior_hsct=prior_hsct,
        ph_pos=ph_pos,
        base=base,
        base_v=base_v,
        reg=reg,
        days=days,
        post=post,
        post_v=post_v,
        dose=dose,
        two_cycles=two_cycles,
        resp=resp,
        mrd_ev=mrd_ev,
        mrd_neg=mrd_neg,
        crs_rec=crs_rec,
        crs_yes=crs_yes,
        grade=grade,
        hsct=hsct,
        source=source,
        centre=centre,
    )
    return M, variables


def _hint(M: _Model, v: dict, seed: int) -> None:
    """A seeded random cohort with the published margins as solver hints: they only steer
    which feasible cohort comes back (without them values cluster at bounds), never
    which constraints hold."""
    rng = random.Random(seed)
    m, P, n = M.m, M.P, M.n

    def num(fid: str) -> int:
        return M._int(fid, "numerator")

    def shuffled(counts: dict) -> list:
        items = [lv for lv, k in counts.items() for _ in range(k)]
        items += [next(iter(counts))] * (n - len(items))
        rng.shuffle(items)
        return items

    def hint_hot(hot: dict, levels: list) -> None:
        for i in P:
            for lv, arr in hot.items():
                m.AddHint(arr[i], lv == levels[i])

    hint_hot(v["reg"], shuffled({code: num(fid) for fid, code, _ in REGIMENS}))
    hint_hot(
        v["resp"],
        shuffled(
            {
                "none": n - num("s331_cr_any"),
                "cr": num("s331_cr_full"),
                "crp": num("s331_crp"),
                "cri": num("s331_cri"),
            }
        ),
    )
    hint_hot(
        v["dose"],
        shuffled({lv: num(f"s331_dose_{lv}") for lv in ("full", "full_interrupted", "reduced")}),
    )
    hint_hot(
        v["source"],
        shuffled({lv: num(f"s21_source_{lv}") for lv in ("neuf", "paap", "observational")}),
    )
    bmb = ("ge50", "lt20", "20_49", "na")
    hint_hot(v["base"], shuffled({lv: num(f"t1_bmb_{lv}") for lv in bmb}))
    post = {lv: num(f"s32_post_{lv}") for lv in ("lt20", "20_49", "ge50")}
    hint_hot(v["post"], shuffled({"na": n - num("s32_post_available"), **post}))
    hint_hot(v["centre"], [f"C{1 + rng.randrange(len(v['centre']))}" for _ in P])
    for key, share in (
        ("male", num("t1_sex_male") / n),
        ("relapsed", num("t1_status_relapsed") / n),
        ("prior_hsct", 0.5),
        ("ph_pos", num("t1_ph_pos") / n),
        ("two_cycles", num("s331_cycles_2") / n),
        ("mrd_ev", 0.6),
        ("mrd_neg", 0.5),
        ("crs_rec", 1.0),
        ("crs_yes", 0.15),
        ("hsct", 0.2),
    ):
        for i in P:
            m.AddHint(v[key][i], rng.random() < share)
    for i in P:
        m.AddHint(
            v["age"][i], rng.randint(20, 49) if rng.random() < 19 / 34 else rng.randint(50, 75)
        )
        m.AddHint(v["lines"][i], rng.choice([1] * 7 + [2] * 13 + [3] * 8 + [4] * 4 + [5] * 2))
        m.AddHint(v["base_v"][i], rng.randint(6, 90))
        m.AddHint(v["post_v"][i], rng.choice([0, 1, 2, 3, 5, 8, 10, 12, 15]))


def _pick(solver: cp_model.CpSolver, hot: dict, i: int) -> str:
    return next(lv for lv, arr in hot.items() if solver.BooleanValue(arr[i]))


def _extract(solver: cp_model.CpSolver, v: dict, n: int) -> pd.DataFrame:
    """Read the solution into contract-shaped rows (codes as in the file)."""
    yes_no = {True: "yes", False: "no"}
    cat_of = {code: k for _, code, k in REGIMENS}
    rows = []
    for i in range(n):
        val = solver.Value
        regimen = _pick(solver, v["reg"], i)
        response = _pick(solver, v["resp"], i)
        crs_rec = solver.BooleanValue(v["crs_rec"][i])
        crs_yes = solver.BooleanValue(v["crs_yes"][i])
        rows.append(
            {
                "patient_id": "",
                "center": _pick(solver, v["centre"], i),
                "source": _pick(solver, v["source"], i),
                "sex": "male" if solver.BooleanValue(v["male"][i]) else "female",
                "age_years": val(v["age"][i]),
                "disease_status": "relapsed"
                if solver.BooleanValue(v["relapsed"][i])
                else "refractory",
                "prior_lines": val(v["lines"][i]),
                "prior_hsct": yes_no[solver.BooleanValue(v["prior_hsct"][i])],
                "ph_status": "positive" if solver.BooleanValue(v["ph_pos"][i]) else "negative",
                "bmb_baseline_pct": pd.NA
                if solver.BooleanValue(v["base"]["na"][i])
                else val(v["base_v"][i]),
                "debulking_category": cat_of[regimen],
                "debulking_regimen": regimen,
                "debulking_to_blina_days": val(v["days"][i])
                if cat_of[regimen] == "polychemotherapy"
                else pd.NA,
                "bmb_post_debulking_pct": pd.NA
                if solver.BooleanValue(v["post"]["na"][i])
                else val(v["post_v"][i]),
                "blina_dose": _pick(solver, v["dose"], i),
                "blina_cycles": 2 if solver.BooleanValue(v["two_cycles"][i]) else 1,
                "response": response,
                "mrd_status": (
                    ("negative" if solver.BooleanValue(v["mrd_neg"][i]) else "positive")
                    if solver.BooleanValue(v["mrd_ev"][i])
                    else pd.NA
                ),
                "crs": yes_no[crs_yes] if crs_rec else pd.NA,
                "crs_grade": val(v["grade"][i]) if crs_yes else pd.NA,
                "hsct_after_blina": yes_no[solver.BooleanValue(v["hsct"][i])],
            }
        )
    frame = pd.DataFrame(rows, columns=list(NAMES))
    # Stable register-like order, then pseudonymous ids R01..R34.
    order_cols = "center source age_years sex debulking_regimen response prior_lines".split()
    frame = frame.sort_values(order_cols, kind="stable").reset_index(drop=True)
    width = max(2, len(str(n)))
    frame["patient_id"] = [f"R{k:0{width}d}" for k in range(1, n + 1)]
    return frame


def reconstruct_cohort(
    figures: pd.DataFrame | None = None, seed: int = SEED, time_limit_seconds: float = 60.0
) -> Reconstruction:
    """Solve for a cohort meeting every count/median/min/max figure (``figures``: the
    default file when omitted). ValueError if a figure of those kinds is not encoded or
    no cohort meets them all."""
    figures = load_published_figures() if figures is None else figures
    model, variables = _build(figures)
    _hint(model, variables, seed)
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = 1
    # no LP relaxation: ~10x faster on this pure counting model (seconds -> about one)
    solver.parameters.linearization_level = 0
    solver.parameters.max_time_in_seconds = time_limit_seconds
    status = solver.Solve(model.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError(
            f"no cohort satisfies the published figures (CP-SAT status {solver.StatusName(status)})"
        )
    cohort = _extract(solver, variables, model.n)
    return Reconstruction(
        cohort=cohort,
        figure_ids=tuple(dict.fromkeys(model.used)),
        status=solver.StatusName(status),
        wall_seconds=solver.WallTime(),
    )


def cohort_csv_text(cohort: pd.DataFrame) -> str:
    """A cohort as CSV text: contract column order, ``\\n`` line ends, blanks for missing,
    whole numbers without a decimal point."""

    def cell(x: object) -> str:
        if x is None or x is pd.NA or (isinstance(x, float) and x != x):
            return ""
        if isinstance(x, float) and x.is_integer():
            return str(int(x))
        return str(x)

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(NAMES)
    for rec in cohort.loc[:, list(NAMES)].itertuples(index=False):
        writer.writerow([cell(x) for x in rec])
    return buf.getvalue()


def reconstruct_from_cli(args) -> int:
    """``python -m pipeline reconstruct --out FILE``: solve and write the cohort CSV."""
    try:
        result = reconstruct_cohort()
    except ValueError as err:
        print(f"reconstruct: {err}")
        return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(cohort_csv_text(result.cohort).encode("utf-8"))
    tmp.replace(out)
    print(
        f"wrote {out}: {len(result.cohort)} patients satisfying {len(result.figure_ids)} published figures "
        f"(CP-SAT {result.status}, seed {SEED}, {result.wall_seconds:.2f} s)"
    )
    return 0
