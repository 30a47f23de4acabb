"""Which wording a page takes about the paper: ``paper`` (the shipped reconstruction at the paper's cut-offs),
``other cut-offs`` (a cut-off the passage depends on is not the paper's, on any data) or ``other data`` (another
file at the paper's cut-offs: methods from the data contract). Notebooks hold one Markdown template per case
and show the one :func:`pick` chooses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from helpers.provenance import DATASHEET, Provenance

PAPER, OTHER_CUTOFFS, OTHER_DATA = "paper", "other cut-offs", "other data"
#: A cut-off in words (prose shows values, not parameter names): this run's, then the paper's beside it.
CUTOFF_WORDS: dict[str, tuple[str, str]] = {
    "bmb_high_cutoff": ("high tumour burden at ≥ {:g}% marrow blasts before debulking", "≥ {:g}%"),
    "bmb_low_cutoff": ("the lowest blast group below {:g}%", "below {:g}%"),
    "age_cutoff": ("the age groups split at {:g} years", "{:g} years"),
    "lines_cutoff": ("the previous-lines groups split after {:g} lines", "after {:g}")}
#: The data banner at cut-offs other than the paper's, by whether the data are the shipped reconstruction.
OTHER_CUTOFF_BANNERS: dict[bool, str] = {
    True: "RECONSTRUCTED DATA — {file} is not real patients: a 34-patient cohort rebuilt from the paper's published "
          "aggregates (see {datasheet}). OTHER CUT-OFFS — this run sets {changes}: results that depend on it are not "
          "the paper's and their counts need not match it; p-values, intervals and unreported cross-tabulations "
          "are properties of the reconstruction.",
    False: "{headline} OTHER CUT-OFFS — this run sets {changes}: results that depend on it are not defined as in the paper."}


@dataclass(frozen=True)
class Setting:
    """The data's provenance and ``(parameter, run value, paper value)`` per cut-off set otherwise."""

    provenance: Provenance
    changed: tuple[tuple[str, float, float], ...] = ()

    def case(self, *parameters: str) -> str:
        """The case of a passage that depends on ``parameters`` (default: every cut-off)."""
        if any(not parameters or name in parameters for name, _, _ in self.changed):
            return OTHER_CUTOFFS
        return PAPER if self.provenance.reconstructed else OTHER_DATA

    def changes(self, *parameters: str) -> str:
        """``"high tumour burden at ≥ 60% ... (the paper: ≥ 50%)"`` per differing cut-off, ``"; "``-joined."""
        return "; ".join(f"{CUTOFF_WORDS[n][0].format(run)} (the paper: {CUTOFF_WORDS[n][1].format(paper)})"
                         for n, run, paper in self.changed if not parameters or n in parameters)

    @property
    def banner(self) -> str:
        """The data banner of every page: the provenance headline, or at other cut-offs one naming them."""
        return OTHER_CUTOFF_BANNERS[self.provenance.reconstructed].format(
            file=self.provenance.file, datasheet=DATASHEET, headline=self.provenance.headline,
            changes=self.changes()) if self.changed else self.provenance.headline


def run_setting(provenance: Provenance, cutoffs: Mapping[str, float], paper: Mapping[str, float]) -> Setting:
    """The :class:`Setting` of a run with ``cutoffs`` against the ``paper``'s (compared where both give one)."""
    return Setting(provenance, tuple((n, float(cutoffs[n]), float(paper[n])) for n in CUTOFF_WORDS
                                     if n in cutoffs and n in paper and float(cutoffs[n]) != float(paper[n])))


def pick(templates: Mapping[str, str], setting: Setting, *parameters: str, **values: object) -> str:
    """The template for ``setting.case(*parameters)`` filled with ``values`` (``{changes}``: the differing
    cut-offs in words); ValueError unless there is one template per case."""
    if missing := [case for case in (PAPER, OTHER_CUTOFFS, OTHER_DATA) if case not in templates]:
        raise ValueError(f"no template for the case(s) {', '.join(missing)}")
    return templates[setting.case(*parameters)].format(changes=setting.changes(*parameters), **values)
