"""The lock files ./dev installs from: every package pinned to one version with its hashes,
the test lock a superset of the run lock at the same versions, both covering pyproject.toml's
dependencies, and no torch."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    """name -> version, checking that every requirement carries at least one sha256 hash."""
    found: dict[str, str] = {}
    name = ""
    for line in (REQUIREMENTS / lock).read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            name = canonical(match.group(1))
            assert name not in found, f"{lock}: {name} pinned twice"
            found[name] = match.group(2)
        elif line.strip().startswith("--hash=sha256:"):
            found.setdefault(f"{name} hashed", "yes")
        elif line and not line.startswith(("#", " ")):
            pytest.fail(f"{lock}: a requirement that is not pinned with ==: {line!r}")
    unhashed = [n for n in found if " " not in n and f"{n} hashed" not in found]
    assert not unhashed, f"{lock}: no --hash for {unhashed}; run ./dev lock"
    return {n: v for n, v in found.items() if " " not in n}


def declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {canonical(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in specs}


def test_the_run_lock_pins_every_runtime_dependency():
    missing = declared() - set(pins("run.txt"))
    assert not missing, f"requirements/run.txt lacks {sorted(missing)}: run ./dev lock"


def test_the_test_lock_pins_the_test_extra_and_the_run_lock_at_the_same_versions():
    run, test = pins("run.txt"), pins("test.txt")
    missing = (declared() | declared("test")) - set(test)
    assert not missing, f"requirements/test.txt lacks {sorted(missing)}: run ./dev lock"
    differ = {name: (version, test.get(name)) for name, version in run.items() if test.get(name) != version}
    assert not differ, f"the test lock differs from the run lock (run, test): {differ}; run ./dev lock"


def test_no_lock_pulls_in_torch():
    for lock in ("run.txt", "test.txt"):
        heavy = [name for name in pins(lock) if name == "torch" or name.startswith("nvidia-")]
        assert not heavy, f"{lock} pulls in {heavy}"


def test_the_lock_tool_is_pinned_too():
    assert set(pins("uv.txt")) == {"uv"}
    assert (REQUIREMENTS / "uv.in").read_text(encoding="utf-8").strip() == f"uv=={pins('uv.txt')['uv']}"
