"""Sans-IO decoder of Twilio Media Streams messages: JSON text in, typed events out.

The websocket shell is a short loop: receive a text frame, ``decoder.feed(text)``, act on
the events. No sockets, no clocks, no threads here, so every rule below is tested with
plain strings.

Rules of this file:

* ``feed`` never raises on bad input. Malformed JSON, a missing field, bad base64, an
  unknown event or an impossible order (media before start, anything after stop) each
  become a ``ProtocolError`` event that says what was wrong; the stream goes on.
* Twilio sends numbers as strings ("chunk": "2"); we accept strings and ints.
* Frames of any length are accepted (20 ms / 160 bytes is usual, not promised).
* Chunk order, per track. Twilio numbers media chunks 1, 2, 3, ... Over a websocket they
  normally arrive in order, but a reconnecting proxy can repeat or reorder a few. We
  keep ``next_chunk``, the number we deliver next:
    - chunk == next_chunk: deliver it, then any buffered chunks that now follow on;
    - chunk <  next_chunk: a duplicate or too late (its place was already given up):
      dropped silently;
    - chunk >  next_chunk: held back, waiting for the gap to fill (a repeat of a chunk
      already held is dropped);
    - more than ``REORDER_WINDOW`` chunks held: the missing chunk is declared lost and
      delivery resumes at the lowest held chunk. The window bounds the added latency
      (5 chunks = 100 ms at 20 ms frames);
    - on ``stop`` everything held is delivered in order before ``Stopped``.
  The first chunk seen on a track sets ``next_chunk``, so a stream joined late works.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Connected",
    "Started",
    "MediaFormat",
    "Media",
    "Dtmf",
    "Mark",
    "Stopped",
    "ProtocolError",
    "StreamEvent",
    "StreamDecoder",
    "REORDER_WINDOW",
    "media_message",
]

REORDER_WINDOW = 5


@dataclass(frozen=True)
class Connected:
    """The websocket is open (Twilio's first message)."""

    protocol: str = "Call"
    version: str = ""


@dataclass(frozen=True)
class MediaFormat:
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000
    channels: int = 1


@dataclass(frozen=True)
class Started:
    """The stream of one call started. ``custom_parameters`` come from ``<Parameter>``."""

    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...] = ("inbound",)
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    media_format: MediaFormat = MediaFormat()


@dataclass(frozen=True)
class Media:
    """One chunk of audio: raw 8 kHz mu-law bytes (no header)."""

    chunk: int
    timestamp_ms: int
    track: str
    payload: bytes


@dataclass(frozen=True)
class Dtmf:
    """A key pressed (bidirectional streams only)."""

    digit: str
    track: str = "inbound_track"


@dataclass(frozen=True)
class Mark:
    """Playback reached a mark we sent (bidirectional streams only)."""

    name: str


@dataclass(frozen=True)
class Stopped:
    """The stream ended (call hung up, ``<Stop><Stream>``, or REST stop)."""

    account_sid: str = ""
    call_sid: str = ""


@dataclass(frozen=True)
class ProtocolError:
    """A message we could not use; ``reason`` says why. The stream continues."""

    reason: str


StreamEvent = Connected | Started | Media | Dtmf | Mark | Stopped | ProtocolError


