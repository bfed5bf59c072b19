# ruff: noqa: RUF001  (look-alike digits are part of what is refused)
"""verification.said: a value is "said" only when the caller said it, read as we read it.

Issue 15 items 4 and 5. The old rules (`verification.livekit.heard.caller_said_code`,
`agent.identity.caller_said_phone`) read any six digits anywhere as a code (so "April twelve
nineteen eighty five" held 121985 and a code said once could be checked any number of
times), and knew phone numbers only as ten US digits.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification.said import Said, said_code, said_date, said_name, said_phone
from verification.spoken import parse_spoken_code

EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ES = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
JANE = "+14155550123"


def spoken(place: Said, turns: list[str]) -> str:
    """The words a place covers (over a turn boundary, joined by a space)."""
    if place.turn == place.last_turn:
        return turns[place.turn][place.start : place.end]
    first, last = turns[place.turn][place.start :], turns[place.last_turn][: place.end]
    return " ".join([first, *turns[place.turn + 1 : place.last_turn], last])


# -- codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("turns", "words"),
    [
        (["402991"], "402991"),
        (["my code is 4 0 2, 9 9 1 thanks"], "4 0 2, 9 9 1"),
        (["um, it's four oh two nine nine one"], "four oh two nine nine one"),
        (["four oh two, um, nine nine one"], "four oh two, um, nine nine one"),
        (["forty twenty-nine ninety-one"], "forty twenty-nine ninety-one"),
        (["four hundred two, nine ninety one"], "four hundred two, nine ninety one"),
        (["double four... no: 402991"], "402991"),
        (["cuatro cero dos nueve nueve uno"], "cuatro cero dos nueve nueve uno"),
        (["es cuatro, cero, dos, nueve, nueve, uno"], "cuatro, cero, dos, nueve, nueve, uno"),
        (["cuarenta veintinueve noventa y uno"], "cuarenta veintinueve noventa y uno"),
        (["I'll say it once: four oh two nine nine one"], "four oh two nine nine one"),
    ],
)
def test_a_code_said_in_any_usual_form_is_found_where_it_was_said(
    turns: list[str], words: str
) -> None:
    place = said_code("402991", turns)
    assert place is not None
    assert spoken(place, turns) == words


def test_a_code_said_over_a_pause_spans_two_turns() -> None:
    turns = ["it's four oh two", "nine nine one"]
    assert said_code("402991", turns) == Said(0, 5, 1, 13)


@pytest.mark.parametrize(
    "turns",
    [
        ["April twelve nineteen eighty five"],  # the old rule read 121985 here
        ["my birthday is April 12, 1985"],
        ["the twelfth of April, nineteen eighty five"],
        ["born 12 April 1985"],
        ["doce de abril de mil novecientos ochenta y cinco"],
        ["April twelve", "nineteen eighty five"],  # a date said over a pause
        ["12/19/85"],
    ],
)
def test_digits_of_a_date_are_not_a_code(turns: list[str]) -> None:
    assert said_code("121985", turns) is None


@pytest.mark.parametrize(
    ("turns", "guess"),
    [
        (["my number is 415 555 0123"], "555012"),  # part of a longer run
        (["4155550123"], "415555"),
        (["plus 402 991"], "402991"),  # a country code first: a phone number
        (["+402991"], "402991"),
        (["402991 7"], "402991"),
        (["402 991 and 12"], "402991"),
        (["four oh two nine nine"], "402991"),  # five digits are not six
        (["402991"], "402992"),  # not the digits said
        (["２０２９９１"], "202991"),  # look-alike digits are not read
        (["4o2991"], "402991"),
        (["two thousand nine hundred ninety one"], "2991"),  # a quantity, not digits
    ],
)
def test_digits_that_belong_to_something_else_are_not_a_code(turns: list[str], guess: str) -> None:
    assert said_code(guess, turns) is None


def test_a_code_next_to_a_date_or_a_phone_number_said_apart_is_still_a_code() -> None:
    assert said_code("402991", ["my number is 415 555 0123. 402991"]) is not None
    assert said_code("402991", ["April 12 1985", "402991"]) is not None
    assert said_code("402991", ["my number is 415 555 0123 and the code 402991"]) is not None


def test_a_code_said_once_is_checked_once_and_said_again_is_new() -> None:
    turns = ["four oh two nine nine one"]
    first = said_code("402991", turns)
    assert first is not None
    assert said_code("402991", turns, used={first}) is None  # the old rule said yes again
    turns.append("402991")
    again = said_code("402991", turns, used={first})
    assert again == Said(1, 0, 1, 6)
    assert said_code("402991", turns, used={first, again}) is None


def test_a_lone_string_is_one_turn() -> None:
    assert said_code("402991", "402991") == Said(0, 0, 0, 6)
    assert said_code("402991", "4 0 2 9 9 1") is not None
    assert said_code("402991", iter(["402991"])) == Said(0, 0, 0, 6)  # type: ignore[arg-type]


def test_a_code_said_twice_in_one_turn_is_two_places() -> None:
    turns = ["402991. 402991."]
    first = said_code("402991", turns)
    assert first == Said(0, 0, 0, 6)
    assert said_code("402991", turns, used=[first]) == Said(0, 8, 0, 14)


@pytest.mark.parametrize("guess", ["", "40299a", "４０２９９１", "1" * 40])
def test_a_guess_that_is_not_ascii_digits_was_never_said(guess: str) -> None:
    assert said_code(guess, [guess, "402991"]) is None


@given(
    code=st.text(alphabet="0123456789", min_size=6, max_size=6),
    words=st.sampled_from([EN, ES]),
    separator=st.sampled_from([" ", ", ", " - ", "... "]),
    before=st.sampled_from(["", "my code is ", "es ", "um "]),
    after=st.sampled_from(["", " thanks", ". Is that right?"]),
)
def test_any_code_read_digit_by_digit_is_found_and_reads_back(
    code: str, words: list[str], separator: str, before: str, after: str
) -> None:
    turns = [before + separator.join(words[int(d)] for d in code) + after]
    place = said_code(code, turns)
    assert place is not None
    assert parse_spoken_code(spoken(place, turns)) == code


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]


@given(
    month=st.sampled_from(MONTHS),
    day=st.integers(10, 17),
    year=st.sampled_from(["nineteen eighty five", "nineteen ninety", "twenty twenty one"]),
)
def test_no_date_said_in_words_yields_a_code(month: str, day: int, year: str) -> None:
    turns = [f"my date of birth is {month} {TEENS[day - 10]} {year}"]
    year_digits = {"nineteen eighty five": "1985", "nineteen ninety": "1990"}.get(year, "2021")
    assert said_code(f"{day}{year_digits}", turns) is None


# -- phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "+1-415-555-0123",  # refused by the old rule
        "14155550123",  # refused by the old rule
        "1-415-555-0123",  # refused by the old rule
        "(415) 555-0123",
        "415.555.0123",
        "415/555/0123",
        "415, 555, 0123",
        "415 555 0123",
        "my number is four one five five five five oh one two three",
        "four one five, double five five, oh one two three",
        "plus one, four one five, five five five, zero one two three",
        "four fifteen, five fifty five, oh one twenty three",
        "cuatro uno cinco cinco cinco cinco cero uno dos tres",
        "it's 415 555 0123, and the code is 402991",
    ],
)
def test_a_phone_number_said_in_any_usual_form_is_said(said: str) -> None:
    assert said_phone(JANE, [said], "US")


def test_a_phone_number_said_over_a_pause_is_said() -> None:
    assert said_phone(JANE, ["four one five", "five five five oh one two three"], "US")


def test_a_number_outside_the_us_is_read_for_the_clinics_region() -> None:
    london = "+442079460018"
    assert said_phone(london, ["020 7946 0018"], "GB")  # refused by the old rule
    assert said_phone(london, ["+44 20 7946 0018"], "US")  # a country code needs no region
    assert said_phone(london, ["oh two oh, seven nine four six, oh oh one eight"], "GB")
    assert not said_phone(london, ["020 7946 0018"], "US")  # not a US number
    assert said_phone(london, ["020 7946 0018"], ["US", "GB"])  # either region the clinic serves


@pytest.mark.parametrize(
    "said",
    [
        "415 555 012",  # one digit short
        "415 555 0124",  # another number
        "555 0123",  # no area code
        "call me on my cell",  # nothing said: the model copied the caller ID
        "twelve thirty",
        "402991",
    ],
)
def test_a_number_not_said_is_not_said(said: str) -> None:
    assert not said_phone(JANE, [said], "US")


@pytest.mark.parametrize("e164", ["4155550123", "+1415555012", "", "+1 415 555 0123 ", "x"])
def test_a_phone_that_is_not_e164_is_never_said(e164: str) -> None:
    assert not said_phone(e164, ["+1 415 555 0123", e164], "US")


# -- dates ----------------------------------------------------------------------------------

APRIL_12 = date(1985, 4, 12)


@pytest.mark.parametrize(
    "turns",
    [
        ["April 12 1985"],
        ["I was born on April 12th, 1985, I think"],
        ["it's the twelfth of April nineteen eighty five"],
        ["April twelve nineteen eighty-five"],
        ["doce de abril de mil novecientos ochenta y cinco"],
        ["nací el doce de abril de 1985"],
        ["4/12/1985 is my birthday"],
        ["Jane Doe, April 12 1985, 415 555 0123"],  # the comma ends the date
        ["1985-04-12"],
        ["April twelve", "nineteen eighty five"],
    ],
)
def test_a_date_said_in_any_usual_form_is_said(turns: list[str]) -> None:
    assert said_date(APRIL_12, turns)


@pytest.mark.parametrize(
    ("turns", "value"),
    [
        (["April 12 1985"], date(1985, 4, 13)),
        (["April twelve nineteen eighty five"], date(1980, 4, 12)),  # "nineteen eighty" is cut
        (["twelve nineteen eighty five"], APRIL_12),  # no month said
        (["my code is 402991"], APRIL_12),
        ([], APRIL_12),
    ],
)
def test_a_date_not_said_is_not_said(turns: list[str], value: date) -> None:
    assert not said_date(value, turns)


def test_a_date_that_is_not_a_date_is_never_said() -> None:
    assert not said_date("1985-04-12", ["1985-04-12"])  # type: ignore[arg-type]


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "turns"),
    [
        ("Jane Doe", ["this is jane doe"]),
        ("Jane Doe", ["Jane", "my last name is Doe"]),
        ("José O'Brien-Smith", ["jose obrien smith here"]),
        ("José O'Brien-Smith", ["José O Brien Smith"]),
        ("Zoë Ångström", ["ZOE ANGSTROM"]),
        ("Jane Doe", ["J A N E, D-O-E"]),
        ("Иван Петров", ["это Иван Петров"]),
        ("María García", ["soy maría garcía"]),
    ],
)
def test_a_name_said_is_said(name: str, turns: list[str]) -> None:
    assert said_name(name, turns)


@pytest.mark.parametrize(
    ("name", "turns"),
    [
        ("Jane Doe", ["this is jane"]),  # every part must be said
        ("Jane Marie Doe", ["jane doe"]),
        ("Jane Doe", ["jayne doe"]),  # text, not sound: the model must not correct it
        ("Jane Doe ☺", ["jane doe"]),  # a name that cannot be compared
        ("", ["jane doe"]),
        ("Jane Doe", []),
    ],
)
def test_a_name_not_said_is_not_said(name: str, turns: list[str]) -> None:
    assert not said_name(name, turns)
