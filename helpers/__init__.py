"""Helpers for the reproducible analysis of Bonifacio et al. 2022.

Small modules by concern; nothing happens on import:

- :mod:`helpers.contract`   -- the data contract (columns, codes, labels)
- :mod:`helpers.loading`    -- read, validate and normalise a cohort file
- :mod:`helpers.stats`      -- exact intervals and tests
- :mod:`helpers.tables`     -- Table 1 / Table 2 and cross-tabulations
- :mod:`helpers.figures`    -- seaborn figures, saved deterministically
- :mod:`helpers.results`    -- tidy statistics rows (results.csv)
- :mod:`helpers.provenance` -- file hashes and where the analysed data came from
- :mod:`helpers.pipeline`   -- run every notebook with papermill
- :mod:`helpers.parameters` -- notebook parameters: declared ranges and checks
- :mod:`helpers.rundir`     -- what a run may write or replace, its lock, the final swap
- :mod:`helpers.report`     -- the HTML report, data text escaped
"""

__version__ = "0.1.0"