class _Bad(Exception):
    """A field is missing or malformed (internal: becomes ProtocolError)."""


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise _Bad(f"missing field {where}.{key}")
    return obj[key]


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise _Bad(f"{where} is not a number: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's Infinity
        raise _Bad(f"{where} is not a number: {value!r}") from None


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{where} is not a string: {value!r}")
    return value


class _TrackOrder:
    """Reorders and de-duplicates the chunks of one track (see the module rules)."""

    def __init__(self) -> None:
        self.next_chunk: int | None = None
        self.held: dict[int, Media] = {}

    def push(self, media: Media) -> list[Media]:
        if self.next_chunk is None:
            self.next_chunk = media.chunk
        if media.chunk < self.next_chunk or media.chunk in self.held:
            return []
        self.held[media.chunk] = media
        if media.chunk > self.next_chunk and len(self.held) <= REORDER_WINDOW:
            return []
        if self.next_chunk not in self.held:  # window overflowed: the gap is lost
            self.next_chunk = min(self.held)
        return self._drain()

    def _drain(self) -> list[Media]:
        out = []
        while self.next_chunk in self.held:
            out.append(self.held.pop(self.next_chunk))
            self.next_chunk += 1
        return out

    def flush(self) -> list[Media]:
        out = []
        while self.held:
            self.next_chunk = min(self.held)
            out += self._drain()
        return out


class StreamDecoder:
    """Decodes the inbound messages of one Media Streams websocket.

    States: ``connecting`` (before start) -> ``streaming`` -> ``stopped``.
    """

    def __init__(self) -> None:
        self.state = "connecting"
        self.started: Started | None = None
        self._tracks: dict[str, _TrackOrder] = {}

    def feed(self, text: str | bytes) -> list[StreamEvent]:
        """Decode one websocket text frame into zero or more events."""
        try:
            message = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: deep nesting
            return [ProtocolError(f"not JSON: {exc}")]
        if not isinstance(message, dict):
            return [ProtocolError(f"not a JSON object: {type(message).__name__}")]
        kind = message.get("event")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return [ProtocolError(f"unknown event {kind!r}")]
        if self.state == "stopped":
            return [ProtocolError(f"{kind!r} message after stop")]
        try:
            return handler(self, message)
        except _Bad as exc:
            return [ProtocolError(f"{kind}: {exc}")]

    # -- one method per message kind ------------------------------------------

    def _connected(self, message: dict) -> list[StreamEvent]:
        return [Connected(str(message.get("protocol", "")), str(message.get("version", "")))]

    def _start(self, message: dict) -> list[StreamEvent]:
        if self.state != "connecting":
            raise _Bad(f"second start in state {self.state!r}")
        start = _get(message, "start", "message")
        if not isinstance(start, Mapping):
            raise _Bad("start is not an object")
        params = start.get("customParameters") or {}
        if not isinstance(params, Mapping):
            raise _Bad("start.customParameters is not an object")
        fmt = start.get("mediaFormat") or {}
        if not isinstance(fmt, Mapping):
            raise _Bad("start.mediaFormat is not an object")
        tracks = start.get("tracks") or ["inbound"]
        if not isinstance(tracks, list):
            raise _Bad("start.tracks is not a list")
        started = Started(
            stream_sid=_str(start.get("streamSid", message.get("streamSid")), "start.streamSid"),
            call_sid=_str(_get(start, "callSid", "start"), "start.callSid"),
            account_sid=_str(start.get("accountSid", ""), "start.accountSid"),
            tracks=tuple(str(t) for t in tracks),
            custom_parameters={str(k): str(v) for k, v in params.items()},
            media_format=MediaFormat(
                encoding=str(fmt.get("encoding", "audio/x-mulaw")),
                sample_rate=_int(fmt.get("sampleRate", 8000), "mediaFormat.sampleRate"),
                channels=_int(fmt.get("channels", 1), "mediaFormat.channels"),
            ),
        )
        self.state, self.started = "streaming", started
        return [started]

    def _media(self, message: dict) -> list[StreamEvent]:
        if self.state != "streaming":
            raise _Bad(f"media in state {self.state!r} (no start yet)")
        media = _get(message, "media", "message")
        payload = _str(_get(media, "payload", "media"), "media.payload")
        try:
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Bad(f"media.payload is not base64 ({exc})") from None
        chunk = _int(_get(media, "chunk", "media"), "media.chunk")
        if chunk < 1:
            raise _Bad(f"media.chunk must be >= 1, got {chunk}")
        event = Media(
            chunk=chunk,
            timestamp_ms=_int(media.get("timestamp", 0), "media.timestamp"),
            track=str(media.get("track", "inbound")),
            payload=audio,
        )
        return list(self._tracks.setdefault(event.track, _TrackOrder()).push(event))

    def _dtmf(self, message: dict) -> list[StreamEvent]:
        dtmf = _get(message, "dtmf", "message")
        digit = _str(_get(dtmf, "digit", "dtmf"), "dtmf.digit")
        return [Dtmf(digit, str(dtmf.get("track", "inbound_track")))]

    def _mark(self, message: dict) -> list[StreamEvent]:
        mark = _get(message, "mark", "message")
        return [Mark(_str(_get(mark, "name", "mark"), "mark.name"))]

    def _stop(self, message: dict) -> list[StreamEvent]:
        stop = message.get("stop") or {}
        if not isinstance(stop, Mapping):
            raise _Bad("stop is not an object")
        held: list[StreamEvent] = []
        for order in self._tracks.values():
            held += order.flush()
        self.state = "stopped"
        return held + [Stopped(str(stop.get("accountSid", "")), str(stop.get("callSid", "")))]


_HANDLERS = {
    "connected": StreamDecoder._connected,
    "start": StreamDecoder._start,
    "media": StreamDecoder._media,
    "dtmf": StreamDecoder._dtmf,
    "mark": StreamDecoder._mark,
    "stop": StreamDecoder._stop,
}


def media_message(
    stream_sid: str, chunk: int, timestamp_ms: int, payload: bytes, track: str = "inbound"
) -> str:
    """The JSON text of an inbound media message as Twilio sends it (tests, bench, sim)."""
    return json.dumps(
        {
            "event": "media",
            "sequenceNumber": str(chunk + 1),
            "media": {
                "track": track,
                "chunk": str(chunk),
                "timestamp": str(timestamp_ms),
                "payload": base64.b64encode(payload).decode("ascii"),
            },
            "streamSid": stream_sid,
        }
    )
