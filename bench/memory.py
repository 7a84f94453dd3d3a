"""What caller memory costs a call's first webhook: the line with memory against the same
line without, in the same process, in interleaved rounds.

    .venv/bin/python bench/memory.py [--rounds 5] [--calls 200] [--records-url URL]

Two apps made by ``ivr.web.app.create_app`` from the demo flows (which opt in to
``memory:``), each with its own SQLite store and call records:

* ``remembering``: ``IVR_MEMORY_KEY`` set; every call comes from one of 50 callers the
  line already knows (a profile of three earlier calls each, written beforehand), so the
  incoming-call webhook reads a profile from the records (under its deadline) and the
  engine greets the caller with the shortcut to their last topic;
* ``forgetting``: no key: memory is off, the caller hears the menu.

Each round sends ``--calls`` signed incoming-call webhooks (``POST /twilio/voice``,
distinct CallSids) to each app through Flask's test client; the order of the apps turns
every round. Printed per round and as the median: calls/s and CPU ms per call (this
process's user + system time: the server's work plus the same test-client overhead on
both sides), and the ratio remembering/forgetting of each. ``--records-url`` puts the
remembering line's records on PostgreSQL (``postgresql://...``) instead of SQLite.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.records.memory import caller_key  # noqa: E402
from ivr.testing.signing import compute_signature  # noqa: E402
from ivr.web.app import create_app  # noqa: E402
from ivr.web.services import services  # noqa: E402

TOKEN = "bench-auth-token-0123456789"
PUBLIC = "https://ivr.example.com"
KEY = "bench-memory-key-0123456789"
DEMO_NUMBER = "+15005550006"
OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday morning in New York: the line is open
CALLERS = [f"+1555{n:07d}" for n in range(50)]


def make(folder: Path, remembering: bool, records_url: str = "") -> Any:
    config = {
        "TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
        "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STORE": f"sqlite:///{folder / 'calls.sqlite3'}",
        "IVR_VAR_DIR": str(folder), "IVR_STREAM_SPEECH": "false", "IVR_VOSK_MODEL": "",
        "IVR_SECRET_KEY": "", "IVR_MEMORY_KEY": KEY if remembering else "",
        "IVR_RECORDS_URL": records_url or f"sqlite:///{folder / 'records.sqlite3'}",
    }
    app = create_app(config)
    services(app).clock = lambda: OPEN
    if remembering:
        memory = services(app).keeper.memory
        for number in CALLERS:
            for minutes, topic in ((300, "store hours"), (200, "account balance"), (100, "order status")):
                memory.remember(caller_key(number, KEY), {"topic": topic, "slots": {"order_id": "123456"},
                                                          "outcome": "contained", "language": "en-US"},
                                call_sid=f"CA{uuid.uuid4().hex}", flow="acme-support",
                                at=OPEN - timedelta(minutes=minutes), retention_days=90)
    return app


def one_round(app: Any, calls: int) -> tuple[float, float]:
    """(calls per second, CPU ms per call) for ``calls`` incoming-call webhooks."""
    client = app.test_client()
    requests = []
    for n in range(calls):
        form = {"CallSid": f"CA{uuid.uuid4().hex}", "AccountSid": "AC" + "0" * 32, "From": CALLERS[n % len(CALLERS)],
                "To": DEMO_NUMBER, "CallStatus": "ringing", "Direction": "inbound"}
        requests.append((form, compute_signature(TOKEN, PUBLIC + "/twilio/voice", form)))
    wall, cpu = time.perf_counter(), time.process_time()
    for form, signature in requests:
        reply = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature},
                            base_url=PUBLIC)
        assert reply.status_code == 200, reply.status_code
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return calls / wall, cpu * 1000 / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--records-url", default="", help="the remembering line's records (default: SQLite)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "r").mkdir()
        (folder / "f").mkdir()
        apps = {"remembering": make(folder / "r", True, args.records_url), "forgetting": make(folder / "f", False)}
        check = apps["remembering"].test_client()
        form = {"CallSid": "CAcheck", "AccountSid": "AC" + "0" * 32, "From": CALLERS[0], "To": DEMO_NUMBER}
        said = check.post("/twilio/voice", data=form, base_url=PUBLIC,
                          headers={"X-Twilio-Signature": compute_signature(TOKEN, PUBLIC + "/twilio/voice", form)})
        assert b"Welcome back" in said.data, "the remembering line did not recognise its caller"
        one_round(apps["remembering"], 20)  # warm both (first imports, connections)
        one_round(apps["forgetting"], 20)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in apps}
        print(f"{'round':>5}  {'app':<12}{'calls/s':>10}{'CPU ms/call':>13}")
        for r in range(args.rounds):
            order = list(apps) if r % 2 == 0 else list(reversed(apps))
            for name in order:
                rate, cpu = one_round(apps[name], args.calls)
                results[name].append((rate, cpu))
                print(f"{r + 1:>5}  {name:<12}{rate:>10.1f}{cpu:>13.2f}")
        med = {name: (statistics.median(x[0] for x in rows), statistics.median(x[1] for x in rows))
               for name, rows in results.items()}
        print()
        for name, (rate, cpu) in med.items():
            print(f"median  {name:<12}{rate:>10.1f}{cpu:>13.2f}")
        print(f"ratio remembering/forgetting: throughput {med['remembering'][0] / med['forgetting'][0]:.2f}, "
              f"CPU per call {med['remembering'][1] / med['forgetting'][1]:.2f}")
        for app in apps.values():
            services(app).background.wait_idle()
            if services(app).keeper is not None:
                services(app).keeper.records.close()
            services(app).store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
