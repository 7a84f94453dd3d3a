"""Webhook cost: the line's call steps against two plain Flask handlers, served the same way.

    .venv/bin/python bench/webhooks.py [--rounds 3] [--seconds 5] [--workers 2] [--threads 16] [--config none]

Three apps, each a gunicorn process on 127.0.0.1 served the same way: with the
repository's ``gunicorn.conf.py`` (its worker class, preload, logging and access log;
its fork hooks for the line only), or with ``--config none`` the former command line
(``-k gthread --workers 2 --threads 16``, warnings only). The first line printed says
which worker class ran. The servers are started once, left to finish starting (their
CPU quiet) and measured in interleaved rounds (the order turns every round; the machine
is shared and noisy, so only figures of the same run are compared):

* ``line``: the support line (``ivr.web.app.create_app``): signature check, engine step,
  TwiML, versioned save in the default SQLite store, event log;
* ``fair``: a Flask handler in the style of Twilio's samples that also checks the
  signature (twilio's ``RequestValidator``) and writes one SQLite row per request;
* ``bare``: the same handler without the check and the write: builds a ``<Gather>``
  with ``VoiceResponse`` and returns it;
* ``floor``: what any line that keeps the product's other rules must do per webhook and
  nothing more (``floor_app``): ``fair``'s signature check, the call's state read and
  written back through the line's SQLite store (version check, its event in the same
  transaction) and the prompt's ``<Gather>`` as the line renders it. ``floor/fair`` is
  the part of the line's cost over ``fair`` that no engine could win back; ``line/floor``
  is what the flow, the engine and the rest of the line add.

Every round runs two kinds of request at each app: the incoming-call webhook
(``POST /twilio/voice``) for distinct CallSids, then a menu step (``POST /twilio/step``,
press 1 at the main menu) for the calls the first part created. The requests are signed
beforehand (a signature depends only on the URL and the form) and sent by ``wrk`` (Debian
package ``wrk``) with a Lua script, so the client is not what limits throughput: its
CPU is printed beside the servers'. Server CPU is read from ``/proc/<pid>/stat`` (user +
system time of the gunicorn master and its workers) before and after each part and
divided by the requests answered. Printed per round and as the median of the rounds:
requests/s, server CPU ms per request, p50/p99 latency, and the ratios line/fair and
line/bare of CPU per request and of throughput.

``--baseline-tree DIR`` adds a fourth app, ``line-base``: the line from another checkout
(say ``git worktree add /tmp/base <commit>``), served and measured the same way in the
same rounds, and prints line/line-base: what a change did, measured in one run.

``bench/load.py`` reuses the serving and measuring parts of this file for whole calls.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
TOKEN = "bench-auth-token-0123456789"
PUBLIC = "https://ivr.example.com"
DEMO_NUMBER = "+15005550006"
OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday morning in New York: the line is open
TICK = os.sysconf("SC_CLK_TCK")
PROMPT = "Please say or key in your six digit order number."


# ------------------------------------------------------------------ the three apps

def ivr_app() -> Flask:
    """The support line (gunicorn factory): settings from the environment, a fixed clock."""
    from ivr.web.app import create_app
    from ivr.web.services import services

    app = create_app()
    services(app).clock = lambda: OPEN
    return app


def _sample_twiml(path: str) -> str:
    """What Twilio's samples return: a ``<Gather>`` with a ``<Say>``, built per request."""
    from twilio.twiml.voice_response import Gather, VoiceResponse

    response = VoiceResponse()
    gather = Gather(input="dtmf speech", action=f"{PUBLIC}/twilio/step?node=main&seq=1", method="POST",
                    timeout=5, speech_timeout=2, action_on_empty_result=True, hints="order status, billing")
    gather.say(PROMPT)
    response.append(gather)
    return str(response)


def bare_app() -> Flask:
    """Baseline: a Flask handler in the style of Twilio's samples, nothing else."""
    from flask import Response

    app = Flask("bare")

    @app.post("/twilio/<path:name>")
    def hook(name: str) -> Response:
        return Response(_sample_twiml(name), mimetype="text/xml")

    return app


