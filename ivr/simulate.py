"""``ivr simulate FLOW``: call a flow from the terminal, or run a scripted call.

Interactive input: keys (``1``, ``123456#``), ``say <words>`` (or any text that is not
keys) for speech, an empty line for silence, ``hangup`` to hang up. When the flow
transfers, answer with ``answered``, ``busy``, ``no-answer``, ``declined`` or ``failed``;
at a voicemail, ``record`` leaves a message. After a sentence said at a menu it prints
how the menu read it: the option, how it was chosen (phrase, key or meaning) and the score.

A script (``--script FILE``) is YAML::

    caller: "+15551230000"
    at: "2026-11-24T15:00:00Z"        # the moment the call starts (hours depend on it)
    steps:
      - expect: "Welcome to Acme"       # the caller heard this (case-insensitive)
      - press: "1"
      - say: "one two three four five six"
      - expect: "has shipped"
      - silence
      - expect_transfer: "client:alice"  # the call is being handed to this target
      - transfer: busy                   # how that attempt ended
      - expect_not: "goodbye"
      - record                           # leave a voicemail
      - hangup
      - expect_end                       # the IVR ended the call

It exits 1 when an expectation fails, saying which step and what was heard instead.
"""
from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import yaml

from ivr.flows.library import FlowLibrary, NoFlow
from ivr.flows.nodes.menu import MenuNode, decide
from ivr.model.actions import Hangup, Listen, Record, Speak, Transfer
from ivr.model.events import CallEnded, CallStarted, DigitsPressed, NoInput, RecordingDone, SpeechHeard, TransferResult
from ivr.model.session import Session
from ivr.runtime import advance
from ivr.runtime.lookups import http_lookup

TRANSFER_RESULTS = ("answered", "busy", "no-answer", "declined", "failed", "canceled")


class Simulator:
    """One simulated call; ``heard`` collects what the caller heard since the last input."""

    def __init__(self, library: FlowLibrary, flow_name: str, caller: str = "+15551230000",
                 at: datetime | None = None, out: IO[str] | None = None, lookup=http_lookup):
        self.library = library
        self.flow = library.current(flow_name)
        self.caller = caller
        self.now = at or datetime.now(UTC)
        self.out = out
        self.lookup = lookup
        self.session: Session | None = None
        self.heard: list[str] = []
        self.waiting: Any = None
        self.ended = False
        self.echo = True  # print the caller's own input (a script); off when a person types it

    def _print(self, text: str) -> None:
        if self.out is not None:
            print(text, file=self.out)

    def start(self) -> None:
        """The call starts in the flow named, whether or not it serves a number."""
        number = self.flow.numbers[0] if self.flow.numbers else ""
        self._apply(CallStarted(self.now, "CAsimulated", self.caller, number))

    def _apply(self, event) -> None:
        self.heard = []
        start = self.flow.name if self.session is None else ""
        outcome = advance(self.library, self.session, event, lambda a, at: self.lookup(a, at), flow_name=start)
        self.session = session = outcome.session
        for action in outcome.actions:
            self._show(action)
        if session.turns or session.score:
            reasons = "; ".join(f"{r.signal} +{r.weight:.2f}: {r.detail}" for r in session.reasons)
            self._print(f"      [node {session.node} | escalation {session.score:.2f}"
                        f"{' | ' + reasons if reasons else ''}]")
        self.now += timedelta(seconds=4)

    def _show(self, action) -> None:
        if isinstance(action, Speak):
            self.heard.append(action.text)
            self._print(f"IVR:  {action.text}" + (f"   [plays {action.audio}]" if action.audio else ""))
        elif isinstance(action, Listen):
            for p in action.prompts:
                self._show(p)
            self.waiting = action
        elif isinstance(action, Transfer):
            self.waiting = action
            self._print(f"      [transfer {action.attempt}/{action.attempts} to {action.target}: {action.reason}]")
            self._print(f"      [whisper to agent: {action.summary}]")
        elif isinstance(action, Record):
            self.waiting = action
            self._print("      [recording a voicemail]")
        elif isinstance(action, Hangup):
            self.waiting = None
            self.ended = True
            self._print("      [the IVR hangs up]")

    # --- what the caller does -----------------------------------------------------------
    def press(self, keys: str) -> None:
        if self.echo:
            self._print(f"you:  (presses {keys})")
        self._apply(DigitsPressed(self.now, keys))

    def say(self, text: str, confidence: float = 0.9, loudness: float | None = None) -> None:
        if self.echo:
            self._print(f"you:  \"{text}\"")
        menu = self._menu_listening()
        self._apply(SpeechHeard(self.now, text, confidence, loudness))
        turn = self.session.turns[-1] if self.session and self.session.turns else None
        if menu is not None and turn is not None and turn.node == menu.id and turn.result in ("matched", "no_match"):
            self._print("      " + explain_choice(menu, text))

    def _menu_listening(self) -> MenuNode | None:
        """The menu the call is listening at now, if any."""
        if self.session is None or self.ended:
            return None
        try:
            node = self.library.current(self.session.flow).nodes.get(self.session.node)
        except NoFlow:
            return None
        return node if isinstance(node, MenuNode) else None

    def silence(self) -> None:
        if self.echo:
            self._print("you:  (silence)")
        self._apply(NoInput(self.now))

    def transfer(self, status: str) -> None:
        target = self.waiting.target if isinstance(self.waiting, Transfer) else ""
        self._print(f"      [{target}: {status}]")
        self._apply(TransferResult(self.now, status, target))

    def record(self, url: str = "https://example.invalid/recording.wav", duration: float = 12) -> None:
        if self.echo:
            self._print("you:  (leaves a message)")
        self._apply(RecordingDone(self.now, url, duration))

    def hangup(self) -> None:
        if self.echo:
            self._print("you:  (hang up)")
        if not self.ended:
            self._apply(CallEnded(self.now))
        self.ended = True


