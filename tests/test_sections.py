"""MIMIC-CXR section parser behaviours, one rule per test."""

from __future__ import annotations

from conftest import REPORT

from cxrdb.sections import Override, choose_text, normalize_name, section_text


def names(text: str) -> list[str]:
    return [s.name for s in section_text(text)]


def test_standard_report_sections_and_choice() -> None:
    sections = section_text(REPORT)
    assert [s.name for s in sections] == [
        "preamble", "examination", "indication", "comparison", "findings", "impression"]
    assert choose_text(REPORT, sections) == ("impression", "No acute cardiopulmonary process.")
    # every section's text is the exact slice of the report starting at its offset
    for s in sections[1:]:
        assert REPORT[s.start : s.start + len(s.text)] == s.text


def test_header_needs_newline_and_one_space() -> None:
    assert names("x\nIMPRESSION: no space before\n") == ["full report"]
    assert names("x\n IMPRESSION: one space\n") == ["preamble", "impression"]


def test_search_resumes_after_the_line_following_a_header() -> None:
    # the original skips to the next newline after the header match; a header on that line is not seen
    text = "x\n FINDINGS:\n IMPRESSION: hidden\n more\n"
    sections = section_text(text)
    assert [s.name for s in sections] == ["preamble", "findings"]
    assert "IMPRESSION: hidden" in sections[1].text


def test_name_normalisation_rules() -> None:
    assert normalize_name("CONCLUSION") == "impression"
    assert normalize_name("ndication") == "impression"  # the original's oddity, kept
    assert normalize_name("FINAL IMPRESSION") == "impression"  # substring of a main section
    assert normalize_name("PA AND LATERAL VIEWS OF THE CHEST") == "findings"  # view words
    assert normalize_name("REASON FOR EXAM") == "indication"
    assert normalize_name("SOMETHING ELSE") == "something else"


def test_empty_impression_is_removed_and_findings_chosen() -> None:
    text = "x\n FINDINGS: Lungs clear.\n \n IMPRESSION: \n"
    sections = section_text(text)
    assert "impression" not in [s.name for s in sections]
    assert choose_text(text, sections) == ("findings", "Lungs clear.")


def test_last_paragraph_when_no_impression_or_findings() -> None:
    text = " INDICATION: cough\n \n first para\n \n Heart normal.\n"
    sections = section_text(text)
    assert sections[-1].name == "last_paragraph"
    assert choose_text(text, sections) == ("last_paragraph", "first para\n \n Heart normal.")


def test_last_occurrence_wins() -> None:
    text = "x\n IMPRESSION: first\n \n IMPRESSION: second\n"
    assert choose_text(text, section_text(text)) == ("impression", "second")


def test_comparison_is_the_last_resort_and_none_gives_empty() -> None:
    text = "x\n COMPARISON: prior film\n"
    assert choose_text(text, section_text(text)) == ("comparison", "prior film")
    text = "x\n INDICATION: cough\n"
    assert choose_text(text, section_text(text)) == ("", "")


def test_overrides() -> None:
    text = "x\n INDICATION: cough\n \n NOTE: see attached\n"
    sections = section_text(text)
    assert choose_text(text, sections, Override(section="note")) == ("override:note", "see attached")
    assert choose_text(text, sections, Override(start=0, end=0)) == ("override:range", "")
    assert choose_text(text, sections, Override(start=3, end=13)) == ("override:range", "INDICATION")
