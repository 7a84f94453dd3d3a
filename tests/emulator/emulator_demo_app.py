"""A tiny Twilio-style Flask app to test the caller emulator against.

It builds TwiML only with twilio's ``VoiceResponse`` and rejects any request whose
``X-Twilio-Signature`` does not validate with ``RequestValidator`` against the *public*
URL, so a bug in the emulator's signing or URL following makes a test fail.
Every request is logged in ``app.config["SEEN"]``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Flask, Response, abort, redirect, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, Dial, Gather, Start, VoiceResponse
from werkzeug.serving import make_server


PUBLIC_URL = "https://ivr.example.com"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


@dataclass(frozen=True)
class Seen:
    """One request as the demo app saw it."""

    method: str
    path: str
    params: dict
    valid: bool


def create_demo_app() -> Flask:
    app = Flask(__name__)
    app.config["SEEN"] = []
    validator = RequestValidator(AUTH_TOKEN)

    def xml(response: VoiceResponse) -> Response:
        return Response(str(response), mimetype="text/xml")

    def form(name: str, default: str = "") -> str:
        return request.values.get(name, default)

    @app.before_request
    def check_signature():
        query = request.query_string.decode()
        url = PUBLIC_URL + request.path + (f"?{query}" if query else "")
        params = request.form if request.method == "POST" else {}
        valid = validator.validate(url, params, request.headers.get("X-Twilio-Signature", ""))
        app.config["SEEN"].append(Seen(request.method, request.path, request.values.to_dict(), valid))
        if not valid:
            abort(403)

    @app.post("/twilio/voice")
    def voice():
        r = VoiceResponse()
        start = Start()
        start.stream(url="wss://ivr.example.com/media", name="vosk").parameter(
            name="call_secret", value="s3cret")
        r.append(start)
        gather = Gather(input="dtmf speech", num_digits=1, action="/menu", hints="orders, billing",
                        timeout=3, speech_timeout="auto")
        gather.say("Welcome to Acme support. Press 1 or say orders. Press 2 for billing. "
                   "Press 3 to leave a message. Press 4 to wait for an agent.")
        gather.play("/audio/chime.wav")
        r.append(gather)
        r.say("We did not get that.")
        r.redirect("/twilio/voice")
        return xml(r)

    @app.post("/menu")
    def menu():
        digits, speech = form("Digits"), form("SpeechResult").lower()
        r = VoiceResponse()
        if digits == "1" or "order" in speech:
            r.say("Connecting you to the orders team.")
            dial = Dial(action="/dial-done", timeout=20, caller_id="+15005550006")
            dial.number("+15550001111", url="/whisper")
            dial.client("alice")
            r.append(dial)
            r.say("This is never reached.")
        elif digits == "2":
            r.say("Billing is closed. Goodbye.")
            r.hangup()
            r.say("This is never reached.")
        elif digits == "3":
            r.say("Leave a message after the beep.")
            r.record(action="/recorded", max_length=30, recording_status_callback="/recording-status")
            r.say("We got no recording. Goodbye.")
        elif digits == "4":
            r.enqueue("support", wait_url="/hold", action="/queue-done")
            r.say("Queue over, thanks for waiting.")
        elif digits == "5":
            r.redirect("/survey", method="GET")
        elif digits == "6":
            r.dial("+15550002222")
            r.say("The call has ended, thanks.")
        elif digits == "7":
            r.say("Goodbye.")
        elif digits == "8":
            return Response("<Response/>", mimetype="text/plain")
        elif digits == "9":
            abort(500)
        elif digits == "0":
            return Response("<Response><Say>broken", mimetype="text/xml")
        return xml(r)

    @app.get("/survey")
    def survey():
        r = VoiceResponse()
        gather = Gather(input="speech", action="/survey-answer", method="GET",
                        action_on_empty_result=True, timeout=2)
        gather.say("How did we do?")
        r.append(gather)
        r.say("This is never reached.")
        return xml(r)

    @app.get("/survey-answer")
    def survey_answer():
        r = VoiceResponse()
        if form("SpeechResult"):
            r.say(f"You said {form('SpeechResult')}, confidence {form('Confidence', 'none')}.")
        else:
            r.say("No answer, goodbye.")
        r.hangup()
        return xml(r)

    @app.post("/whisper")
    def whisper():
        """Gather without action: the agent's keys come back to this same URL."""
        r = VoiceResponse()
        if form("Digits") == "1":
            r.say("Connecting.")
        elif form("Digits"):
            r.hangup()
        else:
            gather = Gather(num_digits=1)
            gather.say("Customer calling about orders. Press 1 to accept.")
            r.append(gather)
            r.hangup()
        return xml(r)

    @app.post("/dial-done")
    def dial_done():
        r = VoiceResponse()
        r.say(f"Dial status {form('DialCallStatus')}.")
        if form("DialCallStatus") != "completed":
            r.say("All agents are busy.")
        r.hangup()
        return xml(r)

    @app.post("/recorded")
    def recorded():
        r = VoiceResponse()
        r.say(f"Thanks, we got {form('RecordingDuration')} seconds.")
        r.hangup()
        return xml(r)

    @app.post("/hold")
    def hold():
        r = VoiceResponse()
        r.say(f"You are number {form('QueuePosition')} in line.")
        r.play("/audio/hold.wav")
        r.redirect("/hold")
        return xml(r)

    @app.post("/queue-done")
    def queue_done():
        r = VoiceResponse()
        r.say(f"Queue result {form('QueueResult')}.")
        return xml(r)

    @app.post("/stream-entry")
    def stream_entry():
        r = VoiceResponse()
        connect = Connect(action="/after-stream")
        connect.stream(url="wss://ivr.example.com/media")
        r.append(connect)
        return xml(r)

    @app.route("/after-stream", methods=["GET", "POST"])
    def after_stream():
        r = VoiceResponse()
        r.say("Stream closed.")
        return xml(r)

    @app.post("/moved")
    def moved():
        return redirect("/after-stream", 302)

    @app.post("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.post("/conference-entry")
    def conference_entry():
        r = VoiceResponse()
        dial = Dial(action="/dial-done")
        dial.conference("room-42", start_conference_on_enter=False, wait_url="/conf-wait",
                        end_conference_on_exit=True)
        r.append(dial)
        return xml(r)

    @app.post("/conf-wait")
    def conf_wait():
        r = VoiceResponse()
        r.say("Please hold while we find an agent.")
        return xml(r)

    @app.post("/twilio/status")
    @app.post("/recording-status")
    def callbacks():
        return "", 204

    @app.get("/audio/<name>")
    def audio(name):
        if name not in ("chime.wav", "hold.wav"):
            abort(404)
        return Response(WAV, mimetype="audio/wav")

    return app


def create_proxied_app():
    """An app that validates against ``request.url`` behind werkzeug's ProxyFix."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = Flask(__name__)
    validator = RequestValidator(AUTH_TOKEN)

    @app.post("/twilio/voice")
    def voice():
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form, signature):
            abort(403)
        r = VoiceResponse()
        r.say(f"Validated {request.url}")
        return Response(str(r), mimetype="application/xml; charset=utf-8")

    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)
    return app


def seen(app, path: str) -> list[Seen]:
    """The requests the demo app got for ``path``."""
    return [s for s in app.config["SEEN"] if s.path == path]


class LiveServer:
    """The demo app on 127.0.0.1 with an OS-chosen port, served from a thread."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
