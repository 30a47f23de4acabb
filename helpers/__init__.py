"""Helpers the notebooks share in the reproducible analysis of Bonifacio et al. 2022.

Small modules by concern; nothing happens on import. The command line, the runner
and the data makers are the separate package :mod:`pipeline`, which notebooks never import:

- :mod:`helpers.contract`   -- the data contract (columns, codes, labels)
- :mod:`helpers.loading`    -- validate and normalise a cohort file
- :mod:`helpers.derived`    -- the derived variables (name, meaning, expression), added on loading
- :mod:`helpers.reading`    -- read a CSV or workbook into raw text cells
- :mod:`helpers.workbook`   -- choose and read the cohort sheet of an .xlsx
- :mod:`helpers.cells`      -- parse text cells by contract kind; identifier keys
- :mod:`helpers.stats`      -- exact intervals and the tests notebooks call, by name
- :mod:`helpers.contingency` -- Fisher's exact test (any r x c), chi-square, mid-p; the test result
- :mod:`helpers.unconditional` -- Barnard's and Boschloo's unconditional exact tests (2 x 2)
- :mod:`helpers.models`     -- Firth-penalised logistic regression, profile-likelihood limits; R's cox.zph test
- :mod:`helpers.power`      -- exact power and sample size of the two-sided Fisher test
- :mod:`helpers.survival`   -- Kaplan-Meier rows, tables and figures shared by the time-to-event cells
- :mod:`helpers.competing`  -- cumulative incidence of relapse and of death in remission, Gray's test
- :mod:`helpers.adjusted_cox` -- multivariable Cox model: events per variable, regression table
- :mod:`helpers.survival_figures` -- annotated survival and cumulative-incidence figures with counts below
- :mod:`helpers.subgroups`  -- rates by group with exact CIs and the tests run on their table
- :mod:`helpers.centres`    -- centres compared: Fisher and random-effects I² across centres, funnel limits and plot
- :mod:`helpers.response`   -- response-by-subgroup table, patient flow and forest rows
- :mod:`helpers.crs`        -- the paper's printed CRS percentages against both denominators
- :mod:`helpers.tables`     -- Table 1 / Table 2 and cross-tabulations
- :mod:`helpers.figures`    -- seaborn figures, saved deterministically
- :mod:`helpers.response_figures` -- Figure 1, the patient flow and the CRS figure
- :mod:`helpers.display`    -- rich tables (title, headers, footnote) and the CSV/XLSX writers
- :mod:`helpers.manuscript` -- manuscript tables as Word (.docx)
- :mod:`helpers.results`    -- tidy statistics rows (results.csv) and their keys
- :mod:`helpers.headlines`  -- headline findings a notebook declares for the report's index
- :mod:`helpers.batch_view` -- what a batch's summary shows of each run's results (keys, titles)
- :mod:`helpers.narrative`  -- the one formatter per kind of number (%, CI, p) for prose; wording about the paper per case
- :mod:`helpers.suppression` -- share runs: counts from 1 to k-1 shown as "<k", the others rounded to 5
- :mod:`helpers.comparison` -- cohort vs a historic rate: exact tests, posterior
- :mod:`helpers.historic`   -- historic comparator figures and their pairing with cohort endpoints
- :mod:`helpers.historic_display` -- tables, forest rows and words for the historic comparison
- :mod:`helpers.maic`       -- matching-adjusted indirect comparison: weights, balance, weighted rates
- :mod:`helpers.published`  -- the paper's printed figures (published_figures.csv)
- :mod:`helpers.rounding`   -- printed numbers: exact rounding rules and fitting counts
- :mod:`helpers.pvalues`    -- which recorded test could be behind a printed p-value
- :mod:`helpers.reproduction` -- the verdict on every printed figure
- :mod:`helpers.provenance` -- file hashes and where the analysed data came from
- :mod:`helpers.parameters` -- allowed parameter values and the parameter file
"""
