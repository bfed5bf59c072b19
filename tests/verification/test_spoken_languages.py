"""The number tables: a language is a folder of text (`numbers.toml`), no code (issue 19.1)."""

from __future__ import annotations

import pytest

from verification.languages import available
from verification.spoken.lexer import lex
from verification.spoken.numbers import read_day, read_digits, read_quantity, read_year
from verification.spoken.vocabulary import Vocabulary, every_language, merged, vocabulary

SECTIONS = ("digits", "teens", "tens", "multipliers", "repeats", "months", "ordinals")


def words_of(text: str) -> list:  # type: ignore[type-arg]
    return [t for t in lex(text) if t.kind not in ("space", "sep", "soft")]


@pytest.mark.parametrize("language", available())
def test_every_language_folder_has_a_complete_number_table(language: str) -> None:
    words = vocabulary(language)
    assert words.languages == (language,)
    for section in SECTIONS:
        assert getattr(words, section), f"{language}/numbers.toml has no [{section}]"
    assert sorted(set(words.digits.values())) == list(range(10))
    assert sorted(set(words.months.values())) == list(range(1, 13))
    assert set(words.hidden) == {"code", "phone"}
    assert "{last4}" in words.hidden["phone"]


def test_the_languages_never_read_one_word_two_ways() -> None:
    """A word two tables read differently would be dropped from the merged reading."""
    every = merged()
    for words in every_language():
        for section in SECTIONS:
            assert dict(getattr(words, section)).items() <= dict(getattr(every, section)).items()


def test_words_are_compared_without_case_accents_or_apostrophes() -> None:
    es = vocabulary("es")
    assert es.teens["dieciseis"] == 16  # written "dieciséis" in the table
    assert vocabulary("en").digits["oh"] == 0
    assert vocabulary("xx") == vocabulary("en")  # an unknown language reads as the default


FRENCH = {
    "joiners": ["et"],
    "date_fillers": ["le"],
    "digits": {"zéro": 0, "un": 1, "deux": 2, "quatre": 4, "neuf": 9},
    "teens": {"dix": 10, "douze": 12},
    "tens": {"vingt": 20, "trente": 30},
    "multipliers": {"cent": 100, "mille": 1000},
    "months": {"avril": 4},
    "ordinals": {"premier": 1},
}


def test_a_third_language_is_a_table_and_no_code() -> None:
    """The readers know nothing of any language: a French table reads French."""
    fr = Vocabulary.from_table("fr", FRENCH)
    assert read_digits(words_of("quatre zéro deux neuf neuf un"), fr) == "402991"
    assert read_quantity(words_of("mille neuf cent trente"), fr) == 1930
    assert read_year(words_of("deux mille douze"), fr) == 2012
    assert read_day(words_of("premier"), fr) == 1
    assert read_digits(words_of("vingt et un"), fr) == "21"
