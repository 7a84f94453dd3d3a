"""The agents file: hashed passwords only, clear errors, re-read on change."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from console_support import ROOT
from werkzeug.security import generate_password_hash

from ivr.web.agents import AgentsError, AgentsFile, parse_agents

HASH = generate_password_hash("s3cret-enough", method="pbkdf2:sha256:1000")


def entry(**fields) -> str:
    base = {"name": "alice", "display_name": "Alice", "password_hash": HASH, "targets": '["client:alice"]'}
    base.update(fields)
    return "agents:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in base.items() if v is not None) + "\n"


def test_a_good_file_gives_agents_who_sign_in_with_their_password():
    roster = parse_agents(entry(targets='[client:alice, "+15005550010", "sip:desk@pbx.example.com"]'))
    alice = roster.get("alice")
    assert alice.targets == ("client:alice", "+15005550010", "sip:desk@pbx.example.com")
    assert roster.sign_in("alice", "s3cret-enough") is alice
    assert roster.sign_in(" Alice ", "s3cret-enough") is alice
    assert roster.sign_in("alice", "wrong") is None and roster.sign_in("nobody", "s3cret-enough") is None
    assert alice.offered("client:alice") and not alice.offered("client:bob") and not alice.offered("")
    assert HASH not in repr(alice)


@pytest.mark.parametrize("text, expected", [
    (entry(password_hash=None, password="hunter22"), "plain passwords are not allowed"),
    (entry(password_hash="hunter22"), "not a password hash; make one with: .venv/bin/ivr agents hash"),
    (entry(targets='["alice"]'), "not a transfer target: alice"),
    (entry(targets="[]"), "'targets' must list"),
    (entry(name="Not A Name!"), "'name' must be"),
    (entry(role="admin"), "unknown key(s) role"),
    (entry() + entry().replace("agents:\n", ""), "the name is used twice"),
    ("agents: [", "not valid YAML"),
    ("people: []", "expected a list under 'agents:'"),
    ("agents: []", "no agents"),
])
def test_a_bad_file_is_refused_with_the_fix(text, expected):
    with pytest.raises(AgentsError) as error:
        parse_agents(text, "agents.yaml")
    assert expected in str(error.value) and "agents.yaml" in str(error.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(AgentsError) as error:
        parse_agents(entry(password_hash="x", targets='["nope"]'))
    assert "password_hash" in str(error.value) and "nope" in str(error.value)


def test_the_example_file_needs_real_hashes_and_then_loads():
    text = (ROOT / "agents.example.yaml").read_text()
    with pytest.raises(AgentsError, match=".venv/bin/ivr agents hash"):
        parse_agents(text)
    filled = text.replace('"REPLACE-ME: .venv/bin/ivr agents hash"', f'"{HASH}"')
    roster = parse_agents(filled)
    assert set(roster.agents) == {"alice", "sam"} and roster.sign_in("sam", "s3cret-enough")


def test_the_file_is_reread_when_it_changes_and_a_broken_edit_keeps_the_last_good_one(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(entry())
    agents = AgentsFile(path)
    assert set(agents.roster().agents) == {"alice"}
    path.write_text(entry(name="bob"))
    os.utime(path, (10, 10))
    assert set(agents.roster().agents) == {"bob"}
    path.write_text("agents: [")
    os.utime(path, (20, 20))
    assert set(agents.roster().agents) == {"bob"} and "not valid YAML" in agents.problem
    assert AgentsFile(None).roster() is None and "IVR_AGENTS_FILE" in AgentsFile(None).problem
    missing = AgentsFile(tmp_path / "nope.yaml")
    assert missing.roster() is None and "cannot read" in missing.problem


def test_the_hash_command_prints_a_hash_the_file_accepts(tmp_path):
    made = subprocess.run([sys.executable, "-m", "ivr.web.agents", "hash", "--stdin"], input="correct horse\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    assert "correct horse" not in made
    path = tmp_path / "agents.yaml"
    path.write_text(entry(password_hash=f'"{made}"'))
    assert parse_agents(path.read_text()).sign_in("alice", "correct horse")
    checked = subprocess.run([sys.executable, "-m", "ivr.web.agents", "check", str(path)],
                             capture_output=True, text=True)
    assert checked.returncode == 0 and "alice: Alice <- client:alice" in checked.stdout
    short = subprocess.run([sys.executable, "-m", "ivr.web.agents", "hash", "--stdin"], input="short\n",
                           capture_output=True, text=True)
    assert short.returncode == 1 and not short.stdout
