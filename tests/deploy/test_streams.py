"""Long-lived connections take no request thread: the production recipe, started for real.

gunicorn runs with the repository's gunicorn.conf.py (gevent workers, the app preloaded),
two workers, a Redis store (a key prefix of this test's own, deleted after) and local
speech with the Korean model. More media websockets and console event streams are opened
than the former model had threads (2 workers x 16): each socket carries a real call's
start message and stays open, each board is a signed-in agent's live stream. Then:

* a new caller still gets their TwiML: the incoming-call webhook and a key step answer;
* that caller's speech, streamed as Media Streams frames on one more websocket, is heard
  by the server's Vosk recogniser (the Korean model) and applied when the prompt's
  Gather ends: the call moves to the order-number question.

The same test against ``-k gthread`` (the former model) cannot open the sockets beyond
the threads: their upgrade is never answered.
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import threading
import time
import uuid
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import requests
from test_gunicorn_conf import PUBLIC, ROOT, TOKEN, free_port, gunicorn, line_env, stop
from test_preload import children, korean_model, redis_client, wait_for
from werkzeug.security import generate_password_hash

from ivr.testing import Caller
from ivr.testing.transport import HttpTransport

SECRET = "streams-secret-key-0123456789abcdef"
UTTERANCES = ROOT / "audio" / "test_utterances"
FORMER_THREADS = 2 * 16  # what the former model (gthread, 2 workers x 16 threads) could hold open
MEDIA_SOCKETS = 36
BOARDS = 4
FRAME = 160  # 20 ms of 8 kHz mu-law
SILENCE = b"\xff" * FRAME


def korean_caller(base: str) -> Caller:
    """A caller on the demo line who presses 9: the Korean menu, heard by our recogniser."""
    call = Caller(HttpTransport(base), auth_token=TOKEN, public_url=PUBLIC)
    call.dial()
    call.press("9")
    assert call.heard("주문 상태"), call.transcript
    assert call.streams, "the Korean prompt did not start a media stream"
    return call


def media(sid: str, n: int, audio: bytes) -> str:
    return json.dumps({"event": "media", "sequenceNumber": str(n + 1), "streamSid": "MZ" + sid[2:],
                       "media": {"track": "inbound", "chunk": str(n), "timestamp": str(n * 20),
                                 "payload": base64.b64encode(audio).decode()}})


def open_stream(port: int, call: Caller, held: ExitStack) -> Any:
    """A websocket (closed with ``held``) that says what Twilio says first: ``connected``, then ``start``."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    sid = call.params["CallSid"]
    for _ in range(50):  # a 503 before the upgrade: a few sockets of that worker still await their start
        try:
            ws = held.enter_context(connect(f"ws://127.0.0.1:{port}/twilio/media", open_timeout=20))
            break
        except InvalidStatus as refused:
            assert refused.response.status_code == 503, refused
            time.sleep(0.1)
    else:
        raise AssertionError("the media socket was refused 50 times")
    ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": "MZ" + sid[2:],
                        "start": {"streamSid": "MZ" + sid[2:], "accountSid": "AC" + "0" * 32, "callSid": sid,
                                  "tracks": ["inbound"], "customParameters": dict(call.streams[-1].parameters),
                                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                                  "channels": 1}}}))
    return ws


def still_open(ws: Any) -> bool:
    try:
        ws.recv(timeout=0.05)  # the server sends nothing on a unidirectional stream...
    except TimeoutError:
        return True  # ...and has not closed it
    except Exception:
        return False
    return True


def sign_in(base: str, name: str, password: str) -> requests.Session:
    web = requests.Session()
    page = web.get(base + "/console/sign-in", timeout=15)
    for cookie in web.cookies:  # secure cookies (IVR_PUBLIC_URL is https): sent here over the proxy's http
        cookie.secure = False
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    reply = web.post(base + "/console/sign-in", data={"name": name, "password": password,
                                                     "csrf_token": token.group(1)},
                     timeout=15, allow_redirects=False)
    assert reply.status_code == 302 and "/console/sign-in" not in reply.headers["Location"], reply.text
    for cookie in web.cookies:
        cookie.secure = False
    return web


