"""The analysis runner: ``python -m pipeline {validate,run,params,batch,synth,reconstruct,refresh-notebooks}``.

It runs the notebooks, writes the run directory and its report, and makes data files; the
notebooks never import it (they share :mod:`helpers`). Modules, nothing happens on import:

- :mod:`pipeline.template` -- the empty cohort template, written from the contract
- :mod:`pipeline.run` -- run every notebook with papermill
- :mod:`pipeline.kernels` -- a run's kernels, forked from a process that imported the common packages
- :mod:`pipeline.parameters` -- each notebook's declared parameters, ``-p`` values typed, the files a run reads
- :mod:`pipeline.validate` -- ``validate --fix-codes``: a copy with each accepted variant in its contract form
- :mod:`pipeline.rundir` -- what a run may write or replace, its lock, the final swap
- :mod:`pipeline.report` -- the HTML report, data text escaped
- :mod:`pipeline.batch` -- many runs (files, centres, parameter grid), in parallel, resumable
- :mod:`pipeline.batch_summary` -- a batch's summary table, forest plot and index page
- :mod:`pipeline.notebook_guard` -- git filter: stored notebook outputs only from the shipped cohort
- :mod:`pipeline.reconstruct` -- the reconstructed cohort, solved from the published figures
- :mod:`pipeline.synth` -- synthetic cohorts of any size (optionally with follow-up)
- :mod:`pipeline.__main__` -- the command line: arguments parsed before anything heavy is imported
"""