def _signed(validator: Any, public: str) -> bool:
    """Whether the request in hand carries Twilio's signature for its public URL (as the
    samples check it: twilio's ``RequestValidator``)."""
    from flask import request

    query = request.query_string.decode("latin-1")
    url = f"{public}{request.path}" + (f"?{query}" if query else "")
    return bool(validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")))


def fair_app() -> Flask:
    """Baseline: the sample handler plus a signature check and one SQLite write per request."""
    import sqlite3
    import threading

    from flask import Response, request
    from twilio.request_validator import RequestValidator

    path = os.environ["BENCH_FAIR_DB"]
    local = threading.local()
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    public = os.environ["IVR_PUBLIC_URL"]

    def db() -> sqlite3.Connection:
        conn = getattr(local, "db", None)
        if conn is None:
            conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, call_sid TEXT, at REAL, form TEXT)")
            local.db = conn
        return conn

    app = Flask("fair")

    @app.post("/twilio/<path:name>")
    def hook(name: str) -> Response:
        if not _signed(validator, public):
            return Response("invalid signature\n", status=403, mimetype="text/plain")
        db().execute("INSERT INTO hits (call_sid, at, form) VALUES (?, ?, ?)",
                     (request.form.get("CallSid", ""), time.time(), json.dumps(request.form.to_dict())))
        return Response(_sample_twiml(name), mimetype="text/xml")

    return app


def _floor_state(sid: str) -> dict:
    """A call's state as the line keeps it at the order prompt (the same keys and about the
    same 1.4 KB of JSON), for the ``floor`` handler."""
    memory = {"profile": {}, "greeted": "acme-support", "known": False, "language": "", "repeats": {},
              "verified_slots": {}, "calls": [], "callbacks": [], "noticed": True,
              "remember": ["order_id", "account_number"], "retention_days": 90}
    session = {"call_sid": sid, "flow": "acme-support", "flow_version": "e0d403fa9e12",
               "started_at": OPEN.isoformat(), "caller": "+15551230000", "to": DEMO_NUMBER, "language": "en-US",
               "node": "main", "phase": "listening", "t": 0.0, "slots": {}, "lookup": {}, "lookups": [],
               "no_input": 0, "no_match": 0, "pending": "", "path": ["main"], "turns": [], "score": 0.0,
               "reasons": [], "offered": False, "transfer_reason": "", "transfer_attempt": 0, "transfers": [],
               "hold_from": "", "attempt_from": "", "outcome": "", "verified": False, "recording": {},
               "callback": {}, "survey": {}, "memory": memory, "topic": "", "shortcut": {}}
    return {"session": session, "seq": 1, "stream_secret": "v9_HE6tOrX_fdPqsuXDYbK7X", "streaming": False,
            "listen_phrases": HINTS.split(", "), "listening": True, "flow": "acme-support", "node": "main",
            "phase": "listening", "score": 0.0, "caller": "+15551230000", "outcome": "",
            "answer": {"for_seq": 0, "at_seq": 1, "said": []}}


HINTS = ("zero, oh, one, two, three, four, five, six, seven, eight, nine, agent, representative, operator, "
         "human, a person, someone, customer service")


