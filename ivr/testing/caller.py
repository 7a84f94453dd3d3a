"""A caller emulator that behaves like Twilio towards the app: the public test API.

Usage::

    call = Caller(FlaskTransport(app), auth_token="secret")
    call.dial()                          # POST /twilio/voice, run the TwiML
    assert call.heard("press 1 for orders") and call.state == "listening"
    call.press("1")                      # POST Digits=1 to the Gather action
    call.dial_result("busy")             # the <Dial> ends, its action runs
    call.hang_up()
    assert not call.all_errors

The caller knows only the entry URL; everything else comes from the TwiML the app returns.
What it sends is signed like Twilio's requests (``signature=``, ``sign_token=`` and
``sign_url=`` forge it). See ``leg.py`` for how TwiML runs.
"""
from __future__ import annotations

from collections.abc import Mapping

from . import twiml
from .leg import CallStateError, Leg, new_sid
from .signing import Forgery
from .transport import Reply, Transport

DIAL_STATUSES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
QUEUE_RESULTS = ("bridged", "queue-full", "redirected", "hangup", "error", "system-error",
                 "leave")


class CallLeg(Leg):
    """What a person on a leg can do: press keys, speak, stay silent, record, hang up."""

    def press(self, digits: str) -> None:
        """Press keys at the current ``<Gather>`` and post ``Digits`` to its action.

        Keys after the Gather's ``finishOnKey`` and beyond ``numDigits`` are dropped, as
        Twilio does. Raises CallStateError if no Gather listening for DTMF is waiting.
        """
        gather = self._expect(twiml.Gather, f"press({digits!r})")
        if not gather.accepts("dtmf"):
            raise CallStateError(f"press({digits!r}): the Gather has input={gather.input!r}, "
                                 "so Twilio would ignore the keys")
        if not digits:
            raise ValueError("press() needs at least one key; use silence() for no input")
        typed, finished = digits, ""
        key = gather.finish_on_key
        if key and key in digits and digits.index(key) > 0:
            digits, finished = digits[:digits.index(key)], key
        if gather.num_digits:
            digits = digits[:gather.num_digits]
        self._act(f"pressed {typed}", seconds=1 + 0.3 * len(typed))
        self._goto(gather.action, gather.method, {"Digits": digits, "FinishedOnKey": finished})
        self._run()

    def say(self, text: str, confidence: float | None = 0.9) -> None:
        """Speak at the current ``<Gather>``: posts ``SpeechResult`` and ``Confidence``
        (omitted when ``confidence`` is None) to its action."""
        gather = self._expect(twiml.Gather, f"say({text!r})")
        if not gather.accepts("speech"):
            raise CallStateError(f"say({text!r}): the Gather has input={gather.input!r}, "
                                 "so Twilio would not listen for speech")
        params = {"SpeechResult": text}
        if confidence is not None:
            params["Confidence"] = str(confidence)
        self._act(f"said {text}", seconds=1 + len(text.split()) / 2.5)
        self._goto(gather.action, gather.method, params)
        self._run()

    def silence(self) -> None:
        """Say nothing at a ``<Gather>`` or ``<Record>`` until it times out.

        Gather: posts to its action without input if ``actionOnEmptyResult="true"``,
        otherwise the next verb runs (or the call ends). Record: an empty recording, so
        Twilio skips the action and the next verb runs.
        """
        pending = self._expect((twiml.Gather, twiml.Record), "silence()")
        timeout = (pending.timeout if isinstance(pending, twiml.Gather)
                   else pending.attrs.get("timeout", "5"))
        self._act("(silence)", seconds=float(timeout) if timeout.isdigit() else 5.0)
        self._pending = None
        if isinstance(pending, twiml.Gather) and pending.action_on_empty_result:
            self._goto(pending.action, pending.method, {})
        self._run()

    def record(self, url: str | None = None, duration: int = 5, digits: str | None = "#") -> None:
        """Leave a recording at the current ``<Record>``: posts RecordingUrl,
        RecordingDuration and Digits (the key that ended it; None omits it) to its
        action, then the ``recordingStatusCallback`` if the Record has one."""
        rec = self._expect(twiml.Record, "record()")
        recording_sid = new_sid("RE")
        url = url or (f"https://api.twilio.com/2010-04-01/Accounts/{self.params['AccountSid']}"
                      f"/Recordings/{recording_sid}")
        duration = min(int(duration), rec.max_length)
        params = {"RecordingUrl": url, "RecordingDuration": str(duration)}
        if digits is not None:
            params["Digits"] = digits
        self._act(f"recorded {duration}s", seconds=duration)
        self._goto(rec.action, rec.method, params)
        self._recording_status(rec, recording_sid, params)
        self._run()

    def _recording_status(self, rec: twiml.Record, recording_sid: str,
                          params: Mapping[str, str]) -> Reply | None:
        if not rec.status_callback:
            return None
        return self._send(rec.status_callback_method, rec.status_callback, {
            "RecordingSid": recording_sid, "RecordingUrl": params["RecordingUrl"],
            "RecordingStatus": "completed", "RecordingDuration": params["RecordingDuration"],
            "RecordingChannels": "1", "RecordingSource": "RecordVerb"})

    def close_stream(self) -> None:
        """The app closed the ``<Connect><Stream>`` socket: the Connect action (if any)
        is requested, otherwise the next verb runs."""
        connect = self._expect(twiml.Connect, "close_stream()")
        self._act(None)
        self._pending = None
        if connect.action:
            self._goto(connect.action, connect.method, {})
        self._run()

    def update(self, url: str, method: str = "POST", dial_action_first: bool = False) -> None:
        """Emulate ``client.calls(sid).update(url=...)``: the TwiML at ``url`` replaces
        whatever the call is doing. Raises CallStateError (Twilio's 21220) if it ended.
        ``dial_action_first``: as once observed on Twilio (TWILIO.md section 5), a pending
        ``<Dial>``'s action is requested first (DialCallStatus=completed) and its TwiML
        ignored."""
        if self.state in ("ended", "new"):
            raise CallStateError(f"21220 Call is not in-progress (state {self.state!r}). "
                                 "Cannot redirect.")
        pending = self._pending
        if dial_action_first and isinstance(pending, twiml.Dial) and pending.action:
            self._send(pending.method, pending.action, {"DialCallStatus": "completed"})
        self._act(None, seconds=0)
        self._goto(self.url_for(url), method.upper(), {})
        self._run()

    def hang_up(self, duration: float | None = None) -> Reply | None:
        """The caller hangs up: posts the status callback (CallStatus=completed,
        CallDuration) and ends the call. A pending Record still gets its action with
        Digits=hangup, as on Twilio. Returns the status reply (None if already ended)."""
        if self.state == "ended":
            return None
        self.transcript.append(("caller", "hung up"))
        if isinstance(self._pending, twiml.Record):  # Twilio keeps what was recorded
            rec = self._pending
            self._send(rec.method, rec.action, {
                "Digits": "hangup", "RecordingDuration": "1",
                "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/"
                                f"{self.params['AccountSid']}/Recordings/{new_sid('RE')}"})
        if isinstance(self._pending, twiml.Enqueue) and self._pending.action:
            self._send(self._pending.method, self._pending.action, {
                "QueueResult": "hangup", "QueueSid": self.queue_sid, "QueueTime": "0"})
        before = len(self.responses)
        self._end("caller", duration)
        return self.responses[-1] if len(self.responses) > before else None


