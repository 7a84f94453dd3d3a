"""TwiML documents as data: ``parse(xml, document_url)`` returns a tuple of verbs.

No I/O happens here. Every URL in the result is absolute, resolved against the URL of the
document it came from, as Twilio resolves relative URLs. Defaults are Twilio's (see
/work/shared/TWILIO.md), e.g. a ``<Gather>`` or ``<Record>`` without ``action`` posts
back to its own document. Each verb keeps its raw attributes in ``attrs``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin


class TwimlError(Exception):
    """The document is not TwiML Twilio would run; ``code`` is Twilio's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code


def _true(value: str | None, default: bool = False) -> bool:
    return default if value is None else value.strip().lower() == "true"


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


@dataclass(frozen=True)
class Say:
    """``<Say>``: text spoken to the caller."""

    text: str
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Play:
    """``<Play>``: an audio file (``url`` absolute, ``raw_url`` as written) or DTMF ``digits``."""

    url: str
    raw_url: str
    digits: str | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pause:
    """``<Pause length>`` (seconds, default 1)."""

    length: float = 1.0


Prompt = Say | Play | Pause


@dataclass(frozen=True)
class Gather:
    """``<Gather>`` with Twilio's defaults applied. ``gather["numDigits"]`` reads ``attrs``."""

    action: str
    method: str
    input: str
    timeout: str
    speech_timeout: str
    num_digits: int | None
    finish_on_key: str
    action_on_empty_result: bool
    hints: str | None
    language: str
    prompts: tuple[Prompt, ...]
    attrs: Mapping[str, str]

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def accepts(self, kind: str) -> bool:
        """Whether this Gather listens for ``"dtmf"`` or ``"speech"``."""
        return kind in self.input.lower().split()


@dataclass(frozen=True)
class Redirect:
    """``<Redirect method>url</Redirect>``."""

    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup:
    """``<Hangup/>``."""


@dataclass(frozen=True)
class Reject:
    """``<Reject reason>``: the call is refused (busy / rejected)."""

    reason: str = "rejected"


@dataclass(frozen=True)
class DialTarget:
    """A noun inside ``<Dial>``: ``kind`` is number, client, sip, conference or queue.

    ``url`` is the whisper URL (number/client/sip) or the queue's dequeue URL.
    """

    kind: str
    address: str
    url: str | None
    method: str
    attrs: Mapping[str, str]

    @property
    def type(self) -> str:
        """Alias of ``kind``."""
        return self.kind


@dataclass(frozen=True)
class Dial:
    """``<Dial>`` and its targets. Without ``action`` the next verb runs afterwards."""

    action: str | None
    method: str
    timeout: int
    caller_id: str | None
    targets: tuple[DialTarget, ...]
    attrs: Mapping[str, str]

    @property
    def legs(self) -> tuple[DialTarget, ...]:
        """The targets that become a call leg of their own: numbers, clients, SIP URIs."""
        return tuple(t for t in self.targets if t.kind in ("number", "client", "sip"))

    @property
    def conference(self) -> DialTarget | None:
        """The ``<Conference>`` target, if any."""
        return next((t for t in self.targets if t.kind == "conference"), None)

    @property
    def queue(self) -> DialTarget | None:
        """The ``<Queue>`` target, if any."""
        return next((t for t in self.targets if t.kind == "queue"), None)


@dataclass(frozen=True)
class Record:
    """``<Record>``; ``action`` defaults to the current document."""

    action: str
    method: str
    max_length: int
    finish_on_key: str
    status_callback: str | None
    status_callback_method: str
    attrs: Mapping[str, str]


@dataclass(frozen=True)
class Enqueue:
    """``<Enqueue>name</Enqueue>``; ``wait_url`` is fetched while the caller waits."""

    name: str
    action: str | None
    method: str
    wait_url: str | None
    wait_url_method: str
    attrs: Mapping[str, str]


@dataclass(frozen=True)
class Stream:
    """``<Start><Stream>`` (``bidirectional`` False) or ``<Connect><Stream>`` (True)."""

    url: str
    name: str | None
    track: str
    parameters: Mapping[str, str]
    bidirectional: bool
    attrs: Mapping[str, str]


@dataclass(frozen=True)
class StopStream:
    """``<Stop><Stream name>``."""

    name: str | None


@dataclass(frozen=True)
class Leave:
    """``<Leave/>`` (in a queue's waitUrl): the caller leaves the queue."""


@dataclass(frozen=True)
class Connect:
    """``<Connect action><Stream/></Connect>``: blocks until the socket closes."""

    stream: Stream | None
    action: str | None
    method: str


Verb = (Say | Play | Pause | Gather | Redirect | Hangup | Reject | Dial | Record | Enqueue
        | Stream | StopStream | Connect | Leave)


_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Dial",
                    "Record", "Enqueue", "Start", "Stop", "Connect", "Leave"})


