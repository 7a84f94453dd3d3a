"""Load benchmark: many simulated callers on the demo line, two set-ups compared.

    .venv/bin/python bench/load.py                 # 500 callers, 32 at a time
    .venv/bin/python bench/load.py --callers 200 --concurrency 16 --max-seconds 120

Set-up A: two server processes (gunicorn, one gthread worker each) sharing one Redis;
every request of a call goes to the other process than the one before (the worst case
for shared state). Set-up B: one server process on SQLite. Each caller runs a scripted
demo call through the caller emulator over real HTTP on loopback (order status by keys,
or account balance with a PIN when the line is open), then hangs up. Afterwards every
call's final state is read from the store: a call whose state is missing, not ended, not
"contained" or without the slots it keyed in counts as lost or corrupted.

Printed: completed calls, errors, lost/corrupted sessions, p50/p99 latency of one webhook
request, calls/s and the throughput ratio A/B (same machine, same run).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from ivr.store import open_store  # noqa: E402
from ivr.testing import Caller, HttpTransport  # noqa: E402

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC = "https://ivr.example.com"
DEMO_NUMBER = "+15005550006"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Timed:
    """Round-robin over hosts, timing every request."""

    def __init__(self, hosts: list[HttpTransport], latencies: list[float], lock: threading.Lock):
        self.hosts = hosts
        self.turn = random.randrange(len(hosts))
        self.latencies = latencies
        self.lock = lock

    def request(self, method, url, form, headers):
        host = self.hosts[self.turn % len(self.hosts)]
        self.turn += 1
        started = time.perf_counter()
        reply = host.request(method, url, form, headers)
        took = time.perf_counter() - started
        with self.lock:
            self.latencies.append(took)
        return reply


def start_servers(n: int, store: str, workdir: Path, threads: int) -> list[tuple[subprocess.Popen, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_STORE": store,
                "IVR_FLOWS_DIR": str(ROOT / "call_flows"), "IVR_AUDIO_DIR": str(ROOT / "audio"),
                "IVR_STREAM_SPEECH": "false", "IVR_SECRET_KEY": "bench", "IVR_VAR_DIR": str(workdir)})
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    started = []
    for i in range(n):
        port = free_port()
        log = open(workdir / f"server{i}.log", "ab")
        proc = subprocess.Popen([gunicorn, "-k", "gthread", "-w", "1", "--threads", str(threads), "-b",
                                 f"127.0.0.1:{port}", "--log-level", "warning", "ivr.web.app:create_app()"],
                                env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=0.5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise SystemExit(f"server {i} did not start; see {workdir}/server{i}.log")
        started.append((proc, base))
    return started


def one_call(index: int, bases: list[str], latencies: list[float], lock: threading.Lock) -> dict:
    hosts = [HttpTransport(b, timeout=15) for b in bases]
    call = Caller(Timed(hosts, latencies, lock), auth_token=TOKEN, public_url=PUBLIC, to=DEMO_NUMBER,
                  caller=f"+1555{index:07d}")
    expect: dict[str, str] = {}
    try:
        call.dial()
        open_line = call.heard("Welcome to Acme")
        if open_line and index % 2:
            call.press("2")
            call.press("12345678")
            call.press("1234")
            assert call.heard("Your balance is 42.50 dollars"), call.last_heard
            expect["account_number"] = "12345678"
        else:
            call.press("1")  # order status, open or closed
            call.press("123456")
            assert call.heard("has shipped"), call.last_heard
            expect["order_id"] = "123456"
        call.press("2")
        assert call.heard("Goodbye"), call.last_heard
        call.hang_up()
        errors = [str(e) for e in call.all_errors]
        return {"sid": call.call_sid, "ok": not errors, "error": "; ".join(errors), "expect": expect}
    except Exception as exc:
        return {"sid": call.call_sid, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300], "expect": expect}
    finally:
        for host in hosts:
            host.close()


def verify(store_url: str, results: list[dict]) -> int:
    """Calls whose stored state is missing or wrong."""
    store = open_store(store_url)
    bad = 0
    try:
        for result in results:
            if not result["ok"]:
                continue
            stored = store.load(result["sid"])
            session = stored.data.get("session", {}) if stored else {}
            slots = session.get("slots", {})
            if (stored is None or session.get("phase") != "ended" or session.get("outcome") != "contained"
                    or any(slots.get(k) != v for k, v in result["expect"].items())):
                bad += 1
                print(f"  lost/corrupted: {result['sid']}: {session.get('phase')} {session.get('outcome')} {slots}")
    finally:
        store.close()
    return bad


def run(name: str, n_servers: int, store_url: str, callers: int, concurrency: int, max_seconds: float,
        workdir: Path, threads: int) -> dict:
    servers = start_servers(n_servers, store_url, workdir, threads)
    bases = [base for _, base in servers]
    latencies: list[float] = []
    lock = threading.Lock()
    results: list[dict] = []
    started = time.perf_counter()
    deadline = time.monotonic() + max_seconds
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            futures = []
            for i in range(callers):
                futures.append(pool.submit(lambda i=i: one_call(i, bases, latencies, lock)
                                           if time.monotonic() < deadline else None))
            for future in as_completed(futures):
                result = future.result()
                if result is not None:
                    results.append(result)
        elapsed = time.perf_counter() - started
    finally:
        for proc, _ in servers:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in servers:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    completed = sum(1 for r in results if r["ok"])
    errors = [r["error"] for r in results if not r["ok"]]
    bad = verify(store_url, results)
    lat = sorted(latencies)
    out = {"name": name, "callers": len(results), "completed": completed, "errors": len(errors),
           "lost_or_corrupted": bad, "requests": len(lat), "seconds": elapsed,
           "calls_per_s": completed / elapsed if elapsed else 0.0,
           "p50_ms": statistics.median(lat) * 1000 if lat else 0.0,
           "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0}
    print(f"{name}: {out['completed']}/{out['callers']} calls completed, {out['errors']} errors, "
          f"{bad} lost/corrupted; {out['requests']} requests in {elapsed:.1f} s "
          f"({out['calls_per_s']:.1f} calls/s); step latency p50 {out['p50_ms']:.1f} ms, p99 {out['p99_ms']:.1f} ms")
    for error in errors[:5]:
        print(f"  error: {error}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop starting calls after this long")
    parser.add_argument("--redis", default=os.environ.get("IVR_BENCH_REDIS", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads per server process")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    prefix = f"ivrbench-{uuid.uuid4().hex[:8]}"
    redis_url = f"{args.redis}?prefix={prefix}"
    try:
        a = run("A: 2 processes, Redis ", 2, redis_url, args.callers, args.concurrency, args.max_seconds,
                workdir, args.threads)
        b = run("B: 1 process, SQLite  ", 1, f"sqlite:///{workdir / 'calls.sqlite3'}", args.callers,
                args.concurrency, args.max_seconds, workdir, args.threads)
    finally:
        import redis

        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i:i + 500])
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = a["calls_per_s"] / b["calls_per_s"] if b["calls_per_s"] else float("nan")
    print(f"throughput ratio A/B (2 processes on Redis / 1 process on SQLite): {ratio:.2f}")
    return 0 if a["errors"] == b["errors"] == a["lost_or_corrupted"] == b["lost_or_corrupted"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
