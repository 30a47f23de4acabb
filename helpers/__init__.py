"""Helpers for the reproducible analysis of Bonifacio et al. 2022.

Small modules by concern; nothing happens on import:

- :mod:`helpers.contract`   -- the data contract (columns, codes, labels)
- :mod:`helpers.loading`    -- validate and normalise a cohort file
- :mod:`helpers.reading`    -- read a CSV or workbook into raw text cells
- :mod:`helpers.workbook`   -- choose and read the cohort sheet of an .xlsx
- :mod:`helpers.cells`      -- parse text cells by contract kind; identifier keys
- :mod:`helpers.template`   -- the empty cohort template, written from the contract
- :mod:`helpers.stats`      -- exact intervals and tests
- :mod:`helpers.tables`     -- Table 1 / Table 2 and cross-tabulations
- :mod:`helpers.figures`    -- seaborn figures, saved deterministically
- :mod:`helpers.results`    -- tidy statistics rows (results.csv)
- :mod:`helpers.pipeline`   -- run every notebook with papermill
"""

__version__ = "0.1.0"