def explain_choice(menu: MenuNode, said: str) -> str:
    """How the menu read what the caller said: "[menu main: 'order status' by meaning,
    score 2.00: talks about delivery (delivery 2)]"."""
    choice = decide(menu, said)
    chosen = f"'{menu.options[choice.index].label}'" if choice.index is not None else "no option"
    return f"[menu {menu.id}: {chosen} by {choice.how}, score {choice.score:.2f}: {choice.why}]"


def run_script(sim: Simulator, steps: list[Any], err: IO[str]) -> int:
    sim.start()
    for number, item in enumerate(steps, 1):
        if isinstance(item, str):
            verb, arg = item, None
        elif isinstance(item, dict) and len(item) == 1:
            verb, arg = next(iter(item.items()))
        else:
            verb, arg = None, None
        heard = " ".join(sim.heard)
        if verb == "press":
            sim.press(str(arg))
        elif verb == "say":
            sim.say(str(arg))
        elif verb == "silence":
            sim.silence()
        elif verb == "transfer":
            if not isinstance(sim.waiting, Transfer):
                return _fail(err, number, "no transfer is under way", heard)
            sim.transfer(str(arg))
        elif verb == "record":
            sim.record()
        elif verb == "hangup":
            sim.hangup()
        elif verb == "expect":
            if str(arg).lower() not in heard.lower():
                return _fail(err, number, f"expected to hear '{arg}'", heard)
        elif verb == "expect_not":
            if str(arg).lower() in heard.lower():
                return _fail(err, number, f"did not expect to hear '{arg}'", heard)
        elif verb == "expect_transfer":
            if not isinstance(sim.waiting, Transfer) or (arg and str(arg) not in sim.waiting.target):
                return _fail(err, number, f"expected a transfer to '{arg}'", heard)
        elif verb == "expect_end":
            if not sim.ended:
                return _fail(err, number, "expected the call to have ended", heard)
        else:
            print(f"script step {number}: unknown step {item!r} (steps: press, say, silence, transfer, record, "
                  "hangup, expect, expect_not, expect_transfer, expect_end)", file=err)
            return 2
        if sim.ended and verb not in ("expect", "expect_not", "expect_end", "hangup", "expect_transfer"):
            continue
    print("script passed", file=err)
    return 0


def _fail(err: IO[str], number: int, what: str, heard: str) -> int:
    print(f"script step {number}: {what}; the caller heard: {heard!r}", file=err)
    return 1


def interactive(sim: Simulator, stdin: IO[str], out: IO[str]) -> int:
    sim.echo = not stdin.isatty() if hasattr(stdin, "isatty") else True
    print("Keys: type them (1, 123456#). Speech: type words. Silence: an empty line. 'hangup' hangs up.", file=out)
    sim.start()
    while not sim.ended:
        if isinstance(sim.waiting, Transfer):
            line = _ask(stdin, out, f"agent ({'/'.join(TRANSFER_RESULTS)}) [answered]> ")
            if line is None:
                break
            status = line or "answered"
            if status not in TRANSFER_RESULTS:
                print(f"      type one of: {', '.join(TRANSFER_RESULTS)}", file=out)
                continue
            sim.transfer(status)
            if status == "answered":
                print("      [you are talking to a person now; the simulation ends]", file=out)
                return 0
            continue
        line = _ask(stdin, out, "you> ")
        if line is None or line in ("hangup", "quit", "q"):
            sim.hangup()
            break
        if isinstance(sim.waiting, Record):
            sim.record() if line == "record" or line else sim.silence()
        elif not line or line == "silence":
            sim.silence()
        elif line.startswith("say "):
            sim.say(line[4:])
        elif all(c in "0123456789*#" for c in line):
            sim.press(line)
        else:
            sim.say(line)
    return 0


def _ask(stdin: IO[str], out: IO[str], prompt: str) -> str | None:
    out.write(prompt)
    out.flush()
    line = stdin.readline()
    return None if not line else line.strip()


def load_script(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ValueError(f"{path}: a script is a mapping with a 'steps:' list")
    return data


def main_simulate(args, out: IO[str] | None = None, err: IO[str] | None = None, stdin: IO[str] | None = None) -> int:
    # the streams are looked up at call time: defaults bound at import would miss a redirect
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    library = FlowLibrary(args.flows, args.audio)
    problems = library.reload()
    from ivr.model.problems import format_problem
    for p in problems:
        if p.severity == "error":
            print(format_problem(p), file=err)
    if args.flow not in library.flows:
        known = ", ".join(sorted(library.flows)) or "none"
        print(f"error: no valid flow named '{args.flow}' in {args.flows} (loaded: {known})", file=err)
        return 2
    script = None
    if args.script:
        try:
            script = load_script(args.script)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            print(f"error: {exc}", file=err)
            return 2
    at_text = args.at or (script or {}).get("at")
    try:
        at = _parse_at(at_text) if at_text else None
    except ValueError:
        print(f"error: --at must be an ISO time such as 2026-11-24T15:00:00Z, not '{at_text}'", file=err)
        return 2
    caller = args.caller or (script or {}).get("caller") or "+15551230000"
    sim = Simulator(library, args.flow, caller=str(caller), at=at, out=out)
    if script is not None:
        return run_script(sim, script["steps"], err)
    return interactive(sim, stdin, out)


def _parse_at(text: Any) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
