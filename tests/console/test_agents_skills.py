"""Languages and skills in the agents file: read, matched by agent pools, and every
mistake reported with the line it stands on (by the parser, ``ivr agents check`` and the
running server's re-read, which keeps the last good list)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from console_support import ROOT
from werkzeug.security import generate_password_hash

from ivr.model.targets import AgentPool
from ivr.web.agents import AgentsError, AgentsFile, parse_agents

HASH = generate_password_hash("s3cret-enough", method="pbkdf2:sha256:1000")
GOOD = f"""agents:
  - name: minji
    display_name: Minji Park
    password_hash: "{HASH}"
    targets: [client:minji, "+15005550011"]
    languages: [ko, EN]
    skills: [orders]
  - name: sam
    display_name: Sam Lee
    password_hash: "{HASH}"
    targets: [client:sam]
"""


def test_languages_and_skills_are_read_and_pools_match_on_them():
    roster = parse_agents(GOOD)
    minji, sam = roster.get("minji"), roster.get("sam")
    assert minji.languages == ("ko", "en") and minji.skills == ("orders",) and minji.dial_target == "client:minji"
    assert sam.languages == () and sam.skills == ()
    assert [a.name for a in roster.in_pool(AgentPool(("ko",)))] == ["minji"]
    assert [a.name for a in roster.in_pool(AgentPool((), ("orders",)))] == ["minji"]
    assert [a.name for a in roster.in_pool(AgentPool(("ko",), ("billing",)))] == []
    assert [a.name for a in roster.in_pool(AgentPool())] == ["minji", "sam"]


@pytest.mark.parametrize("line, expected", [
    ("    languages: [ko, korean]", "agents.yaml:6: agent 'minji': not language codes (en, ko, pt-br): korean"),
    ("    languages: ko", "agents.yaml:6: agent 'minji': 'languages' must be a list like [en, ko]"),
    ("    skills: [Order Desk]", "agents.yaml:6: agent 'minji': not skill names"),
    ("    skils: [orders]", "agents.yaml:6: agent 'minji': unknown key(s) skils"),
    ("    password: hunter22", "agents.yaml:6: agent 'minji': plain passwords are not allowed"),
])
def test_a_bad_language_skill_or_key_is_reported_with_its_line(line, expected):
    text = GOOD.replace("    languages: [ko, EN]\n    skills: [orders]", line)
    assert text != GOOD
    with pytest.raises(AgentsError) as error:
        parse_agents(text, "agents.yaml")
    assert expected in str(error.value)


def test_the_server_keeps_the_last_good_list_when_a_skill_goes_wrong(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(GOOD)
    agents = AgentsFile(path)
    assert agents.roster().get("minji").skills == ("orders",)
    path.write_text(GOOD.replace("skills: [orders]", "skills: [orders, {bad: 1}]"))
    os.utime(path, (1, 1))
    assert agents.roster().get("minji").skills == ("orders",)  # the last good roster stays
    assert "agents.yaml:7" in agents.problem and "'skills' must be a list" in agents.problem


def test_ivr_agents_check_lists_languages_and_skills_and_names_the_bad_line(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(GOOD)
    ivr = [sys.executable, "-m", "ivr.cli", "agents", "check", str(path)]
    checked = subprocess.run(ivr, capture_output=True, text=True, cwd=ROOT)
    assert checked.returncode == 0, checked.stderr
    assert "minji: Minji Park <- client:minji, +15005550011 (languages: ko, en; skills: orders)" in checked.stdout
    path.write_text(GOOD.replace("languages: [ko, EN]", "languages: [klingon-language-x]"))
    bad = subprocess.run(ivr, capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and f"{path}:6: agent 'minji'" in bad.stderr and "klingon" in bad.stderr


def test_a_bad_target_is_reported_on_its_own_line():
    text = GOOD.replace('targets: [client:minji, "+15005550011"]', "targets: [minji]")
    with pytest.raises(AgentsError) as error:
        parse_agents(text, "agents.yaml")
    assert "agents.yaml:5: agent 'minji': not a transfer target: minji" in str(error.value)


def test_a_pool_rings_an_agents_first_phone_never_a_queue_and_skips_an_agent_with_only_a_queue():
    roster = parse_agents(GOOD.replace('targets: [client:minji, "+15005550011"]',
                                       'targets: [queue:desk, "+15005550011"]')
                         .replace("targets: [client:sam]", "targets: [queue:sales]"))
    assert roster.get("minji").dial_target == "+15005550011"
    assert [a.name for a in roster.in_pool(AgentPool())] == ["minji"]
