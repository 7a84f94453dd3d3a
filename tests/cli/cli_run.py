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
