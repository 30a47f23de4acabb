"""Helpers for the reproducible analysis of Bonifacio et al. 2022.

Small modules by concern; nothing happens on import:

- :mod:`helpers.contract`   -- the data contract (columns, codes, labels)
- :mod:`helpers.loading`    -- read, validate and normalise a cohort file
- :mod:`helpers.stats`      -- exact intervals and tests
- :mod:`helpers.models`     -- Firth-penalised logistic regression, profile-likelihood limits
- :mod:`helpers.power`      -- exact power and sample size of the two-sided Fisher test
- :mod:`helpers.tables`     -- Table 1 / Table 2 and cross-tabulations
- :mod:`helpers.figures`    -- seaborn figures, saved deterministically
- :mod:`helpers.results`    -- tidy statistics rows (results.csv)
- :mod:`helpers.pipeline`   -- run every notebook with papermill
"""

__version__ = "0.1.0"
