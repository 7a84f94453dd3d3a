"""A line whose transfers offer calls to agent pools: four agents with languages and
skills, signed in to the console (or not), the app built like production (signed
webhooks, real store, REST mocked with ``responses``)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from handoff_line import PUBLIC, Clock, console, created_legs, serve
from werkzeug.security import generate_password_hash

from ivr.web.services import services

FLOW = """
flow: skills
numbers: ["+15005550006"]
voice: Polly.Joanna
operator: {to: anyone}
max_hold: 600
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for Korean, 2 for an order question, 3 for anyone."
      options:
        - {keys: "1", go: korean}
        - {keys: "2", go: orders}
        - {keys: "3", go: anyone}
  korean:
    transfer:
      to: [{agents: {languages: [ko]}}, {agents: {}}, "+15005550010"]
      reason: "Korean-speaking caller"
      fallback: leave_message
  orders:
    transfer: {to: {agents: {skills: [orders]}}, reason: "Order question", fallback: leave_message}
  anyone:
    transfer: {to: [{agents: {}}], reason: "Asked for a person", fallback: leave_message}
  leave_message:
    voicemail: {prompt: "Nobody can take your call. Please leave a message after the tone.", max_length: 45}
"""

# name: (languages, skills)
AGENTS = {"minji": (["ko", "en"], ["orders"]), "jun": (["ko"], ["billing"]), "sam": (["en"], ["orders", "billing"]),
          "ann": (["en"], [])}


def agents_file(path: Path) -> Path:
    path.write_text("agents:\n" + "".join(
        f"  - name: {name}\n    display_name: {name.title()}\n"
        f"    password_hash: \"{generate_password_hash('sam-correct-horse')}\"\n"
        f"    targets: [\"client:{name}\"]\n    languages: {langs}\n    skills: {skills}\n"
        for name, (langs, skills) in AGENTS.items()))
    return path


def make_app(tmp_path: Path, clock: Clock | None = None, store: str = "", warm: bool = True, public: str = PUBLIC,
             flow: str = FLOW):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "skills.yaml").write_text(flow)
    agents = tmp_path / "agents.yaml"
    if not agents.exists():
        agents_file(agents)
    return serve(tmp_path, flows, agents, warm=warm, clock=clock, public=public, store=store)


def sign_in(app, clock: Clock, *names: str, gap: float = 5.0):
    """Sign these agents in to the console in this order, ``gap`` seconds apart (the first
    is the longest idle); returns their browser-less console sessions."""
    clients = {}
    for name in names:
        clients[name] = console(app, name)
        clock.at += timedelta(seconds=gap)
    return clients


def rung(api) -> list[str]:
    """Who the agent legs made so far rang, in order."""
    return [leg["To"][0] for leg in created_legs(api)]


def presence(app) -> dict[str, str]:
    """Every agent's state as the console shows it."""
    from ivr.web.presence import Desk

    parts = services(app)
    return {row["name"]: row["state"] for row in Desk(parts.agents, parts.store, parts.now).board()}
