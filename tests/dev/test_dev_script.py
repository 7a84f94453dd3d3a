"""The ``dev`` script's machinery, run for real with fake ``apt-get``, ``apt-cache``, ``dpkg``,
``id``, ``sudo`` and virtualenv Python earlier on PATH: what it says before installing, how it
waits for another apt, sudo only when not root, a clear error without either, the browser
for the console tests, the demo token, and which lock satisfies which command."""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "dirname", "sed", "cat", "mkdir", "chmod", "env", "ls", "cut", "sha256sum", "rm", "tr", "head")


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def machine(tmp_path):
    """A PATH of fakes that log what they were asked into ``log``, plus the few real tools needed."""
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.write_text("")
    for tool in TOOLS:
        real = shutil.which(tool)
        assert real, tool
        (bin_dir / tool).symlink_to(real)
    fake(bin_dir, "id", 'echo "${FAKE_UID:-1000}"\n')
    fake(bin_dir, "dpkg", f'for p in $FAKE_INSTALLED; do [ "$2" = "$p" ] && exit 0; done\nexit 1\n')
    fake(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n')
    fake(bin_dir, "apt-cache", 'echo "$2:"; echo "  Installed: (none)"; echo "  Candidate: ${FAKE_CANDIDATE:-(none)}"\n')
    fake(bin_dir, "sudo", f'echo "sudo $*" >> {log}\n[ "$1" = -n ] && shift\nexec "$@"\n')
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake(venv / "bin", "python", f'echo "python $*" >> {log}\n')

    def run(script: str, *, sudo: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        if not sudo:
            (bin_dir / "sudo").unlink(missing_ok=True)
        environ = {"PATH": str(bin_dir), "HOME": str(tmp_path), "FAKE_INSTALLED": "", **env}
        return subprocess.run(["bash", "-c", f"source ./dev; VENV={venv}; {script}"], cwd=REPO, env=environ,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    run.log = log  # type: ignore[attr-defined]
    return run


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines()


def test_not_root_says_it_uses_sudo_and_waits_for_another_apt(machine):
    done = machine("need_apt espeak-ng sox", FAKE_INSTALLED="espeak-ng")
    assert done.returncode == 0, done.stderr
    assert "installing Debian packages: sox" in done.stdout and "with sudo" in done.stdout
    assert "apt-get -o DPkg::Lock::Timeout=300 install -y sox" in done.stdout  # how, before it happens
    log = lines(machine.log)
    assert "sudo -n apt-get -o DPkg::Lock::Timeout=300 update -qq" in log  # no terminal: sudo must not ask
    assert any(line.startswith("apt-get -o DPkg::Lock::Timeout=300 install -y -qq sox") for line in log)


def test_root_needs_no_sudo_and_nothing_missing_installs_nothing(machine):
    done = machine("need_apt sox", FAKE_UID="0")
    assert done.returncode == 0, done.stderr
    assert not any(line.startswith("sudo") for line in lines(machine.log))
    assert "apt-get -o DPkg::Lock::Timeout=300 install -y -qq sox" in lines(machine.log)
    machine.log.write_text("")
    assert machine("need_apt sox", FAKE_INSTALLED="sox").returncode == 0 and lines(machine.log) == []


def test_neither_root_nor_sudo_is_a_clear_error(machine):
    done = machine("need_apt sox graphviz", sudo=False)
    assert done.returncode == 1
    assert "missing: sox graphviz" in done.stderr and "sudo is not installed" in done.stderr
    assert "apt-get install -y sox graphviz" in done.stderr
    assert lines(machine.log) == []


def test_a_failing_apt_says_what_to_install(machine, tmp_path):
    fake(tmp_path / "bin", "apt-get", "exit 100\n")
    done = machine("need_apt sox", FAKE_UID="0")
    assert done.returncode == 1 and "apt-get could not install sox" in done.stderr


def test_chromium_from_apt_where_it_is_offered(machine, tmp_path):
    done = machine(f"CHROMIUM={tmp_path}/none; need_browser", FAKE_UID="0", FAKE_CANDIDATE="120.0-1",
                   PLAYWRIGHT_BROWSERS_PATH=str(tmp_path / "pw"))
    assert done.returncode == 0, done.stderr
    assert "apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium" in lines(machine.log)
    assert not any(line.startswith("python") for line in lines(machine.log))


def test_without_chromium_in_apt_playwright_brings_its_own(machine, tmp_path):
    done = machine(f"CHROMIUM={tmp_path}/none; need_browser", FAKE_CANDIDATE="(none)",
                   PLAYWRIGHT_BROWSERS_PATH=str(tmp_path / "pw"))
    assert done.returncode == 0, done.stderr
    assert "apt offers no 'chromium' package here" in done.stdout
    log = lines(machine.log)
    assert any(re.fullmatch(r"sudo -n .*/python -m playwright install-deps chromium", line) for line in log)
    assert "python -m playwright install chromium" in log  # as the user: the browser lands in their cache
    assert not any("install -y -qq chromium" in line for line in log)


def test_a_browser_already_there_is_used_as_it_is(machine, tmp_path):
    own = tmp_path / "pw" / "chromium-1200" / "chrome-linux" / "chrome"
    own.parent.mkdir(parents=True)
    own.write_text("")
    done = machine(f"CHROMIUM={tmp_path}/none; need_browser", PLAYWRIGHT_BROWSERS_PATH=str(tmp_path / "pw"))
    assert done.returncode == 0 and lines(machine.log) == []


def test_the_demo_token_is_made_once_private_and_kept(tmp_path):
    script = f'source ./dev; VENV={REPO / ".venv"}; demo_token; echo "${{TWILIO_AUTH_TOKEN_FILE:-}}|$DEMO_TOKEN"'
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env["IVR_VAR_DIR"] = str(tmp_path / "var")

    def run(**extra: str) -> str:
        done = subprocess.run(["bash", "-c", script], cwd=REPO, env={**env, **extra}, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    path_, shown = run().split("|")
    token = Path(path_)
    assert token == tmp_path / "var" / "demo-auth-token" and shown.endswith("demo-auth-token")
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text().strip()) == 64
    first = token.read_text()
    run()
    assert token.read_text() == first  # reused on later starts
    assert run(TWILIO_AUTH_TOKEN="a-real-one") == "|"  # a real token: no demo token at all


def test_the_demo_secret_key_is_made_once_private_and_kept(tmp_path):
    """Console sign-ins that survive a restart and the caller memory of the demo line need a stable key."""
    script = f'source ./dev; VENV={REPO / ".venv"}; demo_secret; echo "${{IVR_SECRET_KEY_FILE:-}}"'
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_SECRET_KEY")}
    env["IVR_VAR_DIR"] = str(tmp_path / "var")

    def run(**extra: str) -> str:
        done = subprocess.run(["bash", "-c", script], cwd=REPO, env={**env, **extra}, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    key = Path(run())
    assert key == tmp_path / "var" / "demo-secret-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    first = key.read_text()
    run()
    assert key.read_text() == first  # the same key at every start: sign-ins and remembered callers survive
    assert run(IVR_SECRET_KEY="ops-own") == ""  # a key of the operator's: nothing made


@pytest.mark.parametrize("installed, wanted, reinstalls", [
    ("run", "run", False), ("run", "demo", True), ("demo", "run", False), ("demo", "demo", False),
    ("test", "demo", False), ("demo", "test", True), ("", "demo", True)])
def test_the_stamp_says_which_lock_is_installed(tmp_path, installed, wanted, reinstalls):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake(venv / "bin", "python", f'echo "python $*" >> {tmp_path}/log\n')
    (tmp_path / "log").write_text("")
    if installed:
        (venv / ".ivr-lock").write_text(f"{installed} HASH\n")
    script = f"source ./dev; VENV={venv}; make_venv() {{ :; }}; lock_hash() {{ echo HASH; }}; python_env {wanted}"
    done = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pip = (tmp_path / "log").read_text()
    assert (f"-r requirements/{wanted}.txt" in pip) == reinstalls, pip
    assert (venv / ".ivr-lock").read_text().strip() == (f"{wanted} HASH" if reinstalls else f"{installed} HASH")
