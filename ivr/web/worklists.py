"""The worklist desk: what a finished call leaves for people (a voicemail, a callback
promise) is filed in the records database, announced by a signed notification, and for
a voicemail, transcribed when the line can.

``RecordKeeper`` hands every finished call to ``WorklistDesk.file`` on the background
pool, after the call's record is written. ``call_back`` places an agent's call back
through the REST API: the agent's own phone (or Twilio Client) is rung first, and only
once the agent answered is the caller dialled from the line's number, so a caller never
picks up to silence or to a ringing tone; the caller hears who is calling before the two
are joined. How it went comes back from Twilio (``ivr.web.console_work``'s webhooks).

Rules of this file: filing never raises into the keeper (a failure is logged with the
call id, never the number); a notification is sent only for an item that is new (a
call's end reported twice files it once); nothing here logs a caller's number, a
recording URL or a transcript; every read and write of the worklists goes through
``ivr.records.native`` (off a gevent worker's loop).
"""
from __future__ import annotations

import io
import json
import logging
import wave
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from ivr.model.session import Session
from ivr.model.targets import target_kind
from ivr.records import native
from ivr.records.worklists import WorkItem, Worklists, items_from_call
from ivr.settings import Settings
from ivr.speech import native as speech_native
from ivr.telephony.notify import WorklistNotifier
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

if TYPE_CHECKING:
    from .services import Background

__all__ = ["WorklistDesk", "RecordingUnavailable", "CallBackRefused", "RECORDING_HOSTS", "dialable_target"]

log = logging.getLogger(__name__)
RECORDING_HOSTS = ("api.twilio.com",)  # a recording is fetched from Twilio only, with the account's credentials
MAX_RECORDING_BYTES = 32 * 1024 * 1024
RINGING_FOR = timedelta(seconds=90)  # a second click within this of a call back still ringing is refused


class RecordingUnavailable(Exception):
    """The recording cannot be fetched (not Twilio's, no credentials, Twilio refused)."""


class CallBackRefused(Exception):
    """A call back cannot be placed; the message says why, for the agent."""


def dialable_target(targets: tuple[str, ...] | list[str]) -> str:
    """The first of an agent's targets a call can ring (a number, client: or sip:)."""
    return next((t for t in targets if target_kind(t) in ("number", "client", "sip")), "")


