"""Actions -> TwiML. The only place TwiML is built, and only with twilio's VoiceResponse.

``Urls`` knows the absolute URLs Twilio must call back (the public base URL plus our
paths); ``render`` turns one step's actions into one TwiML document.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.model.actions import Action, Hangup, Listen, Record, Speak, Transfer
from ivr.model.messages import Messages, built_in, english
from ivr.model.targets import target_kind

MAX_HINTS = 500


@dataclass(frozen=True)
class Urls:
    base: str  # e.g. https://ivr.example.com (no trailing slash)

    def to(self, path: str, **query: object) -> str:
        clean = {k: v for k, v in query.items() if v is not None and v != ""}
        return f"{self.base}{path}" + (f"?{urlencode(clean)}" if clean else "")

    def audio(self, name: str) -> str:
        return self.to(f"/audio/{name}")


@dataclass(frozen=True)
class Voice:
    """The flow's voice and language, for what the line itself says (hold, queue, whisper,
    goodbye) as much as for the flow's own prompts, and the line's words in that language
    (``words``: the flow's catalogue; default: the product's for ``language``). Empty: Twilio's default voice."""

    name: str = ""
    language: str = ""
    words: Messages | None = field(default=None, compare=False, repr=False)

    def text(self, key: str, **fields: object) -> str:
        """The line's message ``key`` in this voice's language (``words``, else the
        product's catalogue of the language, else English)."""
        return (self.words or built_in(self.language) or english()).text(key, **fields)

    def say(self, parent: Any, text: str) -> None:
        kwargs = {key: value for key, value in (("voice", self.name), ("language", self.language)) if value}
        parent.say(text, **kwargs)


@dataclass(frozen=True)
class Speech:
    """How speech is heard at this prompt: Twilio's recogniser (``stream_url`` empty) or
    our own through a Media Stream. ``start_stream``: this prompt starts the stream named
    ``stream_name``. ``stream_up``: the stream is up (its socket has started), so the
    Gather takes keys only; until then it also takes Twilio's speech, and whichever
    recogniser hears the caller first answers the prompt."""

    stream_url: str = ""
    start_stream: bool = False
    stream_parameters: tuple[tuple[str, str], ...] = ()
    stream_name: str = "ivr-speech"
    stream_up: bool = False


def render(actions: list[Action], urls: Urls, call_sid: str, seq: int, speech: Speech = Speech(),
           warm: bool = False, transcribe_url: str = "") -> str:
    """One step's actions as TwiML. ``warm``: people are reached by warm transfer (the
    caller waits in a conference while agent legs are dialled through the REST API).
    ``transcribe_url``: Twilio transcribes a voicemail and posts the text there."""
    response = VoiceResponse()
    if speech.start_stream and speech.stream_url and any(isinstance(a, Listen) for a in actions):
        start = response.start()
        stream = start.stream(url=speech.stream_url, name=speech.stream_name, track="inbound_track")
        for name, value in speech.stream_parameters:
            stream.parameter(name=name, value=value)
    for action in actions:
        if isinstance(action, Speak):
            _speak(response, action, urls)
        elif isinstance(action, Listen):
            _listen(response, action, urls, seq, local_speech=bool(speech.stream_url) and speech.stream_up)
        elif isinstance(action, Transfer):
            if warm and target_kind(action.target) not in ("queue", "flex"):
                _hold_in_conference(response, action, urls, call_sid)
            else:
                _transfer(response, action, urls, call_sid)
        elif isinstance(action, Record):
            response.record(action=urls.to("/twilio/recording", seq=seq), method="POST",
                            max_length=action.max_length, finish_on_key=action.finish_on_key, play_beep=True,
                            recording_status_callback=urls.to("/twilio/recording-status"),
                            recording_status_callback_method="POST",
                            **({"transcribe": True, "transcribe_callback": transcribe_url} if transcribe_url else {}))
            response.redirect(urls.to("/twilio/recording", seq=seq, empty=1), method="POST")
        elif isinstance(action, Hangup):
            response.hangup()
    return str(response)


