"""Every ``ivr`` command a newcomer copies from README.md works as written after ``./dev``:
``ivr`` is not on PATH, so a command line starts with ``.venv/bin/ivr``, and names a command
that exists."""
from __future__ import annotations

import re

from cli_run import REPO

from ivr.cli import COMMANDS


def shell_lines() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(?:sh|bash|console)\n(.*?)^```$", text, re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_commands_use_the_virtualenvs_ivr():
    lines = shell_lines()
    bare = [line for line in lines if re.match(r"(\S+=\S+ )*ivr ", line)]
    assert bare == [], f"README.md tells a newcomer to type 'ivr', which ./dev does not put on PATH: {bare}"
    used = [m.group(1) for line in lines for m in re.finditer(r"\.venv/bin/ivr (\w+)", line)]
    assert used and set(used) <= set(COMMANDS), f"README.md names commands ivr does not have: {set(used) - set(COMMANDS)}"
    assert "python -m ivr.web.agents" not in (REPO / "README.md").read_text(encoding="utf-8")


def test_inline_commands_use_it_too():
    prose = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
             if not line.startswith("|")]  # the command table names commands; prose gives lines to type
    text = "\n".join(prose)
    inline = re.findall(r"`(ivr (?:schema|doctor|agents|call|validate|simulate)[^`]*)`", text)
    copyable = [c for c in inline if ">" in c or "hash" in c]  # a command line, not the name of a command
    assert copyable == [], copyable


def test_two_commands_say_how_to_call_the_demo_line():
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Two commands", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/ivr call acme-support" in section and "var/demo-auth-token" in section
    assert "http://127.0.0.1:8080" in section and "sudo" in section and "requirements/demo.txt" in section
