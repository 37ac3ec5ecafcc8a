"""The explicit '+alternatives' variants: "X or Y" / "X versus Y" name both findings as present, while
every other rule (hedging words, negation, aggregation, No Finding) stays the faithful mode's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import DICOMS, dicom_id
from labelcases import N, P, U, assert_label

from cxrdb.errors import CxrdbError
from cxrdb.labeling.config import ALTERNATIVE_RULES, RULES_DIR, get_config

# (text, observation, faithful label, +alternatives label): the same in both base modes
CASES = [
    # alternatives: uncertain in the faithful modes, present in the variants
    ("Minimal atelectasis or scarring in the left lower lobe.", "Atelectasis", U, P),
    ("Minimal scarring or atelectasis in the left lower lobe.", "Atelectasis", U, P),
    ("Streaky right lower lobe infiltrate versus atelectasis.", "Atelectasis", U, P),
    ("Left basilar subsegmental atelectasis versus scar.", "Atelectasis", U, P),
    ("Small left pleural effusion versus pleural thickening.", "Pleural Effusion", U, P),
    ("Mild scarring and/or subsegmental atelectasis in the right lung base.", "Atelectasis", U, P),
    # a hedge over the whole choice still hedges every alternative
    ("Possible atelectasis or effusion.", "Atelectasis", U, U),
    ("Possible atelectasis or effusion.", "Pleural Effusion", U, U),
    ("Findings may represent atelectasis versus mild interstitial edema.", "Edema", U, U),
    ("Findings may represent atelectasis versus mild interstitial edema or an atypical infection.",
     "Pneumonia", U, U),
    ("Opacity concerning for atelectasis versus pneumonia.", "Pneumonia", U, U),
    ("Question edema or atypical infection?", "Edema", U, U),
    # negation is untouched
    ("No pneumothorax or pleural effusion.", "Pleural Effusion", N, N),
    ("No focal consolidation, effusion or pneumothorax.", "Pneumothorax", N, N),
]


@pytest.mark.parametrize(("text", "obs", "faithful", "variant"), CASES)
@pytest.mark.parametrize("base", ["chexpert", "negbio"])
def test_alternatives_variant(base: str, text: str, obs: str, faithful: float, variant: float) -> None:
    assert_label(base, text, obs, faithful)
    assert_label(base + "+alternatives", text, obs, variant)


def test_variant_keeps_everything_but_the_alternative_rules() -> None:
    for base in ("chexpert", "negbio"):
        faithful, variant = get_config(base), get_config(base + "+alternatives")
        assert variant.name == base + "+alternatives"
        assert variant.disabled_rules == ALTERNATIVE_RULES and not faithful.disabled_rules
        for field in faithful.__dataclass_fields__:
            if field not in ("name", "disabled_rules"):
                assert getattr(variant, field) == getattr(faithful, field), field


def test_every_alternative_rule_exists() -> None:
    """A renamed rule would silently stay on in the variant."""
    ids = {
        m.group(1)
        for path in RULES_DIR.rglob("*.txt")
        for m in re.finditer(r"^([\w.]+):", path.read_text(encoding="utf-8"), re.M)
    }
    assert not ALTERNATIVE_RULES - ids, ALTERNATIVE_RULES - ids


def test_unknown_labeler_lists_the_choices() -> None:
    with pytest.raises(CxrdbError, match=r"chexpert\+alternatives"):
        get_config("chexbert")


def test_catalog_keeps_a_variant_beside_the_faithful_labels(tmp_path: Path) -> None:
    """`cxrdb label -l chexpert -l chexpert+alternatives`: both are stored and queryable; the release's
    chexpert view reads only the faithful labeler."""
    from cxrdb.catalog import Catalog
    from cxrdb.ingest.run import ingest
    from cxrdb.labeling.run import label
    from cxrdb.status import status

    folder = tmp_path / "files" / "p10" / "p10000001"
    folder.mkdir(parents=True)
    (folder / "s50000001.txt").write_text(
        " FINDINGS: Clear lungs.\n \n IMPRESSION: Bibasilar atelectasis or scarring.\n", encoding="utf-8")
    (folder / "s50000001").mkdir()  # a label file names only studies with an image
    shutil.copyfile(DICOMS[0], folder / "s50000001" / f"{dicom_id(1)}.dcm")
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, tmp_path, workers=1)
        summary = label(cat, ["chexpert", "chexpert+alternatives"], workers=1)
        assert summary["chexpert_labeled"] == summary["chexpert+alternatives_labeled"] == 1
        _, rows = cat.query('SELECT labeler, "Atelectasis" FROM work.labels ORDER BY labeler')
        assert rows == [("chexpert", U), ("chexpert+alternatives", P)]
        _, rows = cat.query('SELECT "Atelectasis" FROM release.chexpert')
        assert rows == [(U,)]
        stages = {s["stage"]: s for s in status(cat).stages}
        assert stages["label: chexpert+alternatives"]["ok"] == 1
        assert stages["label: negbio"]["pending"] == 1  # not run here, still listed
