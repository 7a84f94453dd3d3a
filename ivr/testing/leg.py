"""One emulated call leg: fetches TwiML like Twilio, runs it, and waits for the test.

Rules of this file:

* ``_rest`` holds the verbs still to run in the current document; ``_pending`` is the verb
  the leg is waiting at (Gather, Record, Dial, Enqueue, Connect). ``_run()`` executes
  verbs until something is pending or the call has ended; a test action (press, say,
  silence, record, ...) clears ``_pending`` and either fetches a new document (``_goto``
  replaces ``_rest``) or falls through to the rest of the current one.
* A document that cannot be fetched or run (HTTP error, wrong content type, bad XML) is
  recorded in ``errors`` and ends the call with Twilio's "application error" message.
* Everything sent goes through ``_send``, which signs it (see ``signing.py``).
"""
from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urljoin, urlsplit

from . import twiml
from .signing import Forgery, sign_request
from .transport import Reply, Transport, TransportError

NO_FORGERY = Forgery()  # requests signed as Twilio signs them

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DOCUMENTS_PER_TURN = 50
TWIML_TYPES = ("text/xml", "application/xml")


def new_sid(prefix: str) -> str:
    """A random Twilio-style SID: ``CA`` + 32 hex digits."""
    return prefix + uuid.uuid4().hex


@dataclass(frozen=True)
class CallError:
    """Something Twilio would report in its debugger; ``code`` is Twilio's error code
    (0 when only the emulator notices, e.g. a redirect loop)."""

    code: int
    message: str
    url: str

    def __str__(self) -> str:
        return f"{self.code} {self.message} ({self.url})"


@dataclass(frozen=True)
class Played:
    """A ``<Play>`` file as fetched: ``status`` is None when the URL is on another host."""

    url: str
    status: int | None
    content_type: str | None
    size: int


class CallStateError(Exception):
    """The test asked for something the call cannot do in its current state."""