def _speak(parent, action: Speak, urls: Urls) -> None:
    if action.audio:
        parent.play(urls.audio(action.audio))
    elif action.text:
        kwargs = {"language": action.language}
        if action.voice:
            kwargs["voice"] = action.voice
        parent.say(action.text[:3000], **kwargs)


def _listen(response: VoiceResponse, action: Listen, urls: Urls, seq: int, local_speech: bool) -> None:
    step = urls.to("/twilio/step", node=action.node, seq=seq)
    kwargs = dict(action=step, method="POST", timeout=action.timeout, action_on_empty_result=True,
                  language=action.language)
    if local_speech:
        kwargs["input"] = "dtmf"  # our own recogniser hears speech on the media stream, which is up
    else:
        kwargs.update(input="dtmf speech", speech_timeout=2,
                      hints=", ".join(p.replace(",", " ") for p in action.phrases[:MAX_HINTS]) or None)
    if action.max_digits:
        kwargs["num_digits"] = action.max_digits
    kwargs["finish_on_key"] = action.finish_on_key
    gather = Gather(**{k: v for k, v in kwargs.items() if v is not None})
    for prompt in action.prompts:
        _speak(gather, prompt, urls)
    response.append(gather)
    # Twilio calls the action even on silence (actionOnEmptyResult); should it not, the
    # redirect still brings the caller back instead of hanging up on them.
    response.redirect(urls.to("/twilio/step", node=action.node, seq=seq, silence=1), method="POST")


def conference_name(call_sid: str) -> str:
    return f"ivr-{call_sid}"


def _hold_in_conference(response: VoiceResponse, action: Transfer, urls: Urls, call_sid: str) -> None:
    """The caller waits in a conference named for the call, hearing hold audio, until an
    agent who accepted joins (or the call is redirected to a fallback). The agent's leg
    ends the conference when the agent hangs up, the caller's does not: the caller's Dial
    action (``/twilio/conference-left``) then continues the call (the survey); a caller
    who hangs up is reported by the status callback, which ends the agent's leg."""
    dial = Dial(action=urls.to("/twilio/conference-left", attempt=action.attempt), method="POST")
    dial.conference(conference_name(call_sid), start_conference_on_enter=False, end_conference_on_exit=False,
                    beep=False, wait_url=urls.to("/twilio/hold", call=call_sid), wait_method="POST")
    response.append(dial)


def agent_joins(call_sid: str, voice: Voice = Voice()) -> str:
    """The agent who took the call joins the caller's conference (and ends it on leaving)."""
    response = VoiceResponse()
    voice.say(response, voice.text("agent_connecting"))
    dial = Dial()
    dial.conference(conference_name(call_sid), start_conference_on_enter=True, end_conference_on_exit=True, beep=False)
    response.append(dial)
    return str(response)


def hold(music_url: str | None, voice: Voice = Voice()) -> str:
    """What the caller hears while an agent is sought (Twilio repeats it)."""
    response = VoiceResponse()
    if music_url:
        response.play(music_url)
    else:
        response.pause(length=15)
    voice.say(response, voice.text("hold"))
    return str(response)


def sip_with_headers(target: str, context: dict) -> str:
    """A SIP target with the transfer context as X- headers, within Twilio's 1024 bytes."""
    from urllib.parse import quote

    escalation = context.get("escalation", {})
    headers = [("X-IVR-Call", context.get("call_sid", "")), ("X-IVR-Caller", context.get("caller", "")),
               ("X-IVR-Verified", "yes" if context.get("verified") else "no"),
               ("X-IVR-Score", str(escalation.get("score", ""))), ("X-IVR-Reason", context.get("reason", "")),
               ("X-IVR-Intent", (context.get("intents") or [""])[-1]), ("X-IVR-Path", ">".join(context.get("path", [])))]
    out = target
    for name, value in headers:
        piece = f"{'&' if '?' in out else '?'}{name}={quote(str(value), safe='')}"
        if len(out.encode()) + len(piece.encode()) - len(target.encode()) > 1000:
            break
        out += piece
    return out