def floor_app() -> Flask:
    """The least a line with the product's other requirements must do per webhook, and
    nothing else: the signature check (twilio's ``RequestValidator``, as ``fair``); the
    call's state read from and written back to the line's own SQLite store with a version
    check and its event in the same transaction (``SQLiteStore.load`` and ``save``, the
    no-lost-update rule of DESIGN.md); the prompt's ``<Gather>`` as the line renders it
    (``VoiceResponse``, same attributes, ``<Say>`` and ``<Redirect>``). No flow, engine,
    escalation check, caller memory, console or log of its own. What this costs over
    ``fair`` no engine can win back."""
    from flask import Response, request
    from twilio.request_validator import RequestValidator
    from twilio.twiml.voice_response import Gather, VoiceResponse

    from ivr.store.sqlite import SQLiteStore

    store = SQLiteStore(os.environ["BENCH_FLOOR_DB"])
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    public = os.environ["IVR_PUBLIC_URL"]
    app = Flask("floor")

    def prompt(node: str, seq: int, text: str) -> str:
        response = VoiceResponse()
        step = f"{public}/twilio/step?{urlencode({'node': node, 'seq': seq})}"
        gather = Gather(action=step, method="POST", timeout=5, action_on_empty_result=True, language="en-US",
                        input="dtmf speech", speech_timeout=2, hints=HINTS, num_digits=6, finish_on_key="#")
        gather.say(text, language="en-US", voice="Polly.Joanna")
        response.append(gather)
        response.redirect(f"{public}/twilio/step?{urlencode({'node': node, 'seq': seq, 'silence': 1})}",
                          method="POST")
        return str(response)

    @app.post("/twilio/<path:name>")
    def hook(name: str) -> Response:
        if not _signed(validator, public):
            return Response("invalid signature\n", status=403, mimetype="text/plain")
        sid = request.form.get("CallSid", "")
        at = datetime.now(UTC).isoformat()
        if name == "voice":
            store.save(sid, _floor_state(sid), None, [{"type": "CallStarted", "at": at, "call_sid": sid,
                                                      "caller": request.form.get("From", ""),
                                                      "to": request.form.get("To", ""), "caller_name": ""}])
            return Response(prompt("main", 1, "Welcome to Acme Outfitters."), mimetype="text/xml")
        current = store.load(sid)
        if current is None:
            return Response(prompt("main", 1, "Welcome to Acme Outfitters."), mimetype="text/xml")
        data = current.data
        data["seq"] += 1
        data["node"] = data["session"]["node"] = "order"
        data["session"]["path"].append("order")
        data["session"]["turns"].append({"t": 0.0, "node": "main", "kind": "keys", "text": "1", "confidence": 1.0,
                                         "result": "matched", "intent": "order status"})
        store.save(sid, data, current.version, [{"type": "DigitsPressed", "at": at, "digits": "1"}])
        return Response(prompt("order", data["seq"], PROMPT), mimetype="text/xml")

    return app


# ------------------------------------------------------------------ serving and measuring

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def pss_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1])
    return values.get("Rss:", 0), values.get("Pss:", 0)


@dataclass
class Server:
    """One gunicorn serving one app on 127.0.0.1."""

    name: str
    proc: subprocess.Popen[bytes]
    base: str
    port: int
    log: Path

    def pids(self) -> list[int]:
        return [self.proc.pid, *children(self.proc.pid)]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


#: How every app is served: the repository's gunicorn.conf.py (``--config``), made fit for
#: any app by ``bench_config``; None: gunicorn's defaults with ``-k gthread`` (``--config none``).
CONFIG: Path | None = ROOT / "gunicorn.conf.py"

# The repository's gunicorn settings for any WSGI app: the same worker class, preload,
# logging and access log; its fork hooks only for the support line (a plain Flask app
# has no store or threads to hand over a fork).
_BENCH_CONFIG = """\
import importlib as _importlib
_path = {path!r}
__file__ = _path
exec(compile(open(_path).read(), _path, "exec"))
_line_pre_fork = globals().get("pre_fork")
_line_post_worker_init = globals().get("post_worker_init")


def _is_line(app):
    return "ivr" in getattr(app, "extensions", {{}})


def pre_fork(server, worker):
    if _line_pre_fork is not None and (not server.cfg.preload_app or _is_line(server.app.wsgi())):
        _line_pre_fork(server, worker)


def post_worker_init(worker):
    if _line_post_worker_init is not None and _is_line(worker.wsgi):
        _line_post_worker_init(worker)
"""


def bench_config(workdir: Path) -> Path | None:
    """The gunicorn config file every app of this run is served with (None: the command line only)."""
    if CONFIG is None:
        return None
    path = workdir / "bench.gunicorn.conf.py"
    if not path.exists():
        path.write_text(_BENCH_CONFIG.format(path=str(CONFIG.resolve())))
    return path