class WorklistDesk:
    """Files, announces and transcribes worklist items; places call backs."""

    def __init__(self, worklists: Worklists, settings: Settings, background: Background,
                 rest: TwilioRest | None = None, models: dict[str, Any] | None = None,
                 notifier: WorklistNotifier | None = None) -> None:
        """``background``: a pool of the desk's own (notifications that retry against a slow
        receiver, transcriptions that take seconds of CPU), so the line's REST work (agent
        legs, redirects) never waits behind them."""
        self.worklists, self.settings, self.background, self.rest = worklists, settings, background, rest
        self.models = models if models is not None else {}
        self.notifier = notifier
        if notifier is None and settings.worklist_webhook_url:
            self.notifier = WorklistNotifier(settings.worklist_webhook_url, settings.worklist_webhook_secret,
                                             background.submit)

    # ------------------------------------------------------------ a call's leftovers

    def file(self, session: Session, at: datetime) -> list[WorkItem]:
        """File the call's voicemail and callback promise; returns the new items."""
        new: list[WorkItem] = []
        for entry in items_from_call(session, at):
            try:
                item, created = native.run(self.worklists.add, entry)
            except Exception:
                log.exception("call %s: its %s could not be filed", session.call_sid, entry["kind"])
                continue
            if not created:
                continue
            new.append(item)
            if self.notifier is not None:
                self.notifier.notify(item.public(), self.console_url(item))
            if item.kind == "voicemail" and self.settings.voicemail_transcripts == "local":
                self.background.submit(f"transcribing the voicemail of call {item.call_sid}", self.transcribe,
                                       item.id, session.language)
        return new

    def console_url(self, item: WorkItem) -> str:
        page = "voicemails" if item.kind == "voicemail" else "callbacks"
        return f"{self.settings.public_url}/console/work/{page}#item-{item.id}"

    # ------------------------------------------------------------ recordings

    def recording(self, item: WorkItem, fmt: str = "mp3") -> tuple[bytes, str]:
        """The voicemail's audio, fetched from Twilio with the account's credentials
        (``fmt`` mp3 or wav); the browser gets the bytes, never the URL or the key."""
        url = item.recording_url or ""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname not in RECORDING_HOSTS:
            raise RecordingUnavailable("the recording is not on Twilio's API")
        if not (self.settings.twilio_account_sid and self.settings.twilio_auth_token):
            raise RecordingUnavailable("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to fetch recordings")
        base = url[:-len(".json")] if url.endswith(".json") else url
        try:
            reply = requests.get(f"{base}.{fmt}", auth=(self.settings.twilio_account_sid,
                                                       self.settings.twilio_auth_token),
                                 timeout=self.settings.twilio_timeout, stream=True, allow_redirects=True)
        except requests.RequestException as exc:
            raise RecordingUnavailable(f"Twilio could not be reached ({type(exc).__name__})") from None
        with reply:
            if reply.status_code != 200:
                raise RecordingUnavailable(f"Twilio answered HTTP {reply.status_code}")
            body = bytearray()
            for chunk in reply.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_RECORDING_BYTES:
                    raise RecordingUnavailable("the recording is larger than the console plays")
        return bytes(body), "audio/mpeg" if fmt == "mp3" else "audio/wav"

    def transcribe(self, item_id: int, language: str) -> str:
        """Transcribe a voicemail with the line's own Vosk model for ``language`` (or its
        only model); '' when there is none or nothing was understood."""
        model = self.models.get(language) or (next(iter(self.models.values())) if len(self.models) == 1 else None)
        item = native.run(self.worklists.get, item_id)
        if model is None or item is None:
            return ""
        try:
            audio, _ = self.recording(item, "wav")
        except RecordingUnavailable as exc:
            log.warning("call %s: its voicemail was not transcribed: %s", item.call_sid, exc)
            return ""
        # seconds of Vosk: on the recogniser's native threads, never on a gevent worker's loop
        text = speech_native.run(transcribe_wav, model, audio)
        if text:
            native.run(self.worklists.set_transcript, item.call_sid, text, "local", item.created_at)
        return text

    # ------------------------------------------------------------ call backs

    def call_back(self, item: WorkItem, agent_name: str, agent_targets: tuple[str, ...], urls: Any,
                  at: datetime) -> str:
        """Ring the agent's own phone for ``item``; when they answer, the caller is dialled
        (``/twilio/callback/agent``). Returns the agent leg's SID."""
        if self.rest is None:
            raise CallBackRefused("Call backs need Twilio's REST API: set TWILIO_ACCOUNT_SID.")
        if item.status != "open":
            raise CallBackRefused("This item is done already.")
        if not item.reachable:
            raise CallBackRefused("The caller's number is withheld or not a phone number, so they cannot be "
                                  "called back.")
        if item.outcome == "calling" and item.attempt_at is not None and at - item.attempt_at < RINGING_FOR:
            raise CallBackRefused(f"A call back is already ringing ({item.attempt_by}, "
                                  f"{item.attempt_at:%H:%M:%S} UTC); wait for it to end.")
        target = dialable_target(agent_targets)
        if not target:
            raise CallBackRefused("Your agent entry has no phone, client or SIP target to ring you on.")
        line = item.line_number
        if not line:
            raise CallBackRefused("The line's number for this call is unknown.")
        try:
            sid = self.rest.place_call(target, line, urls.to("/twilio/callback/agent", item=item.id),
                                       urls.to("/twilio/callback/status", item=item.id))
        except (RestUnavailable, CallGone) as exc:
            log.warning("call back of item %s could not be placed: %s", item.id, exc)
            raise CallBackRefused("Twilio did not place the call back; try again in a minute.") from None
        native.run(self.worklists.attempt_started, item.id, sid, agent_name, at)
        return sid


def transcribe_wav(model: Any, audio: bytes) -> str:
    """What a Vosk ``model`` hears in a WAV recording (16-bit mono, any rate Vosk takes)."""
    from vosk import KaldiRecognizer

    try:
        with wave.open(io.BytesIO(audio)) as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                return ""
            recognizer = KaldiRecognizer(model, float(wav.getframerate()))
            words: list[str] = []
            while chunk := wav.readframes(4000):
                if recognizer.AcceptWaveform(chunk):
                    words.append(json.loads(recognizer.Result()).get("text", ""))
            words.append(json.loads(recognizer.FinalResult()).get("text", ""))
    except (wave.Error, EOFError):
        return ""
    return " ".join(w for w in words if w).strip()