class _Parser:
    """Turns elements into verbs; ``url()`` resolves against the document URL."""

    def __init__(self, document_url: str) -> None:
        self.document_url = document_url

    def url(self, value: str | None) -> str | None:
        return urljoin(self.document_url, value.strip()) if value and value.strip() else None

    def verbs(self, root: ET.Element) -> tuple[Verb, ...]:
        verbs: list[Verb] = []
        for element in root:
            if element.tag not in _VERBS:
                raise TwimlError(12200, f"<{element.tag}> is not a verb this emulator can run")
            verbs.extend(getattr(self, f"_{element.tag.lower()}")(element))
        return tuple(verbs)

    def _say(self, e):
        return [Say(_text(e), dict(e.attrib))]

    def _play(self, e):
        raw = (e.text or "").strip()
        return [Play(self.url(raw) or "", raw, e.get("digits"), dict(e.attrib))]

    def _pause(self, e):
        return [Pause(float(e.get("length", "1")))]

    def _gather(self, e):
        prompts = []
        for child in e:
            if child.tag not in ("Say", "Play", "Pause"):
                raise TwimlError(12200, f"<{child.tag}> cannot be nested in <Gather>")
            prompts.extend(getattr(self, f"_{child.tag.lower()}")(child))
        attrs = {"input": "dtmf", "method": "POST", "timeout": "5", "finishOnKey": "#",
                 "actionOnEmptyResult": "false", "language": "en-US", **e.attrib}
        attrs["action"] = self.url(e.get("action")) or self.document_url
        attrs.setdefault("speechTimeout", attrs["timeout"])
        return [Gather(
            action=attrs["action"], method=attrs["method"].upper(), input=attrs["input"],
            timeout=attrs["timeout"], speech_timeout=attrs["speechTimeout"],
            num_digits=int(attrs["numDigits"]) if "numDigits" in attrs else None,
            finish_on_key=attrs["finishOnKey"],
            action_on_empty_result=_true(attrs["actionOnEmptyResult"]),
            hints=attrs.get("hints"), language=attrs["language"],
            prompts=tuple(prompts), attrs=attrs,
        )]

    def _redirect(self, e):
        return [Redirect(self.url(e.text) or self.document_url, e.get("method", "POST").upper())]

    def _hangup(self, e):
        return [Hangup()]

    def _leave(self, e):
        return [Leave()]

    def _reject(self, e):
        return [Reject(e.get("reason", "rejected"))]

    def _dial(self, e):
        targets = []
        if (e.text or "").strip():
            targets.append(DialTarget("number", e.text.strip(), None, "POST", {}))
        for child in e:
            kind = child.tag.lower()
            if kind not in ("number", "client", "sip", "conference", "queue"):
                raise TwimlError(12200, f"<{child.tag}> cannot be nested in <Dial>")
            identity = child.find("Identity")
            address = _text(identity) if identity is not None else (child.text or "").strip()
            targets.append(DialTarget(kind, address, self.url(child.get("url")),
                                      child.get("method", "POST").upper(), dict(child.attrib)))
        return [Dial(
            action=self.url(e.get("action")), method=e.get("method", "POST").upper(),
            timeout=int(e.get("timeout", "30")), caller_id=e.get("callerId"),
            targets=tuple(targets), attrs=dict(e.attrib),
        )]

    def _record(self, e):
        return [Record(
            action=self.url(e.get("action")) or self.document_url,
            method=e.get("method", "POST").upper(),
            max_length=int(e.get("maxLength", "3600")),
            finish_on_key=e.get("finishOnKey", "1234567890*#"),
            status_callback=self.url(e.get("recordingStatusCallback")),
            status_callback_method=e.get("recordingStatusCallbackMethod", "POST").upper(),
            attrs=dict(e.attrib),
        )]

    def _enqueue(self, e):
        return [Enqueue(
            name=(e.text or "").strip(), action=self.url(e.get("action")),
            method=e.get("method", "POST").upper(), wait_url=self.url(e.get("waitUrl")),
            wait_url_method=e.get("waitUrlMethod", "POST").upper(), attrs=dict(e.attrib),
        )]

    def _stream(self, e, bidirectional):
        parameters = {p.get("name", ""): p.get("value", "") for p in e.findall("Parameter")}
        return Stream(e.get("url", ""), e.get("name"), e.get("track", "inbound_track"),
                      parameters, bidirectional, dict(e.attrib))

    def _start(self, e):
        return [self._stream(child, False) for child in e if child.tag == "Stream"]

    def _stop(self, e):
        return [StopStream(child.get("name")) for child in e if child.tag == "Stream"]

    def _connect(self, e):
        child = e.find("Stream")
        stream = self._stream(child, True) if child is not None else None
        return [Connect(stream, self.url(e.get("action")), e.get("method", "POST").upper())]


def parse(document: str, document_url: str) -> tuple[Verb, ...]:
    """Parse a TwiML document fetched from ``document_url`` into verbs.

    Raises :class:`TwimlError` with 12100 for malformed XML and 12200 for TwiML this
    emulator does not run (a root other than ``<Response>``, an unknown verb, bad nesting).
    """
    try:
        root = ET.fromstring(document.strip())
    except ET.ParseError as exc:
        raise TwimlError(12100, f"document parse failure: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(12200, f"root element is <{root.tag}>, expected <Response>")
    return _Parser(document_url).verbs(root)