class _DialHandle:
    """``call.dial``: call it to place the call; read it for the last ``<Dial>``."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def __call__(self, path: str = "/twilio/voice", method: str = "POST", *,
                 signature: str | None = None, sign_token: str | None = None,
                 sign_url: str | None = None, **params: str) -> Caller:
        """Place the call: request ``path`` like Twilio's incoming-call webhook (extra
        ``params`` such as FromCity are added) and run the TwiML. Returns the caller."""
        return self._caller._place(path, method, Forgery(signature, sign_token, sign_url),
                                   params)

    @property
    def current(self) -> twiml.Dial | None:
        """The last ``<Dial>`` the call ran, or None."""
        return self._caller.last_dial

    @property
    def targets(self) -> tuple[twiml.DialTarget, ...]:
        """Its targets (``kind``, ``address``, whisper ``url``, ``attrs``)."""
        return self.current.targets if self.current else ()

    @property
    def action(self) -> str | None:
        """Its action URL (absolute), or None."""
        return self.current.action if self.current else None

    @property
    def conference(self) -> str | None:
        """The conference room name, or None."""
        target = self.current.conference if self.current else None
        return target.address if target else None

    @property
    def attrs(self) -> Mapping[str, str]:
        """Its raw attributes."""
        return self.current.attrs if self.current else {}

    def __bool__(self) -> bool:
        return self.current is not None

    def __repr__(self) -> str:
        return f"<dial {self.current!r}>"


class Caller(CallLeg):
    """A person calling the line, as Twilio presents them to the app.

    ``transport`` reaches the app (``FlaskTransport`` or ``HttpTransport``);
    ``public_url`` is the origin Twilio calls and signs; ``status_path`` receives the
    call-completed status callback (None: no status callback). ``signature``,
    ``sign_token`` and ``sign_url`` forge every request of the call (see ``Forgery``).
    """

    def __init__(self, transport: Transport, *, auth_token: str,
                 public_url: str = "https://ivr.example.com", caller: str = "+15551230000",
                 to: str = "+15005550006", status_path: str | None = "/twilio/status",
                 call_sid: str | None = None, account_sid: str | None = None,
                 signature: str | None = None, sign_token: str | None = None,
                 sign_url: str | None = None, extra_params: Mapping[str, str] | None = None):
        params = {"CallSid": call_sid or new_sid("CA"),
                  "AccountSid": account_sid or new_sid("AC"),
                  "From": caller, "To": to, "Caller": caller, "Called": to,
                  "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01",
                  "CallToken": new_sid(""),
                  **(extra_params or {})}
        super().__init__(transport, auth_token=auth_token, public_url=public_url,
                         params=params, forgery=Forgery(signature, sign_token, sign_url),
                         status_path=status_path)
        self.agents: list[AgentLeg] = []
        self._leg_sids: list[str] = []

    @property
    def all_errors(self) -> list:
        """Errors of this call and of every agent leg opened from it."""
        return self.errors + [error for agent in self.agents for error in agent.errors]

    @property
    def dial(self) -> _DialHandle:
        """``call.dial(path="/twilio/voice")`` places the call; ``call.dial.targets``,
        ``.action``, ``.conference``, ``.current`` describe the last ``<Dial>``."""
        return _DialHandle(self)

    def _place(self, path, method, forgery, params) -> Caller:
        if self.state != "new":
            raise CallStateError(f"cannot dial(): the call was already placed ({self.state!r})")
        self.state = "ringing"
        self._goto(self.url_for(path), method.upper(), params, forgery or None)
        self.params["CallStatus"] = "in-progress"
        self._run()
        return self

    def _on_dial(self, verb: twiml.Dial) -> None:
        self._leg_sids = [new_sid("CA") for _ in verb.legs]
        super()._on_dial(verb)

    def dial_result(self, status: str, duration: int = 0, leg: int = 0) -> None:
        """End the pending ``<Dial>`` with ``status`` (completed, busy, no-answer, failed,
        canceled; answered for a conference): posts DialCallStatus, DialCallSid (the
        ``leg``-th dialled party) and DialCallDuration to its action; without an action
        the next verb runs or the call ends."""
        dial = self._expect(twiml.Dial, f"dial_result({status!r})")
        if status not in DIAL_STATUSES:
            raise ValueError(f"DialCallStatus {status!r} is not one of {DIAL_STATUSES}")
        self._act(None, seconds=duration)
        params = {"DialCallStatus": status}
        if dial.conference is None and self._leg_sids:
            agent = next((a for a in self.agents if a.call_sid == self._leg_sids[leg]), None)
            bridged = status == "completed" and (agent.state == "bridged" if agent is not None
                                                 else dial.legs[leg].url is None)
            params.update(DialCallSid=self._leg_sids[leg], DialCallDuration=str(int(duration)),
                          DialBridged="true" if bridged else "false")
        self._pending = None
        if dial.action:
            self._goto(dial.action, dial.method, params)
        self._run()

    def agent_leg(self, index: int = 0) -> AgentLeg:
        """Answer the ``index``-th Number/Client/Sip of the last ``<Dial>`` as a separate
        emulated call and run its whisper ``url`` (if any). The agent's leg has its own
        CallSid, ParentCallSid = this call's, Direction outbound-dial."""
        dial = self.last_dial
        if dial is None or not dial.legs:
            raise CallStateError("agent_leg(): the call has not dialled a Number/Client/Sip")
        if not 0 <= index < len(dial.legs):
            raise CallStateError(f"agent_leg({index}): the Dial has {len(dial.legs)} "
                                 f"parties: {[t.address for t in dial.legs]}")
        target = dial.legs[index]
        agent = AgentLeg(self, target, self._leg_sids[index])
        self.agents.append(agent)
        agent._answer()
        return agent

    def dequeue(self, result: str = "bridged", queue_time: int = 0) -> None:
        """The caller leaves the ``<Enqueue>`` queue with ``result``: posts QueueResult,
        QueueSid and QueueTime to its action; without one the next verb runs."""
        self._expect(twiml.Enqueue, f"dequeue({result!r})")
        if result not in QUEUE_RESULTS:
            raise ValueError(f"QueueResult {result!r} is not one of {QUEUE_RESULTS}")
        self._act(None, seconds=queue_time)
        self._leave_queue(result, queue_time)

    def _leave_queue(self, result: str, queue_time: int = 0) -> None:
        enqueue = self._pending
        self._pending = None
        if isinstance(enqueue, twiml.Enqueue) and enqueue.action:
            self._goto(enqueue.action, enqueue.method, {
                "QueueResult": result, "QueueSid": self.queue_sid, "QueueTime": str(queue_time)})
        self._run()


