"""parse_spoken_code: what callers and STT engines produce, and what must not parse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification import parse_spoken_code

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.mark.parametrize(
    ("heard", "digits"),
    [
        ("one two three four five six", "123456"),
        ("123 456", "123456"),
        ("1-2-3 4-5-6", "123456"),
        ("four oh two nine nine one", "402991"),
        ("double five one two three four", "551234"),
        ("triple seven one two three", "777123"),
        ("twelve thirty four fifty six", "123456"),
        ("zero zero seven one two three", "007123"),
        ("My code is 402 991.", "402991"),
        ("um, it's 4 0 2, 9 9 1", "402991"),
        ("Four O Two Nine Nine One", "402991"),
        ("sixty-one twenty-three forty-five", "612345"),
        ("ten twenty thirty", "102030"),
        ("four hundred two nine nine one", "402991"),
    ],
)
def test_parses_what_callers_say(heard: str, digits: str) -> None:
    assert parse_spoken_code(heard) == digits


@pytest.mark.parametrize(
    "heard",
    [
        "one two three four five",  # 5 digits
        "1234567",  # 7 digits
        "12345",
        "hello, can you hear me",
        "",
        "two thousand twenty four",
        "double",
        "double trouble one two three four",
        "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width look-alikes: not ours to read
        "4o2991",
        "one" * 500,
    ],
)
def test_refuses_anything_that_is_not_exactly_six_digits(heard: str) -> None:
    assert parse_spoken_code(heard) is None


def test_other_lengths() -> None:
    assert parse_spoken_code("one two three four", length=4) == "1234"
    assert parse_spoken_code("one two three four") is None


@given(st.text(alphabet="0123456789", min_size=6, max_size=6), st.sampled_from([" ", ", ", " - "]))
def test_any_code_read_digit_by_digit_parses_back(code: str, separator: str) -> None:
    spoken = separator.join(WORDS[int(d)] for d in code)
    assert parse_spoken_code(spoken) == code


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_never_raises_and_returns_only_six_ascii_digits(text: str) -> None:
    result = parse_spoken_code(text)
    assert result is None or (len(result) == 6 and all("0" <= c <= "9" for c in result))


# -- every language (issue 19.1) --------------------------------------------------------------

ES = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


@pytest.mark.parametrize(
    ("heard", "digits"),
    [
        ("cuatro cero dos nueve nueve uno", "402991"),
        ("cuatro, cero, dos, nueve, nueve, uno", "402991"),
        ("Cuatro. Cero. Dos. Nueve. Nueve. Uno.", "402991"),
        ("mi código es el cuatro cero dos, nueve nueve uno", "402991"),
        ("doce treinta y cuatro cincuenta y seis", "123456"),
        ("cuarenta veintinueve noventa y uno", "402991"),
        ("cuatrocientos dos novecientos noventa y uno", "402991"),
        ("ciento dos, trescientos cuarenta", "102340"),
        ("doble cinco uno dos tres cuatro", "551234"),
        ("DIECISÉIS dieciseis diecinueve", "161619"),
        ("I'll say it once: four oh two nine nine one", "402991"),  # "once" is Spanish 11
        ("eh, cuatro cero dos, eh, nueve nueve uno", "402991"),
    ],
)
def test_parses_spanish_and_reads_each_language_on_its_own(heard: str, digits: str) -> None:
    assert parse_spoken_code(heard) == digits


@pytest.mark.parametrize(
    "heard",
    [
        "dos mil veinticuatro",  # a quantity, not digits
        "cuatro punto dos nueve nueve uno",
        "más uno cuatro cero dos",  # a phone number's country code
        "cuatro cero dos nine nine one",  # half in each language: no language reads six
        "oh one two three four five six",  # seven digits in English, not six in Spanish
    ],
)
def test_refuses_what_no_one_language_reads_as_six_digits(heard: str) -> None:
    assert parse_spoken_code(heard) is None


@given(
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.sampled_from([" ", ", ", " - ", ". "]),
)
def test_any_code_read_in_spanish_parses_back(code: str, separator: str) -> None:
    assert parse_spoken_code(separator.join(ES[int(d)] for d in code)) == code
