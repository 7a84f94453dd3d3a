"""The agents who may sign in to the console, from the agents file (``IVR_AGENTS_FILE``).

The file is YAML::

    agents:
      - name: alice                      # what she types to sign in
        display_name: Alice Moreno
        password_hash: "scrypt:32768:8:1$..."   # .venv/bin/ivr agents hash
        targets: [client:alice, "+15005550010"] # the transfer targets that ring her
        languages: [en, ko]                # optional: the languages she takes calls in
        skills: [billing, orders]          # optional: what she can help with

Passwords are never in the file, only werkzeug hashes (``generate_password_hash``); a
``password`` key is refused with the command that makes a hash. An agent may act only on
transfer attempts whose target is one of their ``targets``. ``languages`` and ``skills``
decide which agent pools (``{agents: {languages: [ko], skills: [orders]}}`` in a flow's
transfer) an agent belongs to; a pool rings the agent's first target.

Every problem names the file and the line it stands on.

Rules of this file: ``AgentsFile.roster()`` re-reads the file when its modification time
changes, so ops add or remove an agent without a restart; a file that stops being valid
keeps the last good roster and logs why (like a bad flow). ``Roster.sign_in`` spends the
same work on an unknown name as on a wrong password, so a failure does not tell which
part was wrong.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import re
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.model.targets import LANGUAGE, SKILL, AgentPool, rings_a_person
from ivr.store.presence import AgentState

log = logging.getLogger(__name__)

HASH_COMMAND = ".venv/bin/ivr agents hash"
HASH_METHODS = ("scrypt:", "pbkdf2:")
AGENT_KEYS = {"name", "display_name", "password_hash", "targets", "languages", "skills"}
GONE_AFTER = 60.0  # seconds without a sign of the agent's open console (its board's event stream) before they count as away
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TARGET = re.compile(r"^(client:[A-Za-z0-9_.-]+|sip:\S+@\S+|queue:[A-Za-z0-9_.-]+|\+[1-9][0-9]{6,14})$")
EXAMPLE = """agents:
  - name: alice
    display_name: Alice Moreno
    password_hash: "scrypt:32768:8:1$..."     # from: .venv/bin/ivr agents hash
    targets: [client:alice, "+15005550010"]
    languages: [en, ko]                       # optional
    skills: [billing, orders]                 # optional"""


