"""Name matching: tolerant of how a name is heard, never of a different name."""

from __future__ import annotations

import pytest

from clinic.names import edit_distance, names_match, normalize_name, parts_match, sound_key


def test_normalize_folds_case_accents_punctuation_and_spaces() -> None:
    assert normalize_name("  José   O'Brien-Smith. ") == "jose obrien smith"
    assert normalize_name("JANE\tDOE!") == "jane doe"
    assert normalize_name("") == ""


@pytest.mark.parametrize(
    "said",
    [
        "Jane Doe",
        "jane doe",
        "Jane  Doe",
        "JANE DOE.",
        "Jayne Doe",
        "Jane Dough",
        "Jàne Döe",
        "Jane Q. Doe",  # a middle initial the record does not have
    ],
)
def test_matches_jane_doe(said: str) -> None:
    assert names_match(said, "Jane Doe")


@pytest.mark.parametrize(
    "said",
    [
        "John Doe",
        "June Doe",
        "Jane Smith",
        "Jane",
        "Doe",
        "Doe Jane",
        "Jane Doe Smith",  # a different last name
        "",
        "...",
    ],
)
def test_does_not_match_other_names(said: str) -> None:
    assert not names_match(said, "Jane Doe")


def test_middle_names_must_agree_when_both_are_given() -> None:
    assert names_match("Mary Ann Lee", "Mary Ann Lee")
    assert names_match("Mary Lee", "Mary Ann Lee")
    assert not names_match("Mary Beth Lee", "Mary Ann Lee")


@pytest.mark.parametrize(
    ("a", "b"),
    [("smyth", "smith"), ("jon", "john"), ("leigh", "lee"), ("katherine", "catherine"),
     ("garsia", "garcia"), ("lukas", "lucas")],
)  # fmt: skip
def test_parts_that_sound_alike_match(a: str, b: str) -> None:
    assert parts_match(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("jane", "john"), ("doe", "dee"), ("smith", "smart"), ("patel", "powell"), ("ann", "anna"),
     ("li", "lee"), ("maria", "mariana")],
)  # fmt: skip
def test_different_parts_do_not_match(a: str, b: str) -> None:
    assert not parts_match(a, b)


def test_sound_key_examples() -> None:
    assert sound_key("jayne") == sound_key("jane") == "jan"
    assert sound_key("dough") == sound_key("doe")


def test_edit_distance() -> None:
    assert edit_distance("", "abc") == 3
    assert edit_distance("jane", "jnae") == 1  # a swap is one edit
    assert edit_distance("kitten", "sitting") == 3
