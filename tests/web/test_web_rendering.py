"""What the app answers is TwiML Twilio can run: the right content type, well formed,
under 64 kB, Gathers set up for keys and speech, audio served with cache headers."""
from __future__ import annotations

import struct
import wave

import pytest
from web_support import (
    FLOWS_DIR,
    MAX_TWIML_BYTES,
    PUBLIC_URL,
    Clock,
    Line,
    check_reply,
    drive,
    gather_node,
    last_twiml,
    listening_paths,
    make_app,
    query,
)

from ivr.flows.library import FlowLibrary
from ivr.flows.nodes.menu import MenuNode
from ivr.web.services import services

LIBRARY = FlowLibrary(FLOWS_DIR)
LIBRARY.reload()
DEMO = LIBRARY.flows["acme-support"]
PATHS = [p for p in listening_paths(LIBRARY) if p[0] == "acme-support" and p[4] is not None]


def node_phrases(node) -> list[str]:
    if isinstance(node, MenuNode):
        return [phrase for option in node.options for phrase in option.phrases]
    return []


@pytest.mark.parametrize("flow_name, node_id, at, number, inputs", PATHS, ids=[p[1] for p in PATHS])
def test_every_gather_listens_for_keys_and_speech(line, flow_name, node_id, at, number, inputs):
    line.clock.set(at)
    call = line.call(to=number)
    drive(call, inputs)
    assert gather_node(call) == node_id
    gather = call.gather
    assert gather["input"] == "dtmf speech"
    assert gather["actionOnEmptyResult"] == "true"
    assert gather["timeout"].isdigit() and int(gather["timeout"]) > 0
    assert gather["speechTimeout"].isdigit(), gather["speechTimeout"]     # not "auto"
    assert gather.method == "POST" and gather.action.startswith(f"{PUBLIC_URL}/twilio/step?")
    assert query(gather.action)["seq"].isdigit()
    hints = [h.strip() for h in gather["hints"].split(",")]
    node = DEMO.nodes[node_id]
    for phrase in [*node_phrases(node), *DEMO.operator.phrases]:
        assert phrase.replace(",", " ") in hints, (node_id, phrase, hints)
    assert len(hints) <= 500 and all(len(h) <= 100 for h in hints)
    # when Twilio does not post on silence, the next verb brings the caller back
    body = last_twiml(call)
    assert "<Redirect" in body and "silence=1" in body


def test_every_reply_of_a_long_call_is_twiml(line):
    call = line.call()
    call.silence()
    call.press("1")
    call.say("one two three")
    call.press("123456")
    call.press("1")
    call.press("3")
    call.press("2")
    call.press("4")  # the survey after the call
    call.record(duration=3)
    assert call.state == "ended"
    assert len(call.responses) >= 8
    for reply in call.responses:
        root = check_reply(reply)
        assert root is not None or reply.status == 204 or reply.mimetype == "audio/wav"


def test_status_callbacks_answer_204(line):
    call = line.call()
    assert call.post("/twilio/status", CallStatus="ringing").status == 204
    assert call.post("/twilio/recording-status", RecordingStatus="absent").status == 204


def make_wav(path, seconds: float = 0.2) -> bytes:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<h", 0) * int(8000 * seconds))
    return path.read_bytes()


AUDIO_FLOW = """
flow: audio-line
numbers: ["+15005550088"]
operator: {digit: "0", phrases: [agent], to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "audio/welcome.wav | Welcome to the audio line."
      options:
        - {keys: "1", say: [hello], go: bye}
  bye:
    hangup: "audio/bye.wav | Goodbye."
  desk:
    transfer: {to: ["+15005550010"], reason: "Caller asked for a person"}
"""


@pytest.fixture
def audio_line(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    wavs = {name: make_wav(audio / name) for name in ("welcome.wav", "bye.wav")}
    (audio / "notes.txt").write_text("not audio")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "audio.yaml").write_text(AUDIO_FLOW)
    clock = Clock()
    app = make_app(tmp_path, clock, flows_dir=flows, audio_dir=audio)
    assert "audio-line" in services(app).library.flows
    line = Line(app, clock)
    yield line, wavs
    line.check()


def test_audio_prompts_are_played_from_absolute_urls_the_app_serves(audio_line):
    line, wavs = audio_line
    call = line.call(to="+15005550088")
    assert call.heard(f"[play {PUBLIC_URL}/audio/welcome.wav]")
    assert "<Play>https://ivr.example.com/audio/welcome.wav</Play>" in call.responses[0].body
    assert [(p.url, p.status, p.content_type, p.size) for p in call.played] == [
        (f"{PUBLIC_URL}/audio/welcome.wav", 200, "audio/wav", len(wavs["welcome.wav"]))]
    call.press("1")
    assert call.played[-1].url.endswith("/audio/bye.wav") and call.state == "ended"
    client = line.app.test_client()
    reply = client.get("/audio/welcome.wav", base_url=PUBLIC_URL)
    assert reply.status_code == 200 and reply.mimetype == "audio/wav"
    assert reply.data == wavs["welcome.wav"]
    cache = reply.headers["Cache-Control"]
    assert "max-age=" in cache and int(cache.split("max-age=")[1].split(",")[0]) > 0


@pytest.mark.parametrize("path", ["/audio/missing.wav", "/audio/notes.txt", "/audio/../flows/audio.yaml",
                                  "/audio/%2e%2e/flows/audio.yaml", "/audio//etc/passwd"])
def test_audio_route_serves_only_audio_files_of_the_audio_dir(audio_line, path):
    line, _ = audio_line
    reply = line.app.test_client().get(path, base_url=PUBLIC_URL, follow_redirects=True)
    assert reply.status_code == 404, (path, reply.status_code)


def test_huge_prompts_still_fit_in_64kb(tmp_path):
    words = " ".join(["lorem"] * 900)                 # 5400 chars per prompt, 20 options
    options = "\n".join(f'        - {{keys: "{i}", say: ["{words[:90]} {i}"], go: bye}}' for i in range(1, 10))
    flow = AUDIO_FLOW.replace('"audio/welcome.wav | Welcome to the audio line."', f'"{words}"').replace(
        '        - {keys: "1", say: [hello], go: bye}', options).replace('"audio/bye.wav | Goodbye."', '"Bye."')
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "big.yaml").write_text(flow)
    clock = Clock()
    line = Line(make_app(tmp_path, clock, flows_dir=flows), clock)
    call = line.call(to="+15005550088")
    assert call.state == "listening"
    assert len(call.responses[0].body.encode()) < MAX_TWIML_BYTES
    line.check()
