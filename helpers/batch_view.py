"""What a batch's summary shows of each run's results: the rates side by side, the p-values of
the CR contrasts, the headlines shown as text, the contrast a grid's cut-off defines, and the
heterogeneity across centres.

The keys are those notebooks 01-04 and 10 write, each written with :class:`~helpers.results.Key`;
:mod:`pipeline.batch_summary` reads and draws them and names no key itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.results import Key

#: Proportions shown side by side: (column prefix, result key, title).
PROPORTIONS: tuple[tuple[str, Key, str], ...] = (
    ("cr", Key("any_cr"), "CR/CRp/CRi within two cycles"),
    ("mrd", Key("mrd_negative"), "MRD-negative among CR with an MRD result"),
    ("crs", Key("crs"), "CRS"),
    ("crs_ge3", Key("crs_grade_ge3", {"crs": True}), "CRS grade ≥3 among patients with CRS"),
)
#: Subgroup contrasts of CR: (column, key of the Fisher exact test).
CONTRASTS: tuple[tuple[str, Key], ...] = (
    ("p_cr_by_burden", Key("any_cr", by="high_burden", test="fisher")),
    ("p_cr_by_lines", Key("any_cr", by="lines_group", test="fisher")),
    ("p_cr_by_regimen", Key("any_cr", by="debulking_category", test="fisher")),
)
#: Headlines notebook 03 declares (:mod:`helpers.headlines`) shown as text, by title.
HEADLINE_TITLES: tuple[str, ...] = (
    "CR by marrow blasts before debulking",
    "CR by previous treatment lines",
    "CR by debulking therapy",
)


@dataclass(frozen=True)
class GridContrast:
    """The CR contrast a cut-off defines: the grouping ``by``, and its exposed and reference
    levels and the words for them as templates of the cut-off value ``{v}``."""

    by: str
    exposed: str
    reference: str
    words: str

    def keys(self, cutoff) -> tuple[Key, Key, Key]:
        """At ``cutoff``: the keys of CR in the exposed and in the reference group, and of
        their Fisher exact test."""
        return (
            Key("any_cr", {self.by: self.exposed.format(v=cutoff)}),
            Key("any_cr", {self.by: self.reference.format(v=cutoff)}),
            Key("any_cr", by=self.by, test="fisher"),
        )

    def text(self, cutoff) -> str:
        """The contrast at ``cutoff`` in words (``blasts ≥50% vs <50%``)."""
        return self.words.format(v=cutoff)


#: Grid parameters that define a CR contrast: parameter -> its contrast.
GRID_CONTRASTS: dict[str, GridContrast] = {
    "bmb_high_cutoff": GridContrast("high_burden", "True", "False", "blasts ≥{v}% vs <{v}%"),
    "lines_cutoff": GridContrast("lines_group", ">{v}", "<={v}", ">{v} vs ≤{v} previous lines"),
}

#: Notebook 10's results shown in the heterogeneity section: whether it compared centres, the
#: Fisher exact test of CR across centres and the random-effects I².
CENTRES_AVAILABLE = Key("by_centre.available")
CENTRES_FISHER = Key("any_cr", by="center", test="fisher")
CENTRES_I2 = Key("any_cr", by="center", part="i_squared")
