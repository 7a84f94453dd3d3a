"""``ivr agents hash`` and ``ivr agents check``: the agent console's sign-ins from the real
``ivr`` command, with and without a terminal."""
from __future__ import annotations

import os
import pty
import select
import time

from cli_run import REPO, ivr_command, run_ivr
from werkzeug.security import check_password_hash

from ivr.web.agents import parse_agents


def hash_from_stdin(text: str):
    import subprocess
    return subprocess.run([*ivr_command(), "agents", "hash"], input=text, capture_output=True, text=True,
                          cwd=REPO, timeout=60)


def test_a_piped_password_is_hashed_for_the_agents_file():
    done = hash_from_stdin("correct horse battery\n")
    assert done.returncode == 0, done.stderr
    digest = done.stdout.strip()
    assert check_password_hash(digest, "correct horse battery")
    roster = parse_agents(f"agents:\n  - name: alice\n    password_hash: \"{digest}\"\n    targets: [client:alice]\n")
    assert roster.agents["alice"].name == "alice"


def test_no_password_is_a_clear_error_without_a_traceback():
    for text in ("", "\n"):
        done = hash_from_stdin(text)
        assert done.returncode == 1
        assert "no password given" in done.stderr and "Traceback" not in done.stderr
        assert done.stdout == ""
    done = hash_from_stdin("short\n")
    assert done.returncode == 1 and "at least 8 characters" in done.stderr


def run_on_a_terminal(*answers: str) -> tuple[int, str]:
    """``ivr agents hash`` with a terminal: type each answer when a prompt appears."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        os.chdir(REPO)
        command = ivr_command()
        os.execv(command[0], [*command, "agents", "hash"])
    prompts = (b"Password:", b"Again:")
    seen, sent = b"", 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed its terminal
            break
        if not chunk:
            break
        seen += chunk
        while sent < len(answers) and prompts[sent] in seen:  # answer each prompt once, as it shows
            os.write(fd, answers[sent].encode() + b"\n")
            sent += 1
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_on_a_terminal_it_asks_twice():
    code, screen = run_on_a_terminal("a long password", "a long password")
    assert code == 0, screen
    assert "Password:" in screen and "Again:" in screen and "a long password" not in screen  # not echoed
    digest = next(line for line in screen.splitlines() if line.startswith("scrypt:")).strip()
    assert check_password_hash(digest, "a long password")
    code, screen = run_on_a_terminal("a long password", "another one!")
    assert code == 1 and "differ" in screen and "scrypt:" not in screen


def test_check_lists_agents_and_says_how_to_make_a_hash():
    done = run_ivr("agents", "check", "agents.example.yaml")
    assert done.returncode == 1
    assert ".venv/bin/ivr agents hash" in done.stderr and "Traceback" not in done.stderr


def test_the_docs_use_the_ivr_command():
    for name in ("README.md", "agents.example.yaml"):
        text = (REPO / name).read_text(encoding="utf-8")
        assert "python -m ivr.web.agents" not in text, name
        assert ".venv/bin/ivr agents hash" in text, name
