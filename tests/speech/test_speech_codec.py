"""The sans-IO Media Streams decoder, fed the JSON text frames Twilio actually sends.

Every message below is shaped like Twilio's documented examples (numbers as strings,
``streamSid`` both at the top and inside ``start``). Bad input never raises: it becomes
a ``ProtocolError`` event and the stream goes on.
"""
from __future__ import annotations

import base64
import json

import pytest

from ivr.speech.codec import (
    REORDER_WINDOW,
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    ProtocolError,
    Started,
    Stopped,
    StreamDecoder,
    media_message,
)

ACCOUNT = "AC" + "a" * 32
CALL = "CA" + "b" * 32
STREAM = "MZ" + "c" * 32
FRAME = bytes(range(96, 256)) # 160 bytes of mu-law
PAYLOAD = base64.b64encode(FRAME).decode()

CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": ACCOUNT,
        "streamSid": STREAM,
        "callSid": CALL,
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"flow": "acme-support-ko", "secret": "s3"},
    },
    "streamSid": STREAM,
}
MEDIA = {
    "event": "media",
    "sequenceNumber": "2",
    "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": PAYLOAD},
    "streamSid": STREAM,
}
MARK = {"event": "mark", "sequenceNumber": "4", "streamSid": STREAM, "mark": {"name": "prompt-end"}}
DTMF = {"event": "dtmf", "streamSid": STREAM, "sequenceNumber": "5",
        "dtmf": {"track": "inbound_track", "digit": "1"}}
STOP = {"event": "stop", "sequenceNumber": "6", "streamSid": STREAM,
        "stop": {"accountSid": ACCOUNT, "callSid": CALL}}


def text(message: dict, **changes) -> str:
    return json.dumps({**message, **changes})


def media(chunk: int, payload: bytes = FRAME, track: str = "inbound") -> str:
    return media_message(STREAM, chunk, (chunk - 1) * 20, payload, track)


def streaming() -> StreamDecoder:
    decoder = StreamDecoder()
    decoder.feed(text(CONNECTED))
    decoder.feed(text(START))
    return decoder


def chunks(events) -> list[int]:
    return [e.chunk for e in events if isinstance(e, Media)]


# -- every message type -------------------------------------------------------


def test_a_whole_stream_of_every_message_type_decodes_to_typed_events():
    decoder = StreamDecoder()
    got = [e for m in (CONNECTED, START, MEDIA, MARK, DTMF, STOP) for e in decoder.feed(text(m))]
    assert got == [
        Connected("Call", "1.0.0"),
        Started(
            stream_sid=STREAM,
            call_sid=CALL,
            account_sid=ACCOUNT,
            tracks=("inbound",),
            custom_parameters={"flow": "acme-support-ko", "secret": "s3"},
            media_format=MediaFormat("audio/x-mulaw", 8000, 1),
        ),
        Media(chunk=1, timestamp_ms=5, track="inbound", payload=FRAME),
        Mark("prompt-end"),
        Dtmf("1", "inbound_track"),
        Stopped(ACCOUNT, CALL),
    ]
    assert decoder.state == "stopped"
    assert decoder.started is not None and decoder.started.call_sid == CALL


def test_media_message_helper_round_trips_through_the_decoder():
    decoder = streaming()
    assert decoder.feed(media_message(STREAM, 1, 0, b"\x00\x7f\xff")) == [
        Media(1, 0, "inbound", b"\x00\x7f\xff")
    ]
    raw = json.loads(media_message(STREAM, 7, 120, b"\xff"))
    assert raw["media"]["chunk"] == "7" and raw["media"]["timestamp"] == "120"  # strings, as Twilio


@pytest.mark.parametrize("as_int", [True, False])
def test_numbers_are_accepted_as_strings_or_ints(as_int):
    decoder = streaming()
    chunk, timestamp = (1, 20) if as_int else ("1", "20")
    msg = text(MEDIA, media={**MEDIA["media"], "chunk": chunk, "timestamp": timestamp})
    assert decoder.feed(msg) == [Media(1, 20, "inbound", FRAME)]


def test_bytes_frames_are_accepted_like_text():
    decoder = StreamDecoder()
    assert decoder.feed(text(CONNECTED).encode()) == [Connected("Call", "1.0.0")]


