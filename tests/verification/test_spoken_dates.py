"""parse_spoken_date / read_date: today's rules (clinic.parse_date delegates here), plus the
month names and number words of every language (issue 19.1). The cases in words were
"couldn't understand that date" for clinic/dates.py before."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic import parse_date
from verification.spoken import parse_spoken_date, read_date

APRIL_12 = date(1985, 4, 12)

EN_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
EN_TEENS += ["seventeen", "eighteen", "nineteen"]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august"]
EN_MONTHS += ["september", "october", "november", "december"]
ES_UNITS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
ES_TEENS = ["diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete"]
ES_TEENS += ["dieciocho", "diecinueve"]
ES_TWENTIES = ["veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco"]
ES_TWENTIES += ["veintiséis", "veintisiete", "veintiocho", "veintinueve"]
ES_TENS = ["", "", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta"]
ES_TENS += ["noventa"]
ES_HUNDREDS = ["", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos"]
ES_HUNDREDS += ["seiscientos", "setecientos", "ochocientos", "novecientos"]
ES_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
ES_MONTHS += ["septiembre", "octubre", "noviembre", "diciembre"]


def en_below_100(n: int) -> str:
    if n < 10:
        return EN_UNITS[n]
    if n < 20:
        return EN_TEENS[n - 10]
    return EN_TENS[n // 10] + (f" {EN_UNITS[n % 10]}" if n % 10 else "")


def en_year(year: int) -> str:
    """How people say a year: in pairs ("nineteen eighty five", "nineteen oh five"), or
    "two thousand and five" in the 2000s."""
    if 2000 <= year < 2010:
        return "two thousand" + (f" and {EN_UNITS[year % 10]}" if year % 10 else "")
    century, rest = divmod(year, 100)
    tail = "hundred" if rest == 0 else f"oh {EN_UNITS[rest]}" if rest < 10 else en_below_100(rest)
    return f"{en_below_100(century)} {tail}"


def es_below_100(n: int) -> str:
    if n < 10:
        return ES_UNITS[n]
    if n < 20:
        return ES_TEENS[n - 10]
    if n < 30:
        return ES_TWENTIES[n - 20]
    return ES_TENS[n // 10] + (f" y {ES_UNITS[n % 10]}" if n % 10 else "")


def es_year(year: int) -> str:
    thousands, rest = divmod(year, 1000)
    hundreds, rest = divmod(rest, 100)
    words = ["mil" if thousands == 1 else f"{ES_UNITS[thousands]} mil"]
    if hundreds:
        words.append("cien" if hundreds == 1 and rest == 0 else ES_HUNDREDS[hundreds])
    if rest:
        words.append(es_below_100(rest))
    return " ".join(words)


@pytest.mark.parametrize(
    "text",
    [
        "April twelve nineteen eighty five",
        "April twelfth nineteen eighty five",
        "April twelfth, nineteen eighty-five",
        "the twelfth of April nineteen eighty five",
        "twelve April nineteen eighty five",
        "April the 12th, nineteen eighty five",
        "nineteen eighty five April twelve",
        "doce de abril de mil novecientos ochenta y cinco",
        "el doce de abril de mil novecientos ochenta y cinco",
        "Doce de Abril de 1985",
        "12 de abril de 1985",
        "abril doce mil novecientos ochenta y cinco",
        "April twelve one thousand nine hundred eighty five",
    ],
)
def test_reads_dates_said_in_words_of_every_language(text: str) -> None:
    assert parse_spoken_date(text) == APRIL_12
    assert parse_date(text) == APRIL_12  # the clinic reads them too


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("primero de mayo de dos mil uno", date(2001, 5, 1)),
        ("1º de mayo de 2001", date(2001, 5, 1)),
        ("el treinta y uno de diciembre de mil novecientos noventa y nueve", date(1999, 12, 31)),
        ("veintiuno de septiembre de dos mil veinte", date(2020, 9, 21)),
        ("the twenty first of September nineteen ninety nine", date(1999, 9, 21)),
        ("March twenty-first two thousand and one", date(2001, 3, 21)),
        ("May fifth nineteen oh five", date(1905, 5, 5)),
        ("June first twenty twenty", date(2020, 6, 1)),
        ("July fourth nineteen hundred", date(1900, 7, 4)),
        ("dieciséis de septiembre de mil ochocientos diez", date(1810, 9, 16)),
    ],
)
def test_other_dates_in_words(text: str, expected: date) -> None:
    assert parse_spoken_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("April twelve eighty five", "couldn't understand"),  # a two-digit year
        ("doce de abril de ochenta y cinco", "couldn't understand"),
        ("April nineteen eighty five twelve", "couldn't understand"),  # no year 8512 in words
        ("April twelve", "full year"),
        ("doce de abril", "full year"),
        ("abril de mil novecientos ochenta y cinco", "day of the month"),
        ("doce de mil novecientos ochenta y cinco", "month"),
        ("treinta y uno de febrero de dos mil", "real calendar date"),
        ("April twelve nineteen eighty five and then some", "couldn't understand"),
        ("abril mayo doce 1985", "couldn't understand"),
    ],
)
def test_refuses_words_that_are_not_one_date(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        read_date(text)
    assert parse_spoken_date(text) is None


@given(
    day=st.dates(min_value=date(1800, 1, 1), max_value=date(2199, 12, 31)),
    order=st.sampled_from(["month first", "day first", "the day of"]),
)
def test_any_date_said_in_english_words_reads_back(day: date, order: str) -> None:
    month, spoken_day, year = EN_MONTHS[day.month - 1], en_below_100(day.day), en_year(day.year)
    text = {
        "month first": f"{month} {spoken_day}, {year}",
        "day first": f"{spoken_day} {month} {year}",
        "the day of": f"the {spoken_day} of {month} {year}",
    }[order]
    assert parse_spoken_date(text) == day, text


@given(day=st.dates(min_value=date(1800, 1, 1), max_value=date(2199, 12, 31)))
def test_any_date_said_in_spanish_words_reads_back(day: date) -> None:
    text = f"el {es_below_100(day.day)} de {ES_MONTHS[day.month - 1]} de {es_year(day.year)}"
    assert parse_spoken_date(text) == day, text


@given(st.text(max_size=120))
def test_parse_spoken_date_never_raises(text: str) -> None:
    assert parse_spoken_date(text) is None or isinstance(parse_spoken_date(text), date)
