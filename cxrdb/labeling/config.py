"""The two labeler modes as one small explicit configuration.

Everything not named here (sentence splitting, the mention lists, the parser, the pattern engine, the
graph stages) is shared by both modes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import CxrdbError

RULES_DIR = Path(__file__).parent / "rules"

OBSERVATIONS: tuple[str, ...] = (
    "Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
    "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
    "Pneumothorax", "Support Devices",
)
NO_FINDING = "No Finding"
SUPPORT_DEVICES = "Support Devices"


@dataclass(frozen=True, slots=True)
class LabelerConfig:
    """What differs between the CheXpert-labeler mode and the NegBio (MIMIC-CXR-JPG) mode."""

    name: str
    #: CheXpert's text cleaning (lowercase, "/" -> " or ", spaces after "." and ","); off in NegBio
    clean_text: bool = True
    #: match mention phrases case-insensitively and with any whitespace for a space (NegBio)
    loose_phrases: bool = False
    #: extra prefix files for the positional unmentions (NegBio adds "assessment of", "diameter of")
    extra_positional: tuple[str, ...] = ()
    #: regex rules on the sentence (mention replaced by $X$) tried before the graph rules (NegBio)
    regex_negation: str | None = None
    regex_uncertainty: str | None = None
    #: graph pattern files per stage (relative to the rules directory), tried in order
    pre_negation: tuple[str, ...] = ("patterns/pre_negation_uncertainty.txt",)
    negation: tuple[str, ...] = ("patterns/negation.txt",)
    post_negation: tuple[str, ...] = ("patterns/post_negation_uncertainty.txt",)
    #: aggregation of a negative beside an uncertain mention: -1.0 (CheXpert) or 0.0 (NegBio)
    negative_and_uncertain: float = -1.0
    #: do positive/uncertain 'other abnormality' mentions block No Finding (CheXpert) or not (NegBio)
    other_abnormalities_block: bool = True
    #: reports with empty text are dropped from the output (NegBio's csv2bioc dropna)
    drop_empty: bool = False
    #: sentences longer than this are not parsed: their mentions go to the fallback rules and count
    #: as parse failures
    max_parse_chars: int = 1500
    #: rule ids switched off (only the explicit variants below use this)
    disabled_rules: frozenset[str] = frozenset()


CHEXPERT = LabelerConfig(name="chexpert")
NEGBIO = LabelerConfig(
    name="negbio",
    clean_text=False,
    loose_phrases=True,
    extra_positional=("negbio/positional_extra.txt",),
    regex_negation="negbio/regex_negation.txt",
    regex_uncertainty="negbio/regex_uncertainty.txt",
    negation=("patterns/negation.txt", "negbio/negation_extra.txt"),
    post_negation=("patterns/post_negation_uncertainty.txt", "negbio/post_negation_uncertainty_extra.txt"),
    negative_and_uncertain=0.0,
    other_abnormalities_block=False,
    drop_empty=True,
)

#: The rules that make a finding named as one of two alternatives uncertain: "X or Y", "X and/or Y",
#: "X versus Y". Both original labelers have them (CheXpert's "XXX or YYY" and "XXX versus YYY" rules);
#: the ``+alternatives`` variants switch them off, so "atelectasis or scarring" names both as present.
#: Hedging words ("possible", "may represent", "concern for") stay uncertain in every mode.
ALTERNATIVE_RULES = frozenset({
    "unc.or", "unc.or_member", "unc.versus", "unc.versus_member", "unc.versus_prep", "unc.versus_prep_head",
    "unc.versus_sibling",
})
ALTERNATIVES_SUFFIX = "+alternatives"

CONFIGS = {"chexpert": CHEXPERT, "negbio": NEGBIO}
CONFIGS.update({
    base.name + ALTERNATIVES_SUFFIX: replace(base, name=base.name + ALTERNATIVES_SUFFIX,
                                             disabled_rules=ALTERNATIVE_RULES)
    for base in (CHEXPERT, NEGBIO)
})
LABELER_NAMES: tuple[str, ...] = tuple(CONFIGS)


def get_config(labeler: str | LabelerConfig) -> LabelerConfig:
    """The configuration for a labeler name: 'chexpert' or 'negbio' (faithful), or either with
    '+alternatives' (an explicit, non-default variant: "X or Y" / "X versus Y" name both as present)."""
    if isinstance(labeler, LabelerConfig):
        return labeler
    try:
        return CONFIGS[str(labeler).lower()]
    except KeyError:
        raise CxrdbError(f"unknown labeler {labeler!r}: choose one of {', '.join(LABELER_NAMES)}") from None
