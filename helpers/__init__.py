"""Helpers for the reproducible analysis of Bonifacio et al. 2022.

Small modules by concern; nothing happens on import:

- :mod:`helpers.contract`   -- the data contract (columns, codes, labels)
- :mod:`helpers.loading`    -- validate and normalise a cohort file
- :mod:`helpers.reading`    -- read a CSV or workbook into raw text cells
- :mod:`helpers.workbook`   -- choose and read the cohort sheet of an .xlsx
- :mod:`helpers.cells`      -- parse text cells by contract kind; identifier keys
- :mod:`helpers.template`   -- the empty cohort template, written from the contract
- :mod:`helpers.stats`      -- exact intervals and tests
- :mod:`helpers.models`     -- Firth-penalised logistic regression, profile-likelihood limits
- :mod:`helpers.power`      -- exact power and sample size of the two-sided Fisher test
- :mod:`helpers.tables`     -- Table 1 / Table 2 and cross-tabulations
- :mod:`helpers.figures`    -- seaborn figures, saved deterministically
- :mod:`helpers.results`    -- tidy statistics rows (results.csv)
- :mod:`helpers.narrative`  -- the one formatter per kind of number (%, CI, p) for prose
- :mod:`helpers.comparison` -- cohort vs a historic rate: exact tests, posterior, sample size
- :mod:`helpers.historic`   -- historic comparator figures and their pairing with cohort endpoints
- :mod:`helpers.historic_display` -- tables, forest rows and words for the historic comparison
- :mod:`helpers.published`  -- the paper's printed figures (published_figures.csv)
- :mod:`helpers.rounding`   -- printed numbers: exact rounding rules and fitting counts
- :mod:`helpers.pvalues`    -- which recorded test could be behind a printed p-value
- :mod:`helpers.reproduction` -- the verdict on every printed figure
- :mod:`helpers.provenance` -- file hashes and where the analysed data came from
- :mod:`helpers.pipeline`   -- run every notebook with papermill
- :mod:`helpers.parameters` -- notebook parameters: declared ranges and checks
- :mod:`helpers.rundir`     -- what a run may write or replace, its lock, the final swap
- :mod:`helpers.report`     -- the HTML report, data text escaped
"""

__version__ = "0.1.0"