class Leg:
    """Behaviour shared by the caller's leg and an agent's leg: see :class:`Caller`."""

    def __init__(self, transport: Transport, *, auth_token: str, public_url: str,
                 params: Mapping[str, str], forgery: Forgery = NO_FORGERY,
                 status_path: str | None = None) -> None:
        self.transport = transport
        self.auth_token = auth_token
        self.public_url = public_url.rstrip("/")
        #: Parameters sent with every request of this leg (CallSid, From, To, ...).
        self.params: dict[str, str] = dict(params)
        #: Applied to every request of this leg; ``Forgery()`` signs correctly.
        self.forgery = forgery
        self.status_url = self.url_for(status_path) if status_path else None
        #: new, ringing, listening, recording, dialing, queued, streaming, bridged (agent
        #: leg only), ended.
        self.state = "new"
        self.ended_by: str | None = None
        self.errors: list[CallError] = []
        self.responses: list[Reply] = []
        self.transcript: list[tuple[str, str]] = []
        self.played: list[Played] = []
        self.streams: list[twiml.Stream] = []
        self.stopped_streams: list[str | None] = []
        self.last_dial: twiml.Dial | None = None
        self.queue: twiml.Enqueue | None = None
        self.elapsed = 0.0
        self._since_action: list[str] = []
        self._rest: deque = deque()
        self._pending = None
        self._document_url: str | None = None
        self._documents_this_turn = 0
        self._status_posted = False

    # ----------------------------------------------------------------- reading
    @property
    def call_sid(self) -> str:
        """This leg's CallSid."""
        return self.params["CallSid"]

    @property
    def gather(self) -> twiml.Gather | None:
        """The ``<Gather>`` the call is waiting at (attributes with defaults), or None."""
        return self._pending if isinstance(self._pending, twiml.Gather) else None

    @property
    def recording(self) -> twiml.Record | None:
        """The ``<Record>`` the call is waiting at, or None."""
        return self._pending if isinstance(self._pending, twiml.Record) else None

    @property
    def document_url(self) -> str | None:
        """The URL of the TwiML document being run."""
        return self._document_url

    @property
    def last_heard(self) -> str:
        """Everything heard since the last caller action, joined by spaces."""
        return " ".join(self._since_action)

    def heard(self, substring: str) -> bool:
        """Whether a prompt since the last caller action contains ``substring`` (any case).

        A turn starts at each press/say/silence/record and at each dial_result, dequeue,
        close_stream and update."""
        return _contains(self._since_action, substring)

    def heard_ever(self, substring: str) -> bool:
        """Whether any prompt of the whole call contains ``substring`` (any case)."""
        return _contains([text for who, text in self.transcript if who == "ivr"], substring)

    def url_for(self, path_or_url: str) -> str:
        """The public URL for a path (``/twilio/voice``); absolute URLs pass unchanged."""
        if urlsplit(path_or_url).scheme:
            return path_or_url
        return self.public_url + "/" + path_or_url.lstrip("/")

    # ----------------------------------------------------------------- requests
    def post(self, path: str, method: str = "POST", *, signature: str | None = None,
             sign_token: str | None = None, sign_url: str | None = None,
             **params: str) -> Reply:
        """Send any request on this call (its parameters plus ``params``), signed like
        Twilio unless forged, and return the reply without running it."""
        forgery = Forgery(signature, sign_token, sign_url) or self.forgery
        signed = sign_request(method, self.url_for(path), {**self.params, **params},
                              self.auth_token, forgery)
        reply = self.transport.request(signed.method, signed.url, signed.form,
                                       {"User-Agent": "TwilioProxy/1.1", **signed.headers})
        self.responses.append(reply)
        return reply

    def _send(self, method: str, url: str, extra: Mapping[str, str],
              forgery: Forgery | None = None, with_call: bool = True) -> Reply | None:
        params = {**self.params, **extra} if with_call else dict(extra)
        signed = sign_request(method, url, params, self.auth_token, forgery or self.forgery)
        try:
            reply = self.transport.request(signed.method, signed.url, signed.form,
                                           {"User-Agent": "TwilioProxy/1.1", **signed.headers})
        except TransportError as exc:
            self.errors.append(CallError(11200, str(exc), url))
            return None
        self.responses.append(reply)
        return reply

    def _is_ours(self, url: str) -> bool:
        ours, theirs = urlsplit(self.public_url), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _fetch(self, url: str, method: str, extra: Mapping[str, str],
               forgery: Forgery | None = None) -> tuple | None:
        """Fetch and parse a TwiML document; on failure, fail the call and return None."""
        reply: Reply | None = None
        for _hop in range(6):
            if not self._is_ours(url):
                self._fail(11200, f"{url} is not on {self.public_url}; the emulator "
                                  "only reaches the app under test", url)
                return None
            reply = self._send(method, url, extra, forgery)
            if reply is None:
                self._fail(11200, "no HTTP response", url)
                return None
            if 300 <= reply.status < 400 and reply.location:
                # Twilio follows redirects but drops the input (Digits, ...).
                method = method if reply.status in (307, 308) else "GET"
                url, extra = urljoin(url, reply.location), {}
                continue
            break
        assert reply is not None  # the loop ran at least once and returned on no reply
        if reply.status >= 300:
            raised = f": {reply.exception}" if reply.exception else ""
            self._fail(11200, f"HTTP {reply.status} from {method}{raised}", url)
            return None
        if reply.mimetype not in TWIML_TYPES:
            self._fail(12300, f"Content-Type {reply.content_type!r} is not TwiML", url)
            return None
        body = reply.body if isinstance(reply.body, str) else reply.body.decode("utf-8", "replace")
        if len(body.encode("utf-8")) > MAX_DOCUMENT_BYTES:
            self._fail(11750, "TwiML response body too large", url)
            return None
        try:
            return twiml.parse(body, url)
        except twiml.TwimlError as exc:
            self._fail(exc.code, str(exc).split(" ", 1)[1], url)
            return None

    def _goto(self, url: str, method: str, extra: Mapping[str, str],
              forgery: Forgery | None = None) -> None:
        """Replace the rest of the current document with the document at ``url``."""
        self._pending = None
        self._documents_this_turn += 1
        if self._documents_this_turn > MAX_DOCUMENTS_PER_TURN:
            self._fail(0, f"{MAX_DOCUMENTS_PER_TURN} documents without waiting for the caller "
                          "(redirect loop?)", url)
            return
        verbs = self._fetch(url, method, extra, forgery)
        if verbs is not None:
            self._document_url = url
            self._rest = deque(verbs)

    # ----------------------------------------------------------------- running
    def _run(self) -> None:
        while self.state != "ended" and self._pending is None:
            if not self._rest:
                self._document_ended()
                return
            self._step(self._rest.popleft())

    def _step(self, verb) -> None:
        getattr(self, f"_on_{type(verb).__name__.lower()}")(verb)

    def _wait_at(self, verb, state: str) -> None:
        self._pending, self.state = verb, state

    def _hear(self, text: str) -> None:
        self.transcript.append(("ivr", text))
        self._since_action.append(text)

    def _on_say(self, verb: twiml.Say) -> None:
        self._hear(verb.text)
        self.elapsed += max(1.0, len(verb.text.split()) / 2.5)

    def _on_play(self, verb: twiml.Play) -> None:
        self._hear(f"[play digits {verb.digits}]" if verb.digits else f"[play {verb.raw_url}]")
        self.elapsed += 1
        if verb.digits or not verb.url:
            return
        if not self._is_ours(verb.url):
            self.played.append(Played(verb.url, None, None, 0))
            return
        reply = self._send("GET", verb.url, {}, with_call=False)
        if reply is None:
            return
        self.played.append(Played(verb.url, reply.status, reply.content_type, len(reply.body)))
        if reply.status >= 400:  # Twilio skips the file and goes on with the call
            self.errors.append(CallError(11200, f"HTTP {reply.status} for <Play>", verb.url))
        elif not reply.mimetype.startswith("audio/"):
            self.errors.append(CallError(12300, f"<Play> got {reply.content_type!r}", verb.url))

    def _on_pause(self, verb: twiml.Pause) -> None:
        self.elapsed += verb.length

    def _on_gather(self, verb: twiml.Gather) -> None:
        for prompt in verb.prompts:
            self._step(prompt)
        self._wait_at(verb, "listening")

    def _on_redirect(self, verb: twiml.Redirect) -> None:
        self._goto(verb.url, verb.method, {})

    def _on_hangup(self, verb: twiml.Hangup) -> None:
        self._end("hangup")

    def _on_reject(self, verb: twiml.Reject) -> None:
        self._end(f"reject:{verb.reason}")

    def _on_leave(self, verb: twiml.Leave) -> None:
        pass  # outside a queue's waitUrl <Leave> does nothing

    def _on_stream(self, verb: twiml.Stream) -> None:
        self.streams.append(verb)

    def _on_stopstream(self, verb: twiml.StopStream) -> None:
        self.stopped_streams.append(verb.name)

    def _on_connect(self, verb: twiml.Connect) -> None:
        if verb.stream is not None:
            self.streams.append(verb.stream)
        self._wait_at(verb, "streaming")

    def _on_record(self, verb: twiml.Record) -> None:
        self._wait_at(verb, "recording")

    def _on_dial(self, verb: twiml.Dial) -> None:
        self.last_dial = verb
        self._wait_at(verb, "dialing")
        conference = verb.conference
        wait_url = conference.attrs.get("waitUrl") if conference else None
        if conference is not None and wait_url:
            self._hold(urljoin(self._document_url or "", wait_url),
                       conference.attrs.get("waitMethod", "POST").upper(), {})

    def _on_enqueue(self, verb: twiml.Enqueue) -> None:
        self.queue = verb
        self.queue_sid = new_sid("QU")
        self._wait_at(verb, "queued")
        if verb.wait_url:
            self._hold(verb.wait_url, verb.wait_url_method, {
                "QueuePosition": "1", "QueueSid": self.queue_sid, "QueueTime": "0",
                "AvgQueueTime": "0", "CurrentQueueSize": "1"})

    def _hold(self, url: str, method: str, extra: Mapping[str, str]) -> None:
        """Fetch a wait URL once and play it; a <Redirect> in it is not followed."""
        if not self._is_ours(url):
            return
        verbs = self._fetch(url, method, extra)
        for verb in verbs or ():
            if isinstance(verb, twiml.Leave) and isinstance(self._pending, twiml.Enqueue):
                self._leave_queue("leave")
                return
            if isinstance(verb, (twiml.Say, twiml.Play, twiml.Pause)):
                self._step(verb)

    def _leave_queue(self, result: str) -> None:
        raise NotImplementedError("only the caller's leg can wait in a queue")

    def _document_ended(self) -> None:
        self._end("end-of-document")

    def _fail(self, code: int, message: str, url: str) -> None:
        self.errors.append(CallError(code, message, url))
        self._hear(APPLICATION_ERROR)
        self._end("application-error")
        return None

    def _end(self, reason: str, duration: float | None = None) -> None:
        self._pending, self._rest = None, deque()
        if self.state == "ended":
            return
        self.state, self.ended_by = "ended", reason
        self.params["CallStatus"] = "completed"
        self._post_status(duration)

    def _post_status(self, duration: float | None) -> Reply | None:
        if self._status_posted or not self.status_url:
            return None
        self._status_posted = True
        seconds = int(self.elapsed if duration is None else duration)
        reply = self._send("POST", self.status_url, {
            "CallStatus": "completed", "CallDuration": str(seconds),
            "Duration": str(max(1, math.ceil(seconds / 60))),
            "CallbackSource": "call-progress-events", "SequenceNumber": "0",
            "Timestamp": formatdate(usegmt=True)})
        if reply is not None and reply.status >= 400:
            self.errors.append(CallError(11200, f"HTTP {reply.status} from status callback",
                                         self.status_url))
        return reply

    # ----------------------------------------------------------------- acting
    def _expect(self, kind, action: str):
        """The pending verb if it is a ``kind``; else a CallStateError saying why not."""
        if not isinstance(self._pending, kind):
            names = "> or <".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise CallStateError(
                f"cannot {action}: the call is {self.state!r}, not waiting at "
                f"<{names}>. Last heard: {self.last_heard!r}. Errors: "
                f"{[str(e) for e in self.errors]}")
        return self._pending

    def _act(self, label: str | None, seconds: float = 1.0) -> None:
        """Start a new turn: log what the caller did, forget what was heard before."""
        if label:
            self.transcript.append(("caller", label))
        self._since_action = []
        self._documents_this_turn = 0
        self.elapsed += seconds


def _contains(lines: list[str], substring: str) -> bool:
    needle = " ".join(substring.split()).lower()
    return any(needle in line.lower() for line in lines)
