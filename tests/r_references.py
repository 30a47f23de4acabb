"""Data sets of R's survival package, typed in, shared by the tests that compare with R.

The R values the tests check are stored beside each test with the R call that gave them.
"""

from __future__ import annotations

import pandas as pd

# survival::aml (Miller 1981): weeks to relapse of acute myelogenous leukaemia, maintained
# chemotherapy or not; x is R's factor x as 0 (Maintained, rows 0-10) and 1 (Nonmaintained).
AML = pd.DataFrame(
    {
        "time": [
            9,
            13,
            13,
            18,
            23,
            28,
            31,
            34,
            45,
            48,
            161,
            5,
            5,
            8,
            8,
            12,
            16,
            23,
            27,
            30,
            33,
            43,
            45,
        ],
        "status": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
        "x": [0] * 11 + [1] * 12,
    }
)