class AgentLeg(CallLeg):
    """The dialled party's leg: runs the whisper URL before the bridge.

    ``state`` becomes ``"bridged"`` when the whisper document ends (Twilio connects the
    two legs), ``"ended"`` if it hangs up (the agent rejected the call).
    """

    def __init__(self, parent: Caller, target: twiml.DialTarget, call_sid: str) -> None:
        dial = parent.last_dial
        params = {"CallSid": call_sid, "AccountSid": parent.params["AccountSid"],
                  "ParentCallSid": parent.call_sid,
                  "From": (dial.caller_id if dial and dial.caller_id else parent.params["From"]),
                  "To": target.address, "CallStatus": "in-progress",
                  "Direction": "outbound-dial", "ApiVersion": "2010-04-01"}
        params.update(Caller=params["From"], Called=params["To"])
        super().__init__(parent.transport, auth_token=parent.auth_token,
                         public_url=parent.public_url, params=params, forgery=parent.forgery)
        self.parent = parent
        self.target = target

    def _answer(self) -> None:
        if self.target.url is None:
            self.state = "bridged"
            return
        self.state = "ringing"
        self._goto(self.target.url, self.target.method, {})
        self._run()

    def _on_dial(self, verb: twiml.Dial) -> None:
        self._fail(13201, "<Dial> is not allowed in a whisper (Number url) document",
                   self._document_url or "")

    def _document_ended(self) -> None:
        self._pending, self.state = None, "bridged"
