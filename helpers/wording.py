"""Which wording a run's pages take about the paper, and the words for a cut-off set otherwise.

A sentence about the paper's cohort holds only on the shipped reconstruction at the paper's
cut-offs. A run is in one of three cases, for the cut-offs a passage depends on:

- ``paper``: the shipped reconstruction, every cut-off as in the paper;
- ``other cut-offs``: a cut-off the passage depends on differs from the paper's (on any data);
- ``other data``: any other cohort file at the paper's cut-offs: methods are worded from the
  data contract, and the paper is a reference to compare with, not a description of the data.

Notebooks hold one Markdown template per case and show the one :func:`pick` chooses, filled
from their results; this module holds no analysis prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from helpers.provenance import Provenance

PAPER, OTHER_CUTOFFS, OTHER_DATA = "paper", "other cut-offs", "other data"
#: The cases, in the order a notebook's templates list them.
CASES: tuple[str, ...] = (PAPER, OTHER_CUTOFFS, OTHER_DATA)

#: A cut-off in words from its value (prose shows values, never parameter names): the run's
#: definition, and the paper's value beside it.
CUTOFF_WORDS: dict[str, tuple[str, str]] = {
    "bmb_high_cutoff": (
        "high tumour burden at ≥ {:g}% marrow blasts before debulking",
        "≥ {:g}%",
    ),
    "bmb_low_cutoff": ("the lowest blast group below {:g}%", "below {:g}%"),
    "age_cutoff": ("the age groups split at {:g} years", "{:g} years"),
    "lines_cutoff": ("the previous-lines groups split after {:g} lines", "after {:g}"),
}


@dataclass(frozen=True)
class Setting:
    """Where a run stands against the paper: the data's provenance and, per cut-off the run
    sets otherwise than the paper, ``(parameter, run value, paper value)``."""

    provenance: Provenance
    changed: tuple[tuple[str, float, float], ...] = ()

    def differs(self, *parameters: str) -> bool:
        """Whether the run sets any of ``parameters`` (default: any cut-off) otherwise than the paper."""
        return any(not parameters or name in parameters for name, _, _ in self.changed)

    def case(self, *parameters: str) -> str:
        """The case for a passage that depends on ``parameters`` (default: every cut-off)."""
        if self.differs(*parameters):
            return OTHER_CUTOFFS
        return PAPER if self.provenance.reconstructed else OTHER_DATA

    def changes(self, *parameters: str) -> str:
        """The differing cut-offs in words, ``"high tumour burden at ≥ 60% ... (the paper: ≥ 50%)"``,
        joined by ``"; "``; empty when none differs."""
        return "; ".join(
            f"{CUTOFF_WORDS[name][0].format(run)} (the paper: {CUTOFF_WORDS[name][1].format(paper)})"
            for name, run, paper in self.changed
            if not parameters or name in parameters
        )

    @property
    def banner(self) -> str:
        """The data banner of every page, saying which cut-offs differ from the paper's."""
        return self.provenance.banner(self.changes())


def run_setting(
    provenance: Provenance, cutoffs: Mapping[str, float], paper: Mapping[str, float]
) -> Setting:
    """The :class:`Setting` of a run with ``cutoffs`` against the ``paper``'s
    (:func:`helpers.published.paper_cutoffs`); a cut-off missing on either side is not compared."""
    changed = tuple(
        (name, float(cutoffs[name]), float(paper[name]))
        for name in CUTOFF_WORDS
        if name in cutoffs
        and name in paper
        and float(cutoffs[name]) != float(paper[name])
    )
    return Setting(provenance, changed)


def pick(
    templates: Mapping[str, str], setting: Setting, *parameters: str, **values: object
) -> str:
    """The template of ``templates`` (one per case of :data:`CASES`) for ``setting.case(*parameters)``,
    filled with ``values`` (``str.format``); ``{changes}`` is the differing cut-offs in words."""
    missing = [case for case in CASES if case not in templates]
    if missing:
        raise ValueError(f"no template for the case(s) {', '.join(missing)}")
    return templates[setting.case(*parameters)].format(
        changes=setting.changes(*parameters), **values
    )