def test_a_start_without_optional_fields_takes_twilio_defaults():
    decoder = StreamDecoder()
    [started] = decoder.feed(json.dumps({"event": "start", "streamSid": STREAM,
                                         "start": {"callSid": CALL}}))
    assert started == Started(STREAM, CALL, "", ("inbound",), {}, MediaFormat())


def test_dtmf_and_mark_may_come_before_start():
    decoder = StreamDecoder()
    assert decoder.feed(text(DTMF)) == [Dtmf("1", "inbound_track")]
    assert decoder.feed(text(MARK)) == [Mark("prompt-end")]


# -- bad input: a ProtocolError event, never an exception -------------------------

BAD = [
    ("not json", "{not json", "not JSON"),
    ("truncated", text(MEDIA)[:40], "not JSON"),
    ("invalid utf-8", b"\xff\xfe\x00", "not JSON"),
    ("deep nesting", "[" * 100_000, "not JSON"),
    ("json array", "[1, 2]", "not a JSON object"),
    ("json string", '"media"', "not a JSON object"),
    ("no event", json.dumps({"media": MEDIA["media"]}), "unknown event None"),
    ("unknown event", text(MEDIA, event="clear"), "unknown event 'clear'"),
    ("event not a string", text(MEDIA, event=3), "unknown event 3"),
    ("media without media", json.dumps({"event": "media", "streamSid": STREAM}), "missing field message.media"),
    ("media not an object", text(MEDIA, media="abc"), "missing field media.payload"),
    ("media without payload", text(MEDIA, media={"chunk": "1"}), "missing field media.payload"),
    ("media without chunk", text(MEDIA, media={"payload": PAYLOAD}), "missing field media.chunk"),
    ("payload not a string", text(MEDIA, media={**MEDIA["media"], "payload": 12}), "media.payload is not a string"),
    ("bad base64", text(MEDIA, media={**MEDIA["media"], "payload": "@@not base64@@"}), "not base64"),
    ("base64 bad padding", text(MEDIA, media={**MEDIA["media"], "payload": "AAA"}), "not base64"),
    ("non-ascii payload", text(MEDIA, media={**MEDIA["media"], "payload": "가나다라"}), "not base64"),
    ("chunk not a number", text(MEDIA, media={**MEDIA["media"], "chunk": "one"}), "media.chunk is not a number"),
    ("chunk a bool", text(MEDIA, media={**MEDIA["media"], "chunk": True}), "media.chunk is not a number"),
    ("chunk infinite", text(MEDIA, media={**MEDIA["media"], "chunk": float("inf")}), "media.chunk is not a number"),
    ("chunk zero", text(MEDIA, media={**MEDIA["media"], "chunk": "0"}), "media.chunk must be >= 1"),
    ("timestamp not a number", text(MEDIA, media={**MEDIA["media"], "timestamp": "soon"}), "media.timestamp is not a number"),
    ("dtmf without digit", text(DTMF, dtmf={"track": "inbound_track"}), "missing field dtmf.digit"),
    ("dtmf without dtmf", json.dumps({"event": "dtmf"}), "missing field message.dtmf"),
    ("mark without name", text(MARK, mark={}), "missing field mark.name"),
    ("stop not an object", text(STOP, stop=[1]), "stop is not an object"),
]


