"""A call's media stream as the store keeps it: which stream is wanted, whether it is up.

Twilio starts a unidirectional stream with ``<Start><Stream>`` and we learn that it
works only when its socket's ``start`` message arrives. A socket can drop without a
``stop``, a stream can fail to connect at all, and a webhook that Twilio retries may or
may not have had its first answer (with the ``<Start>``) carried out. So:

* Every ``<Start><Stream>`` is a new stream of the call, numbered ``stream_gen`` (saved
  with the call when the prompt that starts it is decided) and named ``ivr-speech-<n>``
  (names are unique per call). The prompt of a call whose stream is not up starts the
  next one; a retried webhook does too. Its Gather also takes Twilio's own speech
  (``input="dtmf speech"``), so the caller is heard whichever recogniser is there.
* One socket feeds the call: a socket is admitted when a prompt of the call started its
  stream and no newer stream is up (an older stream whose socket comes late is stale:
  refused); the admitted socket is saved as ``stream_socket`` and the call as
  ``streaming`` (the stream is up). A socket admitted later (the newer stream, or a
  second socket of the same one) replaces the one before, which hears so on the call's
  channel and closes. Whether Twilio answers a ``<Start>`` of a name in use, or a ``<Stop>`` of a
  name it no longer knows, is not documented (TWILIO.md section 4), so neither is sent:
  the server alone decides which socket is heard, and closing the others ends them.
* A socket that closes is down only if it is still the call's socket (``went_down``).
* A call starts at most ``MAX_STREAMS`` streams; then Twilio's recogniser hears it.

The call's channel on the store's bus (``channel(call_sid)``; Redis pub/sub across
hosts, in-process queues on SQLite) carries two messages to the call's socket: the
prompt the call moved to (``prompt_message``: a grammar switch, pushed by the webhook
that decided it) and a newer socket taking over (``socket_message``).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Any

from ivr.store import SessionStore, Stored

from .live import LiveCall

__all__ = ["MAX_STREAMS", "STREAM_NAME", "Admission", "admit", "channel", "next_stream", "prompt_message", "socket_gen",
           "socket_id", "socket_message", "stream_name", "went_down"]

STREAM_NAME = "ivr-speech"
#: Streams a call may start. A line whose streams keep failing (a proxy that drops
#: websockets, a host that refuses them) stops trying: Twilio's recogniser hears the rest
#: of the call, and prompts are not repeated for every failed stream.
MAX_STREAMS = 5


def stream_name(gen: int) -> str:
    """The ``name`` of the call's stream number ``gen`` (unique per call, as Twilio wants)."""
    return f"{STREAM_NAME}-{gen}"


def channel(call_sid: str) -> str:
    """The bus channel of one call's media socket."""
    return f"ivr.media.{call_sid}"


def prompt_message(live: LiveCall) -> dict[str, Any]:
    """What the call's socket needs of the prompt the call waits at now (a grammar switch)."""
    return {"event": "prompt", "seq": live.seq, "phrases": list(live.listen_phrases), "at": time.time()}


def socket_message(socket: str) -> dict[str, Any]:
    """``socket`` is now the one that feeds the call."""
    return {"event": "socket", "socket": socket}


def next_stream(store: SessionStore, call_sid: str) -> LiveCall | None:
    """Number the next stream of a call whose stream is not up (for a prompt that is
    answered again: a retried webhook, a replay); None if the call is unknown. If the
    stream came up meanwhile, or the call started ``MAX_STREAMS`` already, the call is
    returned unchanged."""
    def change(current: Stored | None) -> dict[str, Any] | None:
        live = LiveCall.of(current)
        if live is None or live.streaming or live.stream_gen >= MAX_STREAMS:
            return None
        return replace(live, stream_gen=live.stream_gen + 1).to_stored()

    saved = LiveCall.of(store.update(call_sid, change))
    return saved if saved is not None else LiveCall.load(store, call_sid)


class Admission:
    """Why a socket was or was not let in: ``live`` is set when it was."""

    def __init__(self, live: LiveCall | None, refusal: str = "") -> None:
        self.live = live
        self.refusal = refusal


def socket_id(gen: int) -> str:
    """A fresh id for a socket of stream ``gen`` (the stream's number, then a random part)."""
    return f"{gen}/{secrets.token_hex(6)}"


def socket_gen(socket: str) -> int:
    """The stream number in a socket id (0 for none)."""
    head = socket.split("/", 1)[0]
    return int(head) if head.isdigit() else 0


def admit(store: SessionStore, call_sid: str, gen: int, socket: str) -> Admission:
    """Let ``socket`` (an id of stream ``gen``) feed the call, if a prompt of the call
    started that stream, no newer stream is up and the call goes on: the stream is up
    from now on, and the newest socket admitted is the one heard."""
    why: list[str] = []

    def change(current: Stored | None) -> dict[str, Any] | None:
        why.clear()
        live = LiveCall.of(current)
        if live is None:
            why.append("the line does not know the call")
        elif live.phase == "ended" or live.ended_status:
            why.append("the call has ended")
        elif not 1 <= gen <= live.stream_gen:
            why.append(f"no prompt of the call started a stream {gen}")
        elif live.streaming and socket_gen(live.stream_socket) > gen:
            why.append(f"stream {gen} was replaced by stream {socket_gen(live.stream_socket)}, which is up")
        if why or live is None:
            return None
        return replace(live, streaming=True, stream_socket=socket).to_stored()

    saved = LiveCall.of(store.update(call_sid, change))
    if why or saved is None:
        return Admission(None, why[0] if why else "the line does not know the call")
    return Admission(saved)


def went_down(store: SessionStore, call_sid: str, socket: str) -> LiveCall | None:
    """``socket`` closed: if it was the call's socket, the stream is down (the
    next prompt starts another). The call as saved then; None if it was not the call's
    socket (a newer one took over) or the call is gone."""
    down: list[bool] = []

    def change(current: Stored | None) -> dict[str, Any] | None:
        down.clear()
        live = LiveCall.of(current)
        if live is None or live.stream_socket != socket:
            return None
        down.append(True)
        return replace(live, streaming=False, stream_socket="").to_stored()

    saved = LiveCall.of(store.update(call_sid, change))
    return saved if down else None
