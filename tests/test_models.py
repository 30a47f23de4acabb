"""Firth's penalised logistic regression (helpers.models) against R's logistf and glm.

References were computed on this machine with R 4.2.2 and logistf 1.26.1 (built
from the package's source, georgheinze/logistf), with tight convergence so the
reference itself is accurate to about 1e-9:

    tight  <- logistf.control(xconv = 1e-10, gconv = 1e-10, lconv = 1e-10)
    ptight <- logistpl.control(xconv = 1e-10, lconv = 1e-10)
    fit <- logistf(formula, data, control = tight, plcontrol = ptight)   # alpha = 0.05 or 0.1
    cbind(coef(fit), sqrt(diag(vcov(fit))), fit$ci.lower, fit$ci.upper,
          qchisq(1 - fit$prob, 1), fit$prob)

and, for ordinary maximum likelihood, ``glm(formula, binomial, data)`` with
``logLik`` and ``drop1(fit, test = "LRT")``. CI does not need R: the values are
stored here.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from helpers import models

#: logistf's ``sex2`` data (Heinze & Schemper 2002; 239 women, case = urinary tract
#: infection) as covariate patterns with their numbers of cases and controls:
#: age, oc, vic, vicl, vis, dia, cases, controls.
SEX2_PATTERNS = [
    (0, 0, 0, 0, 1, 0, 1, 1),
    (0, 0, 1, 0, 0, 0, 14, 2),
    (0, 0, 1, 0, 1, 0, 3, 1),
    (0, 0, 1, 1, 0, 0, 10, 8),
    (0, 0, 1, 1, 1, 0, 12, 18),
    (0, 0, 1, 1, 1, 1, 1, 0),
    (0, 1, 0, 0, 0, 0, 44, 42),
    (0, 1, 0, 0, 0, 1, 3, 0),
    (0, 1, 0, 0, 1, 0, 0, 1),
    (0, 1, 1, 0, 0, 0, 15, 1),
    (0, 1, 1, 0, 0, 1, 1, 0),
    (0, 1, 1, 0, 1, 0, 2, 0),
    (0, 1, 1, 1, 0, 0, 7, 5),
    (0, 1, 1, 1, 1, 0, 3, 6),
    (1, 0, 1, 0, 0, 0, 2, 0),
    (1, 0, 1, 0, 1, 0, 1, 0),
    (1, 0, 1, 0, 1, 1, 1, 0),
    (1, 0, 1, 1, 0, 0, 1, 2),
    (1, 0, 1, 1, 1, 0, 0, 4),
    (1, 0, 1, 1, 1, 1, 1, 0),
    (1, 1, 0, 0, 0, 0, 5, 14),
    (1, 1, 0, 0, 1, 0, 0, 1),
    (1, 1, 1, 0, 0, 0, 3, 1),
    (1, 1, 1, 1, 1, 0, 0, 2),
]

#: The endometrial cancer data of Heinze & Schemper (2002, Stat Med 21:2409-19):
#: 79 patients, histology grade HG on neovascularisation NV (quasi-complete
#: separation: every NV = 1 patient has HG = 1), pulsatility index PI and endometrium
#: height EH. Row order as in logistf's documentation.
ENDOMETRIAL = """NV,PI,EH,HG
0,13,1.64,0\n0,16,2.26,0\n0,8,3.14,0\n0,34,2.68,0\n0,20,1.28,0\n0,5,2.31,0\n0,17,1.8,0\n0,10,1.68,0
0,26,1.56,0\n0,17,2.31,0\n0,8,2.01,0\n0,7,1.89,0\n0,20,3.15,0\n0,10,1.23,0\n0,18,1.27,0\n0,16,1.76,0
0,18,2,0\n0,8,2.64,1\n0,29,0.88,1\n0,12,1.27,1\n0,20,1.37,1\n1,38,0.97,1\n1,22,1.14,1\n1,7,0.88,1
1,25,0.91,1\n1,15,0.58,1\n0,7,0.97,1\n0,28,1.5,0\n0,11,1.33,0\n0,19,2.37,0\n0,10,1.82,0\n0,10,3.13,0
0,18,1.31,0\n0,14,1.92,0\n0,21,1.64,0\n0,11,2.01,0\n0,17,1.88,0\n0,25,1.93,0\n0,16,2.11,0\n0,19,1.29,0
0,15,1.72,0\n0,33,0.75,0\n0,24,1.92,0\n0,48,1.84,1\n0,12,1.11,1\n0,19,1.61,1\n0,2,1.18,1\n1,22,1.44,1
1,40,1.18,1\n1,5,0.93,1\n1,0,1.17,1\n0,21,1.19,1\n0,15,1.06,1\n0,29,2.02,0\n0,15,2.29,0\n0,12,2.33,0
0,3,2.9,0\n0,20,1.7,0\n0,23,1.41,0\n0,12,2.25,0\n0,22,1.54,0\n0,42,1.97,0\n0,15,1.75,0\n0,13,2.16,0
0,14,2.57,0\n0,19,1.37,0\n0,12,3.61,0\n0,13,2.04,0\n0,10,2.17,0\n0,12,1.69,1\n1,49,0.27,1\n0,6,1.84,1
0,5,1.3,1\n0,17,0.96,1\n1,11,1.01,1\n1,21,0.98,1\n0,5,0.35,1\n1,19,1.02,1\n0,33,0.85,1
"""


def sex2() -> pd.DataFrame:
    rows = []
    for *x, cases, controls in SEX2_PATTERNS:
        rows += [(*x, 1)] * cases + [(*x, 0)] * controls
    return pd.DataFrame(rows, columns=["age", "oc", "vic", "vicl", "vis", "dia", "case"])


def endometrial() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(ENDOMETRIAL))


def test_the_stored_data_sets_have_the_published_sizes():
    assert sex2().shape == (239, 7) and sex2()["case"].sum() == 130
    data = endometrial()
    assert data.shape == (79, 4) and data["HG"].sum() == 30
    assert data.loc[data["NV"] == 1, "HG"].eq(1).all()  # the quasi-separation


# logistf(case ~ age + oc + vic + vicl + vis + dia, data = sex2): coef, se, lower, upper, chisq, p
SEX2_LOGISTF = {
    "(Intercept)": (
        0.120254049134,
        0.476342941187,
        -0.818559106359,
        1.073151216026,
        0.0628629791791,
        8.02026802337e-01,
    ),
    "age": (
        -1.105981331381,
        0.414902109745,
        -1.973788382837,
        -0.307425141576,
        7.5077309249379,
        6.14347184509e-03,
    ),
    "oc": (
        -0.068816727062,
        0.434402571285,
        -0.941436330166,
        0.789202021261,
        0.0246704356213,
        8.75191058626e-01,
    ),
    "vic": (
        2.268874652239,
        0.538487276606,
        1.273021571200,
        3.435432730915,
        22.9313902229899,
        1.67887695868e-06,
    ),
    "vicl": (
        -2.111408185303,
        0.532039508241,
        -3.260861117529,
        -1.117734946984,
        19.1040725213499,
        1.23780476281e-05,
    ),
    "vis": (
        -0.788316951397,
        0.408962004265,
        -1.608087889529,
        0.015184679066,
        3.6974097547694,
        5.44970080615e-02,
    ),
    "dia": (
        3.096011827349,
        1.505221135652,
        0.774568169217,
        8.030293522159,
        7.8969313868329,
        4.95187338639e-03,
    ),
}

# logistf(HG ~ NV + PI + EH, data = endometrial): coef, se, lower, upper, chisq, p
ENDOMETRIAL_LOGISTF = {
    "(Intercept)": (
        3.7745597136457,
        1.439006933335,
        1.082537108448,
        7.2092804982469,
        8.198013575845,
        4.19362788559e-03,
    ),
    "NV": (
        2.9292733531967,
        1.464974220170,
        0.609724436303,
        7.8546317138773,
        6.798457248666,
        9.12366754709e-03,
    ),
    "PI": (
        -0.0347517598704,
        0.037892372216,
        -0.124458720852,
        0.0404554731806,
        0.746828513432,
        3.87482203566e-01,
    ),
    "EH": (
        -2.6041639252933,
        0.753628442075,
        -4.365183247263,
        -1.2327210572170,
        17.759317479437,
        2.50686721486e-05,
    ),
}


@pytest.mark.parametrize(
    "data, outcome, reference, loglik",
    [
        (sex2, "case", SEX2_LOGISTF, -132.539379533),  # logistf: fit$loglik["full"]
        (endometrial, "HG", ENDOMETRIAL_LOGISTF, -24.0372678007),
    ],
    ids=["sex2", "endometrial"],
)
def test_firth_estimates_profile_limits_and_penalised_lr_tests_match_logistf(
    data, outcome, reference, loglik
):
    frame = data()
    fit = models.fit_logistic(frame.drop(columns=outcome), frame[outcome])
    table = fit.table().set_index("term")
    expected = pd.DataFrame(reference, index=["coef", "se", "lower", "upper", "chi2", "p"]).T
    assert list(table.index) == list(expected.index)
    np.testing.assert_allclose(table["coef"], expected["coef"], atol=1e-6)
    np.testing.assert_allclose(table["se"], expected["se"], atol=1e-6)
    np.testing.assert_allclose(np.log(table["or_low"]), expected["lower"], atol=1e-6)
    np.testing.assert_allclose(np.log(table["or_high"]), expected["upper"], atol=1e-6)
    np.testing.assert_allclose(table["chi2"], expected["chi2"], rtol=1e-6)
    np.testing.assert_allclose(table["p_value"], expected["p"], rtol=1e-5)
    assert fit.loglik == pytest.approx(loglik, abs=1e-8)
    assert (fit.n, fit.events, fit.firth) == (len(frame), int(frame[outcome].sum()), True)


def test_ninety_percent_profile_limits_match_logistf_with_alpha_0_1():
    # logistf(HG ~ NV + PI + EH, data = endometrial, alpha = 0.1, ...): ci.lower, ci.upper
    expected = [
        (1.478058176962, 6.5951468340392),
        (0.922878924226, 6.6997100794056),
        (-0.108937326686, 0.0291398238072),
        (-4.051700496919, -1.4308275399426),
    ]
    frame = endometrial()
    fit = models.fit_logistic(frame[["NV", "PI", "EH"]], frame["HG"], confidence=0.90)
    np.testing.assert_allclose(np.column_stack([fit.ci_low, fit.ci_high]), expected, atol=1e-6)


def test_ordinary_maximum_likelihood_matches_glm_profile_limits_and_lr_tests():
    # R: glm(HG ~ PI + EH, binomial, endometrial); logLik; drop1(test = "LRT") for the LR
    # statistics; exact profile limits from logistf(..., firth = FALSE, pl = TRUE) (MASS's
    # confint.glm interpolates its profile and agrees to about 2e-4).
    frame = endometrial()
    fit = models.fit_logistic(frame[["PI", "EH"]], frame["HG"], firth=False)
    np.testing.assert_allclose(
        fit.coef, [5.4392097758489, -0.0195996123111, -3.6930643397401], atol=1e-7
    )
    np.testing.assert_allclose(
        fit.se, [1.4511616516180, 0.0347443914152, 0.8302161464961], atol=1e-7
    )
    np.testing.assert_allclose(
        fit.ci_low, [2.8832909218137, -0.0916994168029, -5.5413233508822], atol=1e-6
    )
    np.testing.assert_allclose(
        fit.ci_high, [8.6580665108446, 0.0464686658271, -2.2502028692350], atol=1e-6
    )
    np.testing.assert_allclose(fit.chi2[1:], [0.32592609, 39.85062690], atol=1e-7)
    assert fit.loglik == pytest.approx(-32.3754516848, abs=1e-8)


def test_ordinary_maximum_likelihood_matches_statsmodels_logit():
    frame = sex2().drop(columns="dia")  # dia separates the outcome: no finite ML estimate
    covariates = frame.drop(columns="case")
    fit = models.fit_logistic(covariates, frame["case"], firth=False)
    reference = sm.Logit(frame["case"], sm.add_constant(covariates)).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(fit.coef, reference.params, atol=1e-7)
    np.testing.assert_allclose(fit.se, reference.bse, atol=1e-7)
    assert fit.loglik == pytest.approx(reference.llf, abs=1e-8)


@pytest.mark.parametrize(
    "a, b, c, d",
    [
        (2, 0, 0, 2),  # complete separation
        (5, 0, 3, 4),  # quasi-complete separation
        (10, 7, 4, 9),  # no separation
    ],
)
def test_firth_on_one_binary_covariate_adds_one_half_to_every_cell(a, b, c, d):
    # For a 2 x 2 table the Jeffreys-penalised estimate is the log odds ratio with 1/2
    # added to each cell (Firth 1993; Heinze & Schemper 2002, section 2).
    x = [1] * (a + b) + [0] * (c + d)
    y = [1] * a + [0] * b + [1] * c + [0] * d
    fit = models.fit_logistic(pd.DataFrame({"x": x}), y)
    assert fit.coef[1] == pytest.approx(
        np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))), abs=1e-8
    )
    assert fit.coef[0] == pytest.approx(np.log((c + 0.5) / (d + 0.5)), abs=1e-8)
    assert np.isfinite(fit.ci_low).all() and np.isfinite(fit.ci_high).all()


@pytest.mark.parametrize("events, n", [(5, 5), (0, 1), (3, 7)])
def test_firth_intercept_only_is_the_logit_of_events_plus_half_over_n_plus_one(events, n):
    fit = models.fit_logistic(pd.DataFrame(index=range(n)), [1] * events + [0] * (n - events))
    assert fit.coef[0] == pytest.approx(np.log((events + 0.5) / (n - events + 0.5)), abs=1e-8)


@pytest.mark.parametrize(
    "covariates, outcome, firth, message",
    [
        ({"x": [0, 0, 1, 1]}, [0, 0, 1, 1], False, "separated"),
        ({"x": [1, 1, 1, 1]}, [0, 1, 0, 1], True, "full rank"),
        ({"x": [1, 2, 3, 4], "z": [2, 4, 6, 8]}, [0, 1, 0, 1], True, "full rank"),
        ({"x": [1.0, np.nan, 3.0]}, [0, 1, 1], True, "none missing"),
        ({"x": []}, [], True, "positive number"),
    ],
)
def test_fits_that_cannot_be_made_are_refused_with_the_reason(covariates, outcome, firth, message):
    with pytest.raises(ValueError, match=message):
        models.fit_logistic(pd.DataFrame(covariates), outcome, firth=firth)


def test_a_nearly_separated_small_sample_matches_logistf_where_its_profile_is_bounded():
    # 11 patients, 5 coefficients; R: logistf(y ~ h + l + a + p, d, control = logistf.control(maxit = 1000),
    # plcontrol = logistpl.control(maxit = 1000)). Upper limits of h and p lie more than
    # SEARCH_LIMIT (50) from the estimate in logistf too (53.78 and 75.71): reported infinite here.
    d = pd.DataFrame(
        {
            "h": [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1],
            "l": [1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0],
            "a": [5.1, 3.4, 7.7, 7.2, 2.9, 4.9, 7.6, 7.0, 6.1, 5.7, 2.0],
            "p": [1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0],
            "y": [1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0],
        }
    )
    fit = models.fit_logistic(d[["h", "l", "a", "p"]], d["y"])
    np.testing.assert_allclose(
        fit.coef,
        [-0.9841142193, 1.6368149689, 0.2800833891, -0.1910144894, 1.3917275612],
        atol=1e-5,
    )  # logistf's default convergence
    np.testing.assert_allclose(
        fit.chi2,
        [0.23888169309, 1.42562362067, 0.04824342262, 0.34222948572, 0.95093185800],
        rtol=1e-5,
    )
    assert fit.ci_low[0] == pytest.approx(-42.036360992, abs=1e-4)
    assert fit.ci_high[2] == pytest.approx(28.0617588206, abs=1e-4)
    assert fit.ci_high[1] == np.inf and fit.ci_high[4] == np.inf