class AgentsError(ValueError):
    """The agents file cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Agent:
    name: str
    display_name: str
    password_hash: str = field(repr=False)
    targets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    def offered(self, target: str) -> bool:
        """Whether a transfer attempt to ``target`` rings this agent."""
        return bool(target) and target in self.targets

    @property
    def dial_target(self) -> str:
        """What an agent pool rings to reach this agent: their first target that rings a
        person (a queue is no one's phone); '' for none, and then no pool offers them calls."""
        return next((target for target in self.targets if rings_a_person(target)), "")

    def describe(self) -> str:
        """One line for ``ivr agents check``: name, targets, languages and skills."""
        extra = [f"{what}: {', '.join(values)}" for what, values in
                 (("languages", self.languages), ("skills", self.skills)) if values]
        return f"{self.name}: {self.display_name} <- {', '.join(self.targets)}" + \
            (f" ({'; '.join(extra)})" if extra else "")


@dataclass(frozen=True)
class Roster:
    agents: dict[str, Agent]
    source: str = ""

    def get(self, name: str) -> Agent | None:
        return self.agents.get(name)

    def in_pool(self, pool: AgentPool) -> list[Agent]:
        """The agents an agent pool may offer a call to (whatever their presence)."""
        return [agent for agent in self.agents.values()
                if agent.dial_target and pool.takes(agent.languages, agent.skills)]

    def sign_in(self, name: str, password: str) -> Agent | None:
        """The agent when ``name`` and ``password`` match, else None (which part failed
        is not told, and an unknown name costs the same hash check as a wrong password)."""
        agent = self.agents.get(name.strip().lower())
        if agent is None:
            check_password_hash(_dummy_hash(), password)
            return None
        return agent if check_password_hash(agent.password_hash, password) else None


def parse_agents(text: str, source: str = "agents file", *, hashes: bool = True) -> Roster:
    """A roster from the YAML text of an agents file; ``AgentsError`` lists every problem,
    each with the line it stands on. ``hashes=False`` (``ivr validate``, which reads only
    who takes which calls) lets a placeholder stand for a password hash."""
    try:
        doc = yaml.safe_load(text)
        lines = _lines(yaml.compose(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)  # where the parser gave up: the file's line and column
        place = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise AgentsError(f"{source}{place}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("agents"), list):
        raise AgentsError(f"{source}: expected a list under 'agents:', like this:\n{EXAMPLE}")
    problems: list[str] = []
    agents: dict[str, Agent] = {}
    for index, entry in enumerate(doc["agents"], 1):
        at = lines[index - 1] if index - 1 < len(lines) else (0, {})
        where = f"{source}:{at[0]}: agent #{index}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected name, display_name, password_hash and targets")
            continue
        name = str(entry.get("name", "")).strip().lower()
        who = f"agent {name or '#' + str(index)!r}"
        agent_problems = _check_entry(entry, name, _where(source, at, who), agents, hashes)
        agent_problems += _check_words(entry, who, source, at[1])
        problems += agent_problems
        if not agent_problems:
            targets = tuple(str(t).strip() for t in entry.get("targets") or ())
            agents[name] = Agent(name, str(entry.get("display_name") or name), str(entry["password_hash"]), targets,
                                 _words(entry.get("languages")), _words(entry.get("skills")))
    if problems:
        raise AgentsError("\n".join(problems))
    if not agents:
        raise AgentsError(f"{source}: no agents; add at least one, like this:\n{EXAMPLE}")
    return Roster(agents, source)


def _check_entry(entry: dict, name: str, where: Callable[[str], str], seen: dict[str, Agent],
                 hashes: bool = True) -> list[str]:
    """The problems of one entry; ``where(key)`` names the file, the line of ``key`` (the
    entry's when it is missing) and the agent."""
    problems = []
    if "password" in entry:
        problems.append(f"{where('password')}: plain passwords are not allowed; replace 'password' with "
                        f"'password_hash' made by: {HASH_COMMAND}")
    unknown = sorted((str(key) for key in set(entry) - AGENT_KEYS - {"password"}), key=str)
    if unknown:
        problems.append(f"{where(unknown[0])}: unknown key(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(sorted(AGENT_KEYS))}")
    if not NAME.match(name):
        problems.append(f"{where('name')}: 'name' must be lower-case letters, digits, '.', '_' or '-'")
    elif name in seen:
        problems.append(f"{where('name')}: the name is used twice")
    digest = str(entry.get("password_hash") or "")
    if hashes and "password" not in entry and not (digest.startswith(HASH_METHODS) and "$" in digest):
        problems.append(f"{where('password_hash')}: 'password_hash' is missing or not a password hash; "
                        f"make one with: {HASH_COMMAND}")
    targets = entry.get("targets")
    if not isinstance(targets, list) or not targets:
        problems.append(f"{where('targets')}: 'targets' must list the transfer targets that ring this agent, "
                        "e.g. [client:alice, \"+15005550010\"]")
    else:
        bad = [str(t) for t in targets if not TARGET.match(str(t).strip())]
        if bad:
            problems.append(f"{where('targets')}: not a transfer target: {', '.join(bad)} "
                            "(use client:NAME, +E164 number, sip:USER@HOST or queue:NAME)")
    return problems


def _where(source: str, at: tuple[int, dict[str, int]], who: str) -> Callable[[str], str]:
    return lambda key: f"{source}:{at[1].get(key, at[0])}: {who}"


def _lines(root: Any) -> list[tuple[int, dict[str, int]]]:
    """For each entry under ``agents:``: its line, and the line of each of its keys."""
    out: list[tuple[int, dict[str, int]]] = []
    if not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        if getattr(key, "value", None) == "agents" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                keys = {str(k.value): v.start_mark.line + 1 for k, v in item.value} \
                    if isinstance(item, yaml.MappingNode) else {}
                out.append((item.start_mark.line + 1, keys))
    return out


def _words(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(str(item).strip().lower() for item in items)


def _check_words(entry: dict, who: str, source: str, lines: Mapping[str, int]) -> list[str]:
    """``languages`` and ``skills``: lists of language codes and skill names."""
    problems = []
    for key, form, example in (("languages", LANGUAGE, "[en, ko]"), ("skills", SKILL, "[billing, orders]")):
        value = entry.get(key)
        if value is None:
            continue
        where = f"{source}:{lines.get(key, 0)}: {who}"
        if not isinstance(value, list) or any(isinstance(v, (dict, list, bool)) or v is None for v in value):
            problems.append(f"{where}: '{key}' must be a list like {example}")
            continue
        bad = [str(v) for v in value if not form.fullmatch(str(v).strip().lower())]
        if bad:
            what = "language codes (en, ko, pt-br)" if key == "languages" else \
                "skill names (lower-case letters, digits, '-' or '_')"
            problems.append(f"{where}: not {what}: {', '.join(bad)}; write '{key}' like {example}")
    return problems


def offer_order(agents: Collection[Agent], presence: Mapping[str, AgentState], offered: Collection[str],
                now: float, gone_after: float = GONE_AFTER) -> list[Agent]:
    """The agents to offer a call to, best first: available, their console seen within
    ``gone_after`` seconds of ``now`` (else they count as away), not offered this call
    before (``offered``), longest idle first (ties by name). Pure: presence is read by the
    caller, and each agent is claimed in the store before they are rung."""
    ready = [agent for agent in agents if agent.name not in offered
             and (state := presence.get(agent.name)) is not None and state.free(now, gone_after)]
    return sorted(ready, key=lambda agent: (presence[agent.name].since, agent.name))


class AgentsFile:
    """The agents file named by the settings; ``roster()`` is None while there is none."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self.problem = "" if path else "IVR_AGENTS_FILE is not set"
        self._roster: Roster | None = None
        self._mtime: float | None = None
        self.roster()

    def roster(self) -> Roster | None:
        if self.path is None:
            return None
        try:
            mtime = self.path.stat().st_mtime
        except OSError as exc:
            self.problem = f"cannot read {self.path}: {exc.strerror or exc}"
            return self._roster
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self._roster = parse_agents(self.path.read_text(encoding="utf-8"), str(self.path))
                self.problem = ""
            except (AgentsError, OSError, UnicodeDecodeError) as exc:
                self.problem = str(exc)
                log.error("console sign-in: %s%s", exc,
                          "; the previous list of agents stays in use" if self._roster else "")
        return self._roster


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(generate_password_hash("not a password of anybody"))
    return _DUMMY[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr.web.agents",
                                     description="Manage the agent console's agents file.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("hash", help="print a password hash for an agents file entry",
                       description="Ask for a password (twice) and print its hash for 'password_hash:'. "
                       "Example: python -m ivr.web.agents hash")
    p.add_argument("--stdin", action="store_true", help="read the password from the first line of stdin")
    p = sub.add_parser("check", help="check an agents file",
                       description="Check an agents file. Example: python -m ivr.web.agents check agents.yaml")
    p.add_argument("file")
    args = parser.parse_args(argv)
    if args.command == "hash":
        if args.stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != password:
                print("The two passwords differ; nothing printed.", file=sys.stderr)
                return 1
        if len(password) < 8:
            print("Use at least 8 characters.", file=sys.stderr)
            return 1
        print(generate_password_hash(password))
        return 0
    try:
        roster = parse_agents(Path(args.file).read_text(encoding="utf-8"), args.file)
    except (AgentsError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    for agent in roster.agents.values():
        print(agent.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
