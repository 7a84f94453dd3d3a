"""Webhook throughput: the real line against a bare Flask handler, served the same way.

    .venv/bin/python bench/webhooks.py [--seconds 10] [--callers 16] [--workers 2] [--threads 8]

Both apps run as gunicorn processes (gthread workers, same settings) on 127.0.0.1 only.
16 caller threads (``requests``, one keep-alive session each) place calls for a fixed
time: every call is an incoming-call webhook then a menu step (press 1 at the main
menu), each a full request: signature check, engine step, TwiML, SQLite save. The bare
handler answers the same requests with a fixed ``<Gather>``. Printed: requests per
second, p50/p99 latency of the menu step, and the ratio of the two throughputs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-auth-token-0123456789"
PUBLIC = "https://ivr.example.com"
OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday morning in New York


# ------------------------------------------------------------------ the two apps

def ivr_app():
    """The real line (gunicorn factory): config from the environment, a fixed clock."""
    from ivr.web.app import create_app
    from ivr.web.services import services

    app = create_app()
    services(app).clock = lambda: OPEN
    return app


def bare_app():
    """The baseline: a Flask handler that returns a fixed Gather for every webhook."""
    from flask import Flask, Response
    from twilio.twiml.voice_response import Gather, VoiceResponse

    response = VoiceResponse()
    gather = Gather(input="dtmf speech", action=f"{PUBLIC}/twilio/step?node=main&seq=1", method="POST",
                    timeout=5, speech_timeout=2, action_on_empty_result=True, hints="order status, billing")
    gather.say("Please say or key in your six digit order number.")
    response.append(gather)
    body = str(response)
    app = Flask("bare")

    @app.post("/twilio/<path:name>")
    def hook(name):
        return Response(body, mimetype="text/xml")

    return app


# ------------------------------------------------------------------ serving

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(factory: str, env: dict, workers: int, threads: int):
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen(
        [gunicorn, "-k", "gthread", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
         "--chdir", str(ROOT / "bench"), "--log-level", "warning", "--keep-alive", "30", f"webhooks:{factory}()"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"gunicorn for {factory} did not start")


# ------------------------------------------------------------------ load

def run_load(base: str, seconds: float, callers: int):
    import requests
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    step_latencies: list[float] = []
    counts = [0] * callers
    failures = [0] * callers
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def post(session, path, params):
        signature = validator.compute_signature(PUBLIC + path, params)
        started = time.perf_counter()
        reply = session.post(base + path, data=params, timeout=15,
                             headers={"X-Twilio-Signature": signature})
        elapsed = time.perf_counter() - started
        ok = reply.status_code == 200 and b"<Gather" in reply.content
        return elapsed, ok

    def caller(i):
        session = requests.Session()
        mine: list[float] = []
        while time.perf_counter() < stop:
            sid = "CA" + uuid.uuid4().hex
            call = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15551230000",
                    "To": "+15005550006", "CallStatus": "ringing", "Direction": "inbound"}
            _, ok1 = post(session, "/twilio/voice", call)
            elapsed, ok2 = post(session, "/twilio/step?node=main&seq=1",
                                {**call, "CallStatus": "in-progress", "Digits": "1"})
            mine.append(elapsed)
            counts[i] += 2
            failures[i] += (not ok1) + (not ok2)
        with lock:
            step_latencies.extend(mine)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    wall = time.perf_counter() - started
    step_latencies.sort()
    q = statistics.quantiles(step_latencies, n=100) if len(step_latencies) > 1 else [0.0] * 99
    return {"rps": sum(counts) / wall, "requests": sum(counts), "failures": sum(failures),
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
           "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STORE": f"sqlite:///{work / 'calls.sqlite3'}",
           "IVR_STREAM_SPEECH": "false", "IVR_MODEL_CACHE": str(work / "models"), "IVR_SECRET_KEY": "bench"}
    results = {}
    try:
        for name in ("bare", "ivr"):
            proc, base = serve(f"{name}_app", env, args.workers, args.threads)
            try:
                run_load(base, 1.0, args.callers)          # warm up: imports, connections
                results[name] = run_load(base, args.seconds, args.callers)
            finally:
                proc.terminate()
                proc.wait(10)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.callers} callers, {args.seconds:g} s each, gunicorn gthread {args.workers}x{args.threads} "
          "on 127.0.0.1")
    for name, label in (("bare", "bare Flask <Gather>"), ("ivr", "IVR menu step (sig+engine+TwiML+SQLite)")):
        r = results[name]
        print(f"  {label:42s} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
              f"({r['requests']} requests, {r['failures']} failed)")
    ratio = results["ivr"]["rps"] / results["bare"]["rps"]
    print(f"  throughput ratio ivr/bare: {ratio:.2f} (aim: >= 0.5)")
    return 0 if results["ivr"]["failures"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
