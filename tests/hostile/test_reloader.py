"""The flow reloader never makes one reload wait for another, and never parses a folder
that has not changed (modification time, size and content hash of every file)."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from ivr.web.app import create_app
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]


def _line(tmp_path: Path):
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "call_flows", flows)
    app = create_app({"TWILIO_AUTH_TOKEN": "t", "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/c.sqlite3", "IVR_SECRET_KEY": "k",
                      "IVR_FLOWS_DIR": str(flows), "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STREAM_SPEECH": "false"})
    return app, flows


class CountingLoads:
    """The library's own reload, counted, and held at a gate when one is set."""

    def __init__(self, library) -> None:
        self.real = library.reload
        self.count = 0
        self.gate: threading.Event | None = None
        self.inside = threading.Event()
        library.reload = self

    def __call__(self):
        self.count += 1
        self.inside.set()
        if self.gate is not None:
            self.gate.wait(10)
        return self.real()


def test_an_unchanged_folder_is_not_parsed_again(tmp_path):
    app, flows = _line(tmp_path)
    reloader = services(app).reloader
    loads = CountingLoads(services(app).library)
    first = reloader.reload("test")
    assert loads.count == 1 and first["ok"]
    again = reloader.reload("test")
    assert loads.count == 1 and again["unchanged"] and again["flows"] == first["flows"]
    path = flows / "acme-support.yaml"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))  # touched
    reloader.reload("test")
    assert loads.count == 2


def test_a_reload_asked_during_a_slow_load_answers_at_once_and_is_done_after_it(tmp_path):
    app, flows = _line(tmp_path)
    reloader = services(app).reloader
    loads = CountingLoads(services(app).library)
    loads.gate = threading.Event()
    slow = threading.Thread(target=reloader.reload, args=("slow",))
    slow.start()
    assert loads.inside.wait(5)
    (flows / "acme-support.yaml").write_text((flows / "acme-support.yaml").read_text() + "\n# edited\n")
    began = time.monotonic()
    answer = reloader.reload("while the slow one runs")
    assert time.monotonic() - began < 0.5 and answer["running"]
    reply = app.test_client().get("/healthz")  # the line answers meanwhile
    assert reply.status_code == 200
    loads.gate.set()
    slow.join(10)
    assert loads.count == 2  # the change made during the slow load was loaded after it
    assert reloader.reload("afterwards")["unchanged"]