def test_webhooks_and_speech_go_on_with_more_open_streams_than_threads(tmp_path: Path) -> None:
    model = korean_model()
    client = redis_client()
    prefix = f"ivr-test-streams-{uuid.uuid4().hex[:12]}"
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "call_flows", flows)
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n" + "".join(
        f"  - {{name: agent{i}, display_name: Agent {i}, targets: ['client:agent{i}'],"
        f" password_hash: '{generate_password_hash(f'pw-{i}', method='pbkdf2:sha256:1000')}'}}\n"
        for i in range(BOARDS)))
    env = line_env(tmp_path, IVR_SECRET_KEY=SECRET, IVR_FLOWS_DIR=str(flows), IVR_AGENTS_FILE=str(agents),
                   IVR_VAR_DIR=str(tmp_path / "var"), IVR_STORE=f"redis://127.0.0.1:6379/0?prefix={prefix}", IVR_STREAM_SPEECH="true",
                   IVR_VOSK_MODELS=f"ko-KR={model}", IVR_MEDIA_SOCKETS="100", PYTHONUNBUFFERED="1")
    port, log = free_port(), tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    proc = gunicorn(port, env, log)
    sockets: list[Any] = []
    boards: list[requests.Response] = []
    done = threading.Event()
    held = ExitStack()
    try:
        def ready() -> bool:
            try:
                return requests.get(base + "/healthz", timeout=1).ok and len(children(proc.pid)) == 2
            except requests.RequestException:
                return False

        wait_for("gunicorn did not start", ready, log, proc, timeout=180)

        for i in range(BOARDS):  # agents' live boards: server-sent events, open for minutes
            board = sign_in(base, f"agent{i}", f"pw-{i}").get(base + "/console/events", stream=True, timeout=20)
            assert board.status_code == 200 and board.headers["Content-Type"].startswith("text/event-stream")
            assert next(board.iter_lines(decode_unicode=True)).startswith("retry:")
            boards.append(board)

        calls = [korean_caller(base) for _ in range(MEDIA_SOCKETS)]
        for call in calls:
            sockets.append(open_stream(port, call, held))

        def keep_streaming() -> None:  # a live line sends audio all the time: here, silence
            n = 0
            while not done.wait(0.2):
                n += 1
                for ws, call in zip(list(sockets), calls, strict=False):
                    with suppress(Exception):
                        ws.send(media(call.params["CallSid"], n, SILENCE))

        feeder = threading.Thread(target=keep_streaming, daemon=True)
        feeder.start()
        time.sleep(1.0)
        assert len(sockets) + len(boards) > FORMER_THREADS
        assert all(still_open(ws) for ws in sockets), log.read_text()[-4000:]

        # a new caller is answered, keys and all, while every one of those is open
        caller = korean_caller(base)
        assert not caller.errors, caller.errors

        # ...and their speech goes through the recogniser
        sid = caller.params["CallSid"]
        ws = open_stream(port, caller, held)
        sockets.append(ws)
        audio = SILENCE * 25 + (UTTERANCES / "order_status.ulaw").read_bytes() + SILENCE * 75
        for n in range(0, len(audio), FRAME):
            ws.send(media(sid, 10_000 + n // FRAME, audio[n:n + FRAME].ljust(FRAME, b"\xff")))
            time.sleep(0.005)
        heard = re.compile(rf"call {sid}: heard ")
        wait_for("the recogniser did not hear the caller", lambda: heard.search(log.read_text()) is not None,
                 log, proc, timeout=60)
        caller.silence()  # the prompt's Gather ends; its action applies the speech heard
        assert caller.heard("주문 번호"), caller.transcript

        assert all(still_open(ws) for ws in sockets[:-1]), log.read_text()[-4000:]
        assert "Traceback" not in log.read_text(), log.read_text()[-6000:]
    finally:
        done.set()
        held.close()
        for board in boards:
            board.close()
        stop(proc)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    assert not children(proc.pid)



def test_the_worker_class_is_gevent_unless_the_command_line_asks_for_threads(tmp_path: Path) -> None:
    """``gunicorn -c gunicorn.conf.py`` runs gevent; ``-k gthread`` (the former model) is
    honoured, nothing is patched, and the line answers as before."""
    import subprocess

    from test_gunicorn_conf import GUNICORN

    for extra, expected in (([], "gevent"), (["-k", "gthread", "--threads", "4"], "gthread")):
        port, log = free_port(), tmp_path / f"{expected}.log"
        proc = subprocess.Popen([GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                                 "--workers", "1", *extra], cwd=str(ROOT), env=line_env(tmp_path),
                                stdout=log.open("wb"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            def ready(base: str = base) -> bool:
                try:
                    return requests.get(base + "/healthz", timeout=1).ok
                except requests.RequestException:
                    return False

            wait_for("gunicorn did not start", ready, log, proc, timeout=120)
            call = Caller(HttpTransport(base), auth_token=TOKEN, public_url=PUBLIC)
            call.dial()
            assert call.gather is not None and not call.errors, call.transcript
        finally:
            stop(proc)
        text = log.read_text()
        assert f"Using worker: {expected}" in text, text
        assert "Traceback" not in text, text