@pytest.mark.parametrize("frame, reason", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_frames_become_protocol_errors_and_the_stream_goes_on(frame, reason):
    decoder = streaming()
    [event] = decoder.feed(frame)
    assert isinstance(event, ProtocolError)
    assert reason in event.reason
    assert decoder.feed(media(1)) == [Media(1, 0, "inbound", FRAME)]  # still streaming


BAD_START = [
    ("start without start", json.dumps({"event": "start", "streamSid": STREAM}), "missing field message.start"),
    ("start not an object", text(START, start="x"), "start is not an object"),
    ("start without callSid", text(START, start={"streamSid": STREAM}), "missing field start.callSid"),
    ("start without any streamSid", json.dumps({"event": "start", "start": {"callSid": CALL}}), "start.streamSid is not a string"),
    ("tracks not a list", text(START, start={**START["start"], "tracks": "inbound"}), "start.tracks is not a list"),
    ("params not an object", text(START, start={**START["start"], "customParameters": [1]}), "customParameters is not an object"),
    ("mediaFormat not an object", text(START, start={**START["start"], "mediaFormat": "ulaw"}), "mediaFormat is not an object"),
    ("sample rate not a number", text(START, start={**START["start"], "mediaFormat": {"sampleRate": "8k"}}), "sampleRate is not a number"),
]


@pytest.mark.parametrize("frame, reason", [b[1:] for b in BAD_START], ids=[b[0] for b in BAD_START])
def test_a_bad_start_is_refused_and_a_good_one_may_follow(frame, reason):
    decoder = StreamDecoder()
    [event] = decoder.feed(frame)
    assert isinstance(event, ProtocolError) and reason in event.reason
    assert decoder.state == "connecting" and decoder.started is None
    assert isinstance(decoder.feed(text(START))[0], Started)


# -- impossible order ---------------------------------------------------------------


def test_media_before_start_is_a_protocol_error():
    decoder = StreamDecoder()
    [event] = decoder.feed(text(MEDIA))
    assert isinstance(event, ProtocolError) and "no start yet" in event.reason


def test_a_second_start_is_refused_and_the_first_stays():
    decoder = streaming()
    other = {**START["start"], "callSid": "CA" + "9" * 32}
    [event] = decoder.feed(text(START, start=other))
    assert isinstance(event, ProtocolError) and "second start" in event.reason
    assert decoder.started.call_sid == CALL


@pytest.mark.parametrize("message", [MEDIA, START, DTMF, MARK, STOP, CONNECTED])
def test_anything_after_stop_is_a_protocol_error(message):
    decoder = streaming()
    decoder.feed(text(STOP))
    [event] = decoder.feed(text(message))
    assert isinstance(event, ProtocolError) and "after stop" in event.reason


# -- chunk order ----------------------------------------------------------------------


def feed_chunks(decoder: StreamDecoder, order) -> list[int]:
    out = []
    for n in order:
        out += chunks(decoder.feed(media(n)))
    return out


@pytest.mark.parametrize(
    "arrival, delivered",
    [
        ([1, 2, 3, 4], [1, 2, 3, 4]),
        ([1, 3, 2, 4], [1, 2, 3, 4]),  # swapped pair is put back in order
        ([1, 4, 3, 2, 5], [1, 2, 3, 4, 5]),
        ([1, 2, 2, 3, 3, 3], [1, 2, 3]),  # duplicates dropped
        ([1, 3, 3, 2], [1, 2, 3]),  # a duplicate of a held chunk is dropped too
        ([1, 2, 3, 1, 2], [1, 2, 3]),  # a replay of old chunks is dropped
        ([41, 42, 43], [41, 42, 43]),  # joined late: the first chunk seen sets the start
    ],
)
def test_chunks_are_delivered_in_order_once(arrival, delivered):
    assert feed_chunks(streaming(), arrival) == delivered


def test_a_lost_chunk_is_given_up_after_the_reorder_window():
    decoder = streaming()
    assert feed_chunks(decoder, [1]) == [1]
    later = list(range(3, 3 + REORDER_WINDOW))
    assert feed_chunks(decoder, later) == []  # held, waiting for 2 (100 ms at most)
    nxt = 3 + REORDER_WINDOW
    assert feed_chunks(decoder, [nxt]) == later + [nxt]  # 2 declared lost
    assert feed_chunks(decoder, [2]) == []  # too late now
    assert feed_chunks(decoder, [nxt + 1]) == [nxt + 1]


def test_stop_delivers_everything_held_in_order_before_stopped():
    decoder = streaming()
    feed_chunks(decoder, [1, 5, 3, 4])
    events = decoder.feed(text(STOP))
    assert chunks(events) == [3, 4, 5]
    assert isinstance(events[-1], Stopped)


def test_tracks_are_ordered_independently():
    decoder = streaming()
    out = []
    for n, track in [(1, "inbound"), (1, "outbound"), (3, "inbound"), (2, "outbound"), (2, "inbound")]:
        out += [(e.track, e.chunk) for e in decoder.feed(media(n, track=track))]
    assert out == [("inbound", 1), ("outbound", 1), ("outbound", 2), ("inbound", 2), ("inbound", 3)]


# -- frame sizes ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 7, 80, 159, 161, 320, 333, 1600, 8000])
def test_frames_of_any_length_are_accepted_whole(size):
    payload = bytes((i * 37) % 256 for i in range(size))
    decoder = streaming()
    [event] = decoder.feed(media(1, payload))
    assert event.payload == payload and len(event.payload) == size
