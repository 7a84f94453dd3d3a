"""Where a transfer can send a caller: the written forms of a target.

``+15551234567`` (E.164), ``client:NAME`` (a Twilio Client app), ``sip:user@host``,
``queue:NAME`` (``<Enqueue>``), ``flex:WW...`` (a TaskRouter workflow) and a pool of
agents chosen by presence (``AgentPool``: written ``{agents: {languages: [ko], skills:
[orders]}}`` in a flow, kept as the text ``agents:languages=ko;skills=orders``).

An agent pool matches an agent who speaks ANY of its languages (none named: any agent)
and has ALL of its skills. Which available agent gets the call is decided by the web
shell when each attempt is dialled (``ivr.web.agents.offer_order``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["AGENT_POOL_HINT", "AgentPool", "AgentsOnFile", "LANGUAGE", "SKILL", "TARGET_FORMS", "TARGET_HINT", "rings_a_person",
           "target_kind"]

LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")  # en, ko, pt-br (lower case)
SKILL = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_LIST = r"[a-z0-9][a-z0-9_,-]*"
TARGET_FORMS: dict[str, re.Pattern[str]] = {
    "number": re.compile(r"\+[1-9]\d{6,14}"),
    "client": re.compile(r"client:[A-Za-z0-9_.@-]{1,121}"),
    "sip": re.compile(r"sip:[^@\s]+@[A-Za-z0-9.-]+(:\d+)?(;[^\s]*)?"),
    "queue": re.compile(r"queue:[A-Za-z0-9 _.-]{1,64}"),
    "flex": re.compile(r"flex:WW[0-9a-fA-F]{32}"),
    "agents": re.compile(rf"agents:(languages={_LIST})?;?(skills={_LIST})?"),
}
TARGET_HINT = ("use +15551234567 (E.164), client:NAME, sip:user@host, queue:NAME, flex:WORKFLOW_SID "
               "or {agents: {languages: [ko], skills: [orders]}}")
AGENT_POOL_HINT = "e.g. {agents: {languages: [ko], skills: [orders]}}: languages like en or ko, skills like billing"


@dataclass(frozen=True)
class AgentPool:
    """The agents a transfer attempt may be offered to: who speaks any of ``languages``
    (all agents when empty) and has every one of ``skills``."""

    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """The pool as a transfer target's text (sorted, so equal pools read the same)."""
        parts = [f"{key}={','.join(sorted(set(values)))}" for key, values in
                 (("languages", self.languages), ("skills", self.skills)) if values]
        return "agents:" + ";".join(parts)

    @classmethod
    def of(cls, target: str) -> AgentPool | None:
        """The pool a target's text names; None when it is not a pool."""
        if target_kind(target) != "agents":
            return None
        found: dict[str, tuple[str, ...]] = {}
        for part in filter(None, target.split(":", 1)[1].split(";")):
            key, _, values = part.partition("=")
            found[key] = tuple(v for v in values.split(",") if v)
        return cls(found.get("languages", ()), found.get("skills", ()))

    def takes(self, languages: tuple[str, ...], skills: tuple[str, ...]) -> bool:
        """Whether an agent with these languages and skills may be offered the call."""
        spoken = {language.split("-")[0] for language in languages}
        speaks = not self.languages or any(language.split("-")[0] in spoken for language in self.languages)
        return speaks and set(self.skills) <= set(skills)

    def describe(self) -> str:
        """How a person reads the pool: "agents speaking ko with orders"."""
        words = ["agents"]
        if self.languages:
            words.append("speaking " + " or ".join(self.languages))
        if self.skills:
            words.append("with " + " and ".join(self.skills))
        return " ".join(words) if len(words) > 1 else "any agent"


@dataclass(frozen=True)
class AgentsOnFile:
    """The agents of an agents file as ``ivr validate --agents FILE`` checks pools
    against them: the file's name and each agent's (languages, skills), for the agents
    a pool can ring. Presence is live and not checked; only who could ever take a call."""

    source: str
    agents: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]

    def languages(self) -> list[str]:
        return sorted({language for languages, _ in self.agents for language in languages})

    def skills(self) -> list[str]:
        return sorted({skill for _, skills in self.agents for skill in skills})


def target_kind(target: str) -> str | None:
    """``number``, ``client``, ``sip``, ``queue``, ``flex`` or ``agents``; None for anything else."""
    return next((kind for kind, form in TARGET_FORMS.items() if form.fullmatch(target)), None)


def rings_a_person(target: str) -> bool:
    """Whether reaching ``target`` means dialling one person's phone (not a queue or a
    TaskRouter workflow, which find a person by themselves; an agent pool rings one
    agent at a time)."""
    return target_kind(target) not in ("queue", "flex", None)
