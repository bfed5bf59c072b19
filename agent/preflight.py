"""Before the agent takes a call: can it reach its services, and do they accept its keys?

LiveKit's own failure path is to log, retry and carry on (a rejected OpenAI key shows up as
an error inside the first call; an unreachable LiveKit server as minutes of retries, then
exit status 0). A developer or an orchestrator needs the opposite: one line naming the
service and a non-zero exit, before anything starts. Each check is one cheap authenticated
request with a short timeout; only "the key was refused" (401) and "nothing answered" fail
it. Any other answer means the service is there and knows the key: a 403 is a valid key
without permission for that one request (an OpenAI key restricted from listing models), so
it passes. `STARTUP_CHECKS=false` skips the checks (a network that allows the services'
working endpoints but not these).

`audio_device_problem` is the same idea for the voice console: no microphone or speaker is
one line pointing to `console --text`, not a traceback from inside PortAudio.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from livekit import api

from .settings import AgentSettings

CHECK_TIMEOUT_SECONDS = 5.0
OPENAI_URL = "https://api.openai.com/v1"
DEEPGRAM_URL = "https://api.deepgram.com/v1"


@dataclass(frozen=True, slots=True)
class ServiceProblem:
    service: str
    line: str


def _http_url(livekit_url: str) -> str:
    if livekit_url.startswith("ws://"):
        return "http://" + livekit_url.removeprefix("ws://")
    if livekit_url.startswith("wss://"):
        return "https://" + livekit_url.removeprefix("wss://")
    return livekit_url


async def _check_http(
    service: str, url: str, headers: dict[str, str], key_name: str
) -> ServiceProblem | None:
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, headers=headers) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc)
        return ServiceProblem(service, f"cannot reach {service} at {url}: {reason}")
    if status == 401:
        return ServiceProblem(service, f"{service} rejected {key_name} (HTTP 401) at {url}")
    return None


async def check_openai(base_url: str | None, api_key: str | None) -> ServiceProblem | None:
    name = "the OpenAI-compatible server" if base_url else "OpenAI"
    return await _check_http(
        name,
        f"{(base_url or OPENAI_URL).rstrip('/')}/models",
        {"Authorization": f"Bearer {api_key}"} if api_key else {},
        "OPENAI_API_KEY",
    )


async def check_deepgram(api_key: str, base_url: str | None = None) -> ServiceProblem | None:
    return await _check_http(
        "Deepgram",
        f"{base_url or DEEPGRAM_URL}/projects",
        {"Authorization": f"Token {api_key}"},
        "DEEPGRAM_API_KEY",
    )


async def check_livekit(url: str, api_key: str, api_secret: str) -> ServiceProblem | None:
    http_url = _http_url(url)
    try:
        async with api.LiveKitAPI(http_url, api_key, api_secret) as lk:
            await asyncio.wait_for(
                lk.room.list_rooms(api.ListRoomsRequest()), CHECK_TIMEOUT_SECONDS
            )
    except api.TwirpError as exc:
        if exc.status == 401:
            return ServiceProblem(
                "LiveKit",
                f"the LiveKit server at {url} rejected LIVEKIT_API_KEY / LIVEKIT_API_SECRET "
                "(HTTP 401)",
            )
        return None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc)
        return ServiceProblem("LiveKit", f"cannot reach the LiveKit server at {url}: {reason}")
    return None


async def check_services(
    settings: AgentSettings, *, audio: bool, livekit: bool
) -> ServiceProblem | None:
    """The first problem, in a fixed order (LLM, LiveKit, speech), or None: all reachable
    and accepting their keys. Runs the checks at the same time."""
    model, worker = settings.model, settings.worker
    checks = [check_openai(model.openai_base_url, model.openai_api_key)]
    if livekit and worker.livekit_url and worker.livekit_api_key and worker.livekit_api_secret:
        checks.append(
            check_livekit(worker.livekit_url, worker.livekit_api_key, worker.livekit_api_secret)
        )
    if audio and model.openai_api_key and (model.openai_base_url or model.tts_base_url):
        # speech goes to OpenAI itself (or to OPENAI_TTS_BASE_URL), not to the LLM server
        checks.append(check_openai(model.tts_base_url, model.openai_api_key))
    if audio and model.deepgram_api_key:
        checks.append(check_deepgram(model.deepgram_api_key, model.deepgram_base_url))
    for problem in await asyncio.gather(*checks):
        if problem is not None:
            return problem
    return None


def audio_device_problem() -> str | None:
    """Why the voice console cannot run on this machine (no PortAudio, no microphone, no
    speaker), or None."""
    try:
        import sounddevice  # type: ignore[import-untyped]
    except OSError:
        return (
            "the voice console needs PortAudio (apt-get install libportaudio2 / brew install "
            "portaudio); to type instead: python -m agent console --text"
        )
    for kind, what in (("input", "microphone"), ("output", "speaker")):
        try:
            sounddevice.query_devices(kind=kind)
        except (sounddevice.PortAudioError, ValueError):
            return (
                f"no {what} found on this machine; to type instead: python -m agent console --text"
            )
    return None