def gunicorn_command(factory: str, port: int, workers: int, threads: int, extra: Sequence[str] = (),
                     config: Path | None = None) -> list[str]:
    """gunicorn serving ``factory`` on 127.0.0.1:``port``; with ``config``, its worker class,
    preload and logging (``--workers``/``--threads`` here win, as on any command line)."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    if config is None:
        return [gunicorn, "-k", "gthread", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
                "--keep-alive", "30", "--log-level", "warning", "--no-control-socket", *extra, factory]
    return [gunicorn, "-c", str(config), "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
            "--keep-alive", "30", *extra, factory]


def worker_class(server: Server, wait: float = 30.0) -> str:
    """The worker class the server runs, as gunicorn's log says it ("Using worker: ...")."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for line in server.log.read_text(errors="replace").splitlines():
            if "Using worker:" in line:
                return line.split("Using worker:", 1)[1].strip()
        time.sleep(0.2)
    return "? (not in the log)"


def serve(name: str, factory: str, env: dict[str, str], workers: int, threads: int, workdir: Path,
          extra: Sequence[str] = (), tree: Path = ROOT) -> Server:
    """Start gunicorn in bench/ with the run's config (``bench_config``): every app is served the same way."""
    port = free_port()
    log = workdir / f"{name}.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_", "GUNICORN_"))}
    command = gunicorn_command(factory, port, workers, threads, extra, bench_config(workdir))
    proc = subprocess.Popen(command, cwd=str(BENCH),
                            env={**clean, **env, "PYTHONPATH": f"{tree}:{BENCH}"},
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)
    server = Server(name, proc, f"http://127.0.0.1:{port}", port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            if len(server.pids()) > workers:  # every worker forked
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"gunicorn for {name} did not start; see {log}:\n{log.read_text()[-2000:]}")


def settle(servers: Iterable[Server], quiet: float = 0.05, longest: float = 90.0) -> None:
    """Wait until every server is done starting (its workers load the app after the fork):
    less than ``quiet`` of a core used over one second, so that no round pays for a start."""
    deadline = time.monotonic() + longest
    for server in servers:
        while time.monotonic() < deadline:
            before = server.cpu()
            time.sleep(1.0)
            if server.cpu() - before < quiet:
                break


# ------------------------------------------------------------------ signed requests and wrk

def raw_request(path: str, params: dict[str, str], host: str = "127.0.0.1") -> bytes:
    """An HTTP/1.1 POST as Twilio sends it, signed for ``PUBLIC + path``."""
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    body = urlencode(params).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def call_params(sid: str, caller: str = "+15551230000") -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": caller, "To": DEMO_NUMBER, "Caller": caller,
            "Called": DEMO_NUMBER, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


