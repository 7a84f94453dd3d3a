"""Run the real ``ivr`` command in a subprocess, as ops type it (not a conftest: the
flow tests import their own ``conftest`` by that name)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def ivr_command() -> list[str]:
    script = REPO / ".venv" / "bin" / "ivr"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ivr.cli"]


def run_ivr(*args: str, cwd: Path = REPO, timeout: float = 120, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ivr_command(), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``ivr serve`` running in a subprocess on a free port; ``stop()`` returns what it printed."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int | None = None) -> None:
        import os
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.output: str | None = None
        self.process = subprocess.Popen([*ivr_command(), "serve", "--port", str(self.port)], cwd=cwd,
                                        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)

    def wait_ready(self, timeout: float = 60) -> bool:
        import time
        import requests
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                requests.get(self.base + "/healthz", timeout=1)
                return True
            except requests.RequestException:
                time.sleep(0.2)
        return False

    def stop(self) -> str:
        if self.output is not None:
            return self.output
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        out, _ = self.process.communicate()
        self.output = out or ""
        return self.output