def _transfer(response: VoiceResponse, action: Transfer, urls: Urls, call_sid: str) -> None:
    kind = target_kind(action.target)
    after = urls.to("/twilio/dial", attempt=action.attempt)
    if kind == "agents":  # agents are offered calls by warm transfer only: without it, nobody is free
        response.redirect(urls.to("/twilio/dial", attempt=action.attempt, unavailable=1), method="POST")
        return
    if kind == "flex":
        import json

        enqueue = response.enqueue(None, workflow_sid=action.target.split(":", 1)[1], action=after, method="POST")
        enqueue.task(json.dumps(flex_attributes(action.context))[:4000])
        return
    if kind == "queue":
        response.enqueue(action.target.split(":", 1)[1], action=after, method="POST",
                         wait_url=urls.to("/twilio/queue-wait", call=call_sid), wait_url_method="POST")
        return
    whisper = urls.to("/twilio/whisper", call=call_sid, attempt=action.attempt) if action.whisper else None
    dial = Dial(action=after, method="POST", timeout=action.timeout, answer_on_bridge=True)
    if kind == "number":
        dial.number(action.target, url=whisper, method="POST")
    elif kind == "client":
        dial.client(action.target.split(":", 1)[1], url=whisper, method="POST")
    else:
        dial.sip(sip_with_headers(action.target, dict(action.context)), url=whisper, method="POST")
    response.append(dial)


def flex_attributes(context: Mapping[str, Any]) -> dict[str, Any]:
    """TaskRouter / Flex task attributes: the context record, trimmed of the long parts."""
    return {"type": "inbound_call", "name": context.get("caller", ""), "from": context.get("caller", ""),
            "call_sid": context.get("call_sid", ""), "ivr": {k: v for k, v in context.items() if k != "turns"},
            "conversation": [f"{t['kind']}: {t['text']}" for t in context.get("turns", [])][-20:]}


def whisper(summary: str, answer_url: str, voice: Voice = Voice()) -> str:
    """What the agent hears before the caller is connected: a short pause (an agent
    lifting the handset would miss the first words), the summary, then 1 or 2. Without
    ``summary``: the question again (after a key that is neither). A timed-out Gather
    with nothing after it still bridges (TWILIO.md section 6), so it ends in a hangup."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=answer_url, method="POST", timeout=8, input="dtmf")
    if summary:
        gather.pause(length=1)
        voice.say(gather, summary)
    voice.say(gather, voice.text("agent_question"))
    voice.say(response, voice.text("agent_no_answer"))
    response.hangup()
    return str(response)


def simple(*texts: str, hangup: bool = False, dial: str = "", voice: Voice = Voice()) -> str:
    response = VoiceResponse()
    for text in texts:
        voice.say(response, text)
    if dial:
        response.dial(dial)
    if hangup:
        response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())


def queue_wait(position: str, voice: Voice = Voice()) -> str:
    response = VoiceResponse()
    where = voice.text("queue_position", position=position) + " " if position and position.isdigit() else ""
    voice.say(response, where + voice.text("queue_wait"))
    response.pause(length=20)
    return str(response)


def emergency(apology: str, target: str, voice: Voice = Voice()) -> str:
    """Apologise and dial ``target`` (a number, client: or sip: target) directly."""
    response = VoiceResponse()
    voice.say(response, apology)
    dial = Dial(timeout=30)
    kind = target_kind(target)
    if kind == "client":
        dial.client(target.split(":", 1)[1])
    elif kind == "sip":
        dial.sip(target)
    else:
        dial.number(target)
    response.append(dial)
    voice.say(response, voice.text("nobody_answered_goodbye"))
    response.hangup()
    return str(response)


def call_back_agent(intro: str, caller: str, caller_id: str, caller_intro_url: str, action_url: str,
                    voice: Voice = Voice(), timeout: int = 30) -> str:
    """An agent's call back, once the agent answered: say who is being called back, then
    dial the caller from the line's number; the caller hears ``caller_intro_url`` (the
    line says who is calling) before the two are joined. ``action_url`` learns how the
    caller's leg went (``DialCallStatus``)."""
    response = VoiceResponse()
    voice.say(response, intro)
    dial = Dial(caller_id=caller_id or None, action=action_url, method="POST", timeout=timeout)
    dial.number(caller, url=caller_intro_url, method="POST")
    response.append(dial)
    return str(response)