# Rules of the script: each wrk thread reads its own file of length-prefixed raw requests
# and sends them in order; a thread whose requests run out stops (it never repeats one,
# which the line would answer as a duplicate), and ``done`` prints one JSON line. A 204
# (status callbacks) is a good answer; any other must be 200 with ``expect`` in the body.
WRK_LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  expect = args[2] or "<Response"
  local f = assert(io.open(args[1] .. "/" .. id .. ".req", "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    reqs[#reqs + 1] = data:sub(nl + 1, nl + len)
    pos = nl + 1 + len
  end
  sent, bad, ran_out = 0, 0, 0
  checking = (id == 0)  -- wrk calls request() once on thread 0 to check it before any thread runs
end
function request()
  if checking then
    checking = false
    return reqs[1]
  end
  if sent >= #reqs then
    ran_out = 1
    wrk.thread:stop()
    return reqs[#reqs]
  end
  sent = sent + 1
  return reqs[sent]
end
function response(status, headers, body)
  if status == 204 then return end  -- a status callback answered with nothing to say
  if status ~= 200 or not body:find(expect, 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local per_thread, bads, out = {}, 0, 0
  for _, t in ipairs(threads) do
    table.insert(per_thread, t:get("sent"))
    bads = bads + t:get("bad")
    out = out + t:get("ran_out")
  end
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "bad": %d, "errors": %d, "ran_out": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f, "sent": [%s]}\n',
    summary.requests, summary.duration, bads,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    out, latency:percentile(50), latency:percentile(99), latency.mean, table.concat(per_thread, ",")))
end
"""


def write_requests(folder: Path, per_thread: Sequence[Sequence[bytes]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, requests in enumerate(per_thread):
        with (folder / f"{i}.req").open("wb") as f:
            for raw in requests:
                f.write(f"{len(raw)}\n".encode() + raw)
    return folder


@dataclass
class Part:
    """One measured wrk run against one server."""

    app: str
    kind: str
    requests: int
    seconds: float
    server_cpu: float
    client_cpu: float
    p50_ms: float
    p99_ms: float
    bad: int
    errors: int
    ran_out: int
    sent: list[int] = field(default_factory=list)
    extra_cpu: float = 0.0  # CPU of a helper process the app needs (redis-server), same window
    helper: str = "redis"  # what that helper is

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.server_cpu / self.requests if self.requests else float("nan")


def wrk_available() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: apt-get install wrk (a Python client would be the bottleneck)")
    return wrk


def run_wrk(server: Server, kind: str, folder: Path, seconds: float, threads: int, connections: int,
            workdir: Path, extra_pids: Iterable[int] = (), expect: str = "<Response") -> Part:
    """Send the signed requests in ``folder`` for ``seconds``; an answer that is not 200 or
    lacks ``expect`` counts as bad."""
    script = workdir / "signed.lua"
    if not script.exists():
        script.write_text(WRK_LUA)
    extra = list(extra_pids)
    before, extra_before = server.cpu(), sum(cpu_seconds(p) for p in extra)
    started = time.perf_counter()
    proc = subprocess.Popen([wrk_available(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
                             "--timeout", "15s", "-s", str(script), server.base, "--", str(folder), expect],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    server_cpu = server.cpu() - before
    extra_cpu = sum(cpu_seconds(p) for p in extra) - extra_before
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK-JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{output}")
    r = json.loads(line[len("WRK-JSON "):])
    duration = min(r["duration_us"] / 1e6, wall)
    return Part(server.name, kind, r["requests"], duration, server_cpu, usage.ru_utime + usage.ru_stime,
                r["p50_us"] / 1000, r["p99_us"] / 1000, r["bad"], r["errors"], r["ran_out"], r["sent"], extra_cpu)


def spread(items: Sequence[bytes], n: int) -> list[list[bytes]]:
    return [list(items[i::n]) for i in range(n)]


# ------------------------------------------------------------------ printing

def median(values: Iterable[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def show(part: Part) -> str:
    note = []
    if part.bad or part.errors:
        note.append(f"{part.bad} bad answers, {part.errors} socket errors")
    if part.ran_out:
        note.append("ran out of signed requests: throughput is a lower bound")
    extra = f"  +{part.helper} {1000 * part.extra_cpu / part.requests:5.2f} ms" if part.extra_cpu else ""
    return (f"{part.app:>12s} {part.kind:6s} {part.rps:8.0f} req/s  server CPU {part.cpu_ms:6.2f} ms/req{extra}  "
            f"p50 {part.p50_ms:6.1f} ms  p99 {part.p99_ms:6.1f} ms  client CPU {part.client_cpu:5.2f} s vs "
            f"server {part.server_cpu:5.2f} s  ({part.requests} req{'; ' + '; '.join(note) if note else ''})")


def ratio_lines(parts: list[Part], subject: str, baselines: Sequence[str], kinds: Sequence[str]) -> list[str]:
    lines = []
    for kind in kinds:
        mine = [p for p in parts if p.app == subject and p.kind == kind]
        for base in baselines:
            theirs = [p for p in parts if p.app == base and p.kind == kind]
            if not mine or not theirs:
                continue
            cpu = median(m.cpu_ms / t.cpu_ms for m, t in zip(mine, theirs))
            rps = median(m.rps / t.rps for m, t in zip(mine, theirs))
            lo_cpu = min(m.cpu_ms / t.cpu_ms for m, t in zip(mine, theirs))
            hi_cpu = max(m.cpu_ms / t.cpu_ms for m, t in zip(mine, theirs))
            lo_rps = min(m.rps / t.rps for m, t in zip(mine, theirs))
            hi_rps = max(m.rps / t.rps for m, t in zip(mine, theirs))
            lines.append(f"  {subject}/{base} {kind:6s}  CPU per request {cpu:5.2f}x ({lo_cpu:.2f}-{hi_cpu:.2f})   "
                         f"throughput {rps:5.2f}x ({lo_rps:.2f}-{hi_rps:.2f})")
    return lines


def client_check(parts: list[Part]) -> str:
    client = sum(p.client_cpu for p in parts)
    server = sum(p.server_cpu + p.extra_cpu for p in parts)
    share = client / server if server else float("nan")
    verdict = "the client is not the bottleneck" if share < 0.5 else "CAUTION: the client uses much CPU; figures low"
    return f"client (wrk) CPU {client:.1f} s vs servers {server:.1f} s: {share:.2f} of the servers' ({verdict})"


# ------------------------------------------------------------------ this benchmark

APPS: dict[str, str] = {"line": "webhooks:ivr_app()", "floor": "webhooks:floor_app()", "fair": "webhooks:fair_app()",
                        "bare": "webhooks:bare_app()"}


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(CONFIG), help="the gunicorn config every app is served with "
                        "(default: the repository's gunicorn.conf.py); 'none': -k gthread on the command line")


def use_config(value: str) -> None:
    global CONFIG
    CONFIG = None if value.lower() in ("none", "") else Path(value)


def served_as(server: Server, workers: int, threads: int) -> str:
    how = f"config {CONFIG.relative_to(ROOT) if CONFIG and CONFIG.is_relative_to(ROOT) else CONFIG}" if CONFIG \
        else "no config file"
    kind = worker_class(server) if CONFIG else "gthread (-k gthread)"
    per = f"{threads} threads" if "thread" in kind.lower() else "one event loop"
    return f"every app: gunicorn, {how}, worker class {kind}, {workers} workers x {per}, 127.0.0.1"


def pool(n: int, tag: str) -> list[str]:
    return [f"CA{tag}{uuid.uuid4().hex[:32 - len(tag)]}" for _ in range(n)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="seconds of incoming calls per app per round (steps: 0.6 of it)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--max-rate", type=float, default=9000.0, help="signed requests prepared per second")
    parser.add_argument("--baseline-tree", type=Path, default=None,
                        help="another checkout of the line (e.g. a git worktree of an earlier commit): served as "
                             "'line-base' in the same rounds, for line/line-base")
    add_config_option(parser)
    args = parser.parse_args(argv)
    use_config(args.config)
    wrk_available()
    apps = dict(APPS)
    if args.baseline_tree is not None:
        if not (args.baseline_tree / "ivr" / "web" / "app.py").is_file():
            raise SystemExit(f"--baseline-tree {args.baseline_tree}: no ivr/web/app.py there")
        apps = {"line": APPS["line"], "line-base": APPS["line"], "floor": APPS["floor"], "fair": APPS["fair"],
                "bare": APPS["bare"]}
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-webhooks-"))
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
           "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STORE": f"sqlite:///{workdir / 'calls.sqlite3'}",
           "IVR_VAR_DIR": str(workdir), "IVR_STREAM_SPEECH": "false", "IVR_MODEL_CACHE": str(workdir / "models"),
           "IVR_SECRET_KEY": "bench-secret-key", "BENCH_FAIR_DB": str(workdir / "fair.sqlite3"),
           "BENCH_FLOOR_DB": str(workdir / "floor.sqlite3")}
    servers: dict[str, Server] = {}
    parts: list[Part] = []
    step_path = "/twilio/step?node=main&seq=1"
    try:
        for name, factory in apps.items():
            base = name == "line-base"
            (workdir / name).mkdir()
            own = {**env, "IVR_STORE": f"sqlite:///{workdir / name / 'calls.sqlite3'}", "IVR_VAR_DIR": str(workdir / name)}
            servers[name] = serve(name, factory, own, args.workers, args.threads, workdir,
                                  tree=args.baseline_tree.resolve() if base else ROOT)
        settle(servers.values())
        n_threads, conns = args.wrk_threads, args.connections
        print(served_as(servers["line"], args.workers, args.threads))
        print(f"wrk "
              f"{n_threads} threads x {conns // n_threads} connections; {args.rounds} interleaved rounds; "
              f"{os.cpu_count()} cores, shared and noisy: compare figures of this run only")
        order = list(apps)
        for rnd in range(args.rounds + 1):  # round 0 warms every app up and is not counted
            seconds = 2.0 if rnd == 0 else args.seconds
            print(f"round {rnd}{' (warm-up, not counted)' if rnd == 0 else ''}: {' '.join(order)}")
            for name in order:
                server = servers[name]
                sids = pool(int(args.max_rate * seconds), f"{rnd}{name[0]}")
                folder = write_requests(workdir / f"r{rnd}-{name}-voice",
                                        spread([raw_request("/twilio/voice", call_params(s)) for s in sids], n_threads))
                voice = run_wrk(server, "voice", folder, seconds, n_threads, conns, workdir,
                                expect="seq=1" if name.startswith("line") or name == "floor" else "<Gather")
                # steps for calls the voice part answered (the last few per connection may not have been)
                created: list[str] = []
                per_conn = conns // n_threads
                for t, sent in enumerate(voice.sent):
                    created += sids[t::n_threads][:max(0, sent - per_conn)]
                if not created:  # a slow start (the warm-up on a busy machine): no call to step yet
                    if rnd:
                        raise SystemExit(f"{name} answered no incoming call in {seconds:.0f} s; see {server.log}")
                    print(f"{name:>12s} warm-up: {voice.requests} incoming calls answered, no step measured")
                    continue
                step_params = [{**call_params(s), "CallStatus": "in-progress", "Digits": "1"} for s in created]
                folder = write_requests(workdir / f"r{rnd}-{name}-step",
                                        spread([raw_request(step_path, p) for p in step_params], n_threads))
                step = run_wrk(server, "step", folder, max(1.0, round(seconds * 0.6)), n_threads, conns, workdir,
                               expect="node=order&amp;seq=2" if name.startswith("line") or name == "floor"
                               else "<Gather")
                if rnd:
                    parts += [voice, step]
                    print(show(voice))
                    print(show(step))
            order = order[1:] + order[:1]
        print("median of the rounds:")
        for name in apps:
            for kind in ("voice", "step"):
                mine = [p for p in parts if p.app == name and p.kind == kind]
                print(f"{name:>12s} {kind:6s} {median(p.rps for p in mine):8.0f} req/s  server CPU "
                      f"{median(p.cpu_ms for p in mine):6.2f} ms/req  p50 {median(p.p50_ms for p in mine):6.1f} ms  "
                      f"p99 {median(p.p99_ms for p in mine):6.1f} ms")
        print("ratios (median of the rounds, range in brackets):")
        for line in ratio_lines(parts, "line", ("fair", "bare"), ("voice", "step")):
            print(line)
        for line in ratio_lines(parts, "floor", ("fair",), ("voice", "step")):
            print(line)
        for line in ratio_lines(parts, "line", ("floor",), ("voice", "step")):
            print(line)
        for line in ratio_lines(parts, "line-base", ("fair",), ("voice", "step")):
            print(line)
        for line in ratio_lines(parts, "line", ("line-base",), ("voice", "step")):
            print(line)
        print(client_check(parts))
        bad = sum(p.bad + p.errors for p in parts)
        if bad:
            print(f"{bad} requests failed or got an answer without <Response>")
        return 1 if bad else 0
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
