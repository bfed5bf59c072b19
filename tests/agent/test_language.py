"""Spanish on the same line (issue 19 item 1), the agent's side: the caller is answered in the
language they speak, and the call follows when they switch. Through the real session: a typed
turn is read by its words, a spoken one carries speech-to-text's own language label."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import UserInputTranscribedEvent
from livekit.agents.language import LanguageCode

from agent.instructions import languages, load_prompt, phrase
from agent.language import guess_language, stt_language
from tests.support.clinic_calls import Call, agent_said


@pytest.mark.parametrize(
    ("said", "current", "expected"),
    [
        ("Hola, quiero cancelar mi cita", "en", "es"),
        ("Sí, por favor", "en", "es"),
        ("Hi, I'd like to cancel my appointment", "es", "en"),
        ("Maria Garcia", "en", "en"),  # a name decides nothing
        ("Maria Garcia", "es", "es"),
        ("cuatro cero dos nueve nueve uno", "en", "en"),  # nor does a number read out
        ("402991", "es", "es"),
        ("my code is cuatro cero dos", "en", "en"),
    ],
)
def test_a_turns_language_is_what_its_common_words_say(
    said: str, current: str, expected: str
) -> None:
    assert guess_language(said, current) == expected


def test_speech_to_text_language_tags_map_to_the_language_folders() -> None:
    assert stt_language("es") == stt_language("es-419") == stt_language("ES") == "es"
    assert stt_language("fr") is None and stt_language(None) is None


def test_every_language_folder_is_complete() -> None:
    """A language is a folder of text: instructions, the agent's phrases, its common words."""
    assert {"en", "es"} <= set(languages())
    english = set(phrase.__globals__["_phrases"]("en"))
    for language in languages():
        assert load_prompt("instructions", language).count("{clinic_name}") == 1
        assert set(phrase.__globals__["_phrases"](language)) == english, language


async def test_the_greeting_invites_the_other_languages(call: Call) -> None:
    greeting = agent_said(call)[0]
    assert greeting.startswith("Thank you for calling Bayview Clinic.")
    assert phrase("invite", "es") in greeting


async def test_a_caller_who_speaks_spanish_is_followed_and_back(call: Call) -> None:
    call.llm.say("Claro, ¿me dice su nombre completo?")
    await call.session.run(user_input="Hola, quiero cancelar mi cita, por favor")
    assert call.state.language == "es"
    await asyncio.gather(*call.state.background)  # the instructions follow
    assert str(call.agent.instructions).startswith("Usted atiende el teléfono de Bayview Clinic.")

    call.llm.say("Of course. What's your full name?")
    await call.session.run(user_input="Sorry, can we speak English? I want to cancel")
    assert call.state.language == "en"


async def test_speech_to_text_says_which_language_was_heard(call: Call) -> None:
    """A spoken turn carries its language (Deepgram nova-3 in "multi" mode): that decides,
    even for words both languages share."""
    call.session.emit(
        "user_input_transcribed",
        UserInputTranscribedEvent(transcript="no", is_final=True, language=LanguageCode("es")),
    )
    call.llm.say("Entendido.")
    await call.session.run(user_input="no")
    assert call.state.language == "es"
