"""``ivr call FLOW``: call a running support line from the terminal, over HTTP, signed like Twilio.

``ivr simulate`` runs a flow in-process; ``ivr call`` goes through everything a real call
goes through: the server's webhooks, its signature checks, its store, its TwiML. It is the
caller emulator of the tests (``ivr.testing``: ``Caller`` over ``HttpTransport``) used as a
library: the number of the flow is read from the server's page (``GET /`` as JSON), the
call is placed at ``/twilio/voice`` and every request is signed with the server's auth
token.

The token: ``TWILIO_AUTH_TOKEN`` (or ``TWILIO_AUTH_TOKEN_FILE``); when neither is set and
the server is on this machine, the demo token ``./dev demo`` made, ``var/demo-auth-token``
(in ``IVR_VAR_DIR``, by default ``var`` of the folder the command runs in: the project's).

Interactive input: keys (``1``, ``123456#``), words for speech, an empty line for silence,
``hangup`` to hang up; while a transfer rings, how it ends (``completed`` when a person
answered, ``busy``, ``no-answer``, ``failed``). ``--script FILE`` runs a script in the format
of ``ivr simulate`` (docs/GUIDE.md, Testing with scripts) and exits 1 when an expectation
fails.
"""
from __future__ import annotations

import argparse
import sys
from typing import IO, Any
from urllib.parse import urlsplit

__all__ = ["DEMO_TOKEN_FILE", "add_parser", "find_token", "run_call"]

DEMO_TOKEN_FILE = "demo-auth-token"
DEFAULT_URL = "http://127.0.0.1:8080"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DIAL_RESULTS = ("completed", "busy", "no-answer", "failed", "canceled")
ALIASES = {"answered": "completed", "declined": "no-answer"}  # the words of ivr simulate's scripts
HELP = "Keys: type them (1, 123456#). Speech: type words. Silence: an empty line. 'hangup' hangs up."


class CallFailed(Exception):
    """The call cannot go on; the message says why and what to do."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("call", help="call a running line over HTTP, signed like Twilio (interactive or --script)",
                       description="Call a flow of a running support line from the terminal, through its webhooks "
                       "and signature checks, as Twilio would. Example: .venv/bin/ivr call acme-support",
                       epilog="examples:\n"
                       "  ivr call acme-support                       call the line ./dev demo serves\n"
                       "  ivr call acme-support --script tests/scripts/order-status-found.yaml\n"
                       "  ivr call acme-support --url http://127.0.0.1:9000\n\n"
                       "The auth token: TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE); unset, and the server on this\n"
                       "machine: var/demo-auth-token, which ./dev demo makes. Script format: docs/GUIDE.md\n"
                       "(Testing with scripts); its 'at:' is ignored, a running server keeps its own clock.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("flow", help="the flow to call, by name (its first number is dialled)")
    p.add_argument("--url", default=DEFAULT_URL, help=f"where the server listens (default: {DEFAULT_URL})")
    p.add_argument("--public-url", default=None, help="the URL the server checks signatures against "
                   "(default: IVR_PUBLIC_URL, else --url)")
    p.add_argument("--script", help="run a scripted call non-interactively (exit 1 when an expectation fails)")
    p.add_argument("--caller", help="the caller's number (default +15551230000)")


def find_token(url: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(token, where it came from); ``CallFailed`` when there is none."""
    from ivr.settings import SettingsError, load_settings
    try:
        settings = load_settings(environ=environ)
    except SettingsError as exc:
        raise CallFailed(str(exc)) from None
    if settings.twilio_auth_token:
        return settings.twilio_auth_token, "TWILIO_AUTH_TOKEN"
    if (urlsplit(url).hostname or "") in LOCAL_HOSTS:  # as ./dev demo finds it: ${IVR_VAR_DIR:-var}/demo-auth-token
        path = settings.var_dir / DEMO_TOKEN_FILE
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
        if token:
            return token, str(path)
    raise CallFailed("no auth token to sign the call with: set TWILIO_AUTH_TOKEN to the server's token, or run "
                     "this in the project folder, where ./dev demo keeps var/demo-auth-token for a line on this machine")


def line_facts(url: str) -> dict[str, Any]:
    """The server's page as JSON: its flows and their numbers."""
    import requests
    try:
        reply = requests.get(url.rstrip("/") + "/", headers={"Accept": "application/json"}, timeout=10)
    except requests.RequestException:
        raise CallFailed(f"nothing answers at {url}: start the line (./dev demo, or .venv/bin/ivr serve) "
                         "or give its address with --url") from None
    if reply.status_code != 200 or not reply.headers.get("Content-Type", "").startswith("application/json"):
        raise CallFailed(f"{url} is not a support line of this version (GET / answered {reply.status_code})")
    data: dict[str, Any] = reply.json()
    return data


def number_of(facts: dict[str, Any], flow: str) -> str:
    flows = {f["name"]: f for f in facts.get("flows", [])}
    if flow not in flows:
        import difflib
        close = difflib.get_close_matches(flow, flows, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CallFailed(f"the line serves no flow named '{flow}'; {hint}its flows: {', '.join(sorted(flows)) or 'none'}")
    numbers = flows[flow]["numbers"]
    if not numbers:
        callable_flows = ", ".join(name for name, f in flows.items() if f["numbers"])
        raise CallFailed(f"flow '{flow}' has no number of its own: it is reached from another flow; "
                         f"call one with a number ({callable_flows}) and choose it there")
    return str(numbers[0])


class Call:
    """One call on the running line: the emulator's ``Caller``, printing what the caller hears."""

    def __init__(self, url: str, public_url: str, token: str, to: str, caller: str, out: IO[str]):
        from ivr.testing import Caller, HttpTransport
        self.out = out
        self.transport = HttpTransport(url)
        self.call = Caller(self.transport, auth_token=token, public_url=public_url, caller=caller, to=to)
        self._shown = 0

    def show(self) -> None:
        """Print what the caller heard since the last time, and any error of the call."""
        for who, text in self.call.transcript[self._shown:]:
            if who == "ivr":
                print(f"IVR:  {_played(text)}", file=self.out)
        self._shown = len(self.call.transcript)
        if self.call.state == "dialing":
            print(f"      [the line is ringing {', '.join(self.targets()) or 'a conference'}]", file=self.out)
        if self.call.state == "queued":
            print(f"      [waiting in {', '.join(self.targets())}]", file=self.out)
        if self.call.state == "ended":
            print(f"      [the call ended: {self.call.ended_by}]", file=self.out)

    def targets(self) -> list[str]:
        """Where the call is being handed, as a flow names it: ``client:alice``, ``+1500...``, ``queue:support``."""
        call = self.call
        if call.state == "queued" and call.queue is not None:
            return [f"queue:{call.queue.name}"]
        if call.state != "dialing" or call.last_dial is None:
            return []
        return [t.address if t.kind == "number" or t.address.startswith(f"{t.kind}:") else f"{t.kind}:{t.address}"
                for t in call.last_dial.targets if t.kind != "conference"]

    def agent_answers(self) -> None:
        """The person dialled picks up: they hear the whisper and press 1 to take the call."""
        dial = self.call.last_dial
        if dial is None or not dial.legs:
            return
        agent = self.call.agent_leg(0)
        for who, text in agent.transcript:
            if who == "ivr":
                print(f"AGENT hears:  {text}", file=self.out)
        if agent.gather is not None:
            print("AGENT:  (presses 1)", file=self.out)
            agent.press("1")
            if agent.last_heard:
                print(f"AGENT hears:  {agent.last_heard}", file=self.out)

    def errors(self) -> str:
        return "; ".join(str(e) for e in self.call.all_errors)

    def act(self, verb: str, arg: str = "") -> None:
        """One thing the caller does; ``CallFailed`` when the call cannot do it now."""
        from ivr.testing import CallStateError
        call = self.call
        try:
            if verb == "dial":
                call.dial()
            elif verb == "press":
                call.press(arg)
            elif verb == "say":
                if call.gather is not None and not call.gather.accepts("speech"):
                    raise CallFailed("this prompt listens for keys only here (speech goes to the line's own "
                                     "recogniser over a media stream, which a terminal cannot send): press keys")
                call.say(arg)
            elif verb == "silence":
                call.silence()
            elif verb == "transfer":  # how the handing over ends: a person answered, or not
                result = ALIASES.get(arg, arg)
                if call.state == "queued":
                    call.dequeue("bridged" if result == "completed" else "error")
                else:
                    if result == "completed":
                        self.agent_answers()
                    call.dial_result(result, duration=60 if result == "completed" else 0)
            elif verb == "record":
                call.record()
            elif verb == "hangup":
                call.hang_up()
        except CallStateError as exc:
            raise CallFailed(str(exc).split(". Last heard")[0]) from None
        self.show()

    def close(self) -> None:
        self.transport.close()


def run_call(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None,
             stdin: IO[str] | None = None) -> int:
    """``ivr call``: 0 the call went as asked, 1 an expectation failed or the line refused, 2 usage."""
    import os
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    script: dict[str, Any] | None = None
    try:
        if args.script:
            from ivr.simulate import load_script
            try:
                script = load_script(args.script)
            except (OSError, ValueError) as exc:
                raise CallFailed(str(exc)) from None
        token, _source = find_token(args.url)
        facts = line_facts(args.url)
        to = number_of(facts, args.flow)
    except CallFailed as exc:
        print(f"error: {exc}", file=err)
        return 2
    public = (args.public_url or os.environ.get("IVR_PUBLIC_URL", "").strip() or args.url).rstrip("/")
    caller = str(args.caller or (script or {}).get("caller") or "+15551230000")
    call = Call(args.url, public, token, to, caller, out)
    try:
        print(f"Calling {args.flow} ({to}) at {args.url} as {caller}", file=err)
        if script is None:
            print(HELP, file=out)
        call.act("dial")
        if call.call.all_errors:
            return refused(call, err)
        if script is not None:
            if script.get("at"):
                print("note: the script's 'at:' is ignored; the running line keeps its own clock", file=err)
            return run_steps(call, script["steps"], err)
        return interactive(call, stdin, out, err)
    except CallFailed as exc:
        print(f"error: {exc}", file=err)
        return 1
    finally:
        call.close()


def refused(call: Call, err: IO[str]) -> int:
    text = call.errors()
    if "HTTP 403" in text:
        print("error: the line refused the call's signature: the token is not the server's TWILIO_AUTH_TOKEN, or the "
              "server checks against another address (give it with --public-url, as IVR_PUBLIC_URL is set there)",
              file=err)
    else:
        print(f"error: the call failed: {text}", file=err)
    return 1


def run_steps(call: Call, steps: list[Any], err: IO[str]) -> int:
    """A script of ``ivr simulate``'s format against the running line."""
    verbs = ("press", "say", "silence", "transfer", "record", "hangup", "expect", "expect_not",
             "expect_transfer", "expect_end")
    for number, item in enumerate(steps, 1):
        if isinstance(item, str):
            verb, arg = item, ""
        elif isinstance(item, dict) and len(item) == 1:
            verb, value = next(iter(item.items()))
            arg = "" if value is None else str(value)
        else:
            verb, arg = "", ""
        heard = call.call.last_heard
        if verb not in verbs:
            print(f"script step {number}: unknown step {item!r} (steps: {', '.join(verbs)})", file=err)
            return 2
        if verb == "expect" and not call.call.heard(arg):
            return _fail(err, number, f"expected to hear '{arg}'", heard)
        if verb == "expect_not" and call.call.heard(arg):
            return _fail(err, number, f"did not expect to hear '{arg}'", heard)
        if verb == "expect_transfer" and not any(arg in target for target in call.targets()):
            return _fail(err, number, f"expected a transfer to '{arg}'", heard)
        if verb == "expect_end" and call.call.state != "ended":
            return _fail(err, number, "expected the call to have ended", heard)
        if verb.startswith("expect"):
            continue
        if call.call.state == "ended" and verb != "hangup":
            return _fail(err, number, f"cannot {verb}: the call has ended", heard)
        print(f"you:  {_done(verb, arg)}", file=call.out)
        try:
            call.act(verb, arg)
        except CallFailed as exc:
            return _fail(err, number, str(exc), heard)
        if call.call.all_errors:
            return _fail(err, number, f"the line failed: {call.errors()}", call.call.last_heard)
    print("script passed", file=err)
    return 0


def _fail(err: IO[str], number: int, what: str, heard: str) -> int:
    print(f"script step {number}: {what}; the caller heard: {heard!r}", file=err)
    return 1


def interactive(call: Call, stdin: IO[str], out: IO[str], err: IO[str]) -> int:
    echo = not (hasattr(stdin, "isatty") and stdin.isatty())  # typed input shows itself; piped input does not
    while call.call.state != "ended":
        if call.call.state in ("dialing", "queued"):
            line = _ask(stdin, out, f"how the transfer ends ({'/'.join(DIAL_RESULTS)}) [completed]> ")
            if echo:
                out.write(f"{line if line is not None else '(hang up)'}\n")
            if line is None:
                call.act("hangup")
                break
            result = ALIASES.get(line, line) or "completed"
            if result not in DIAL_RESULTS:
                print(f"      type one of: {', '.join(DIAL_RESULTS)}", file=out)
                continue
            try:
                call.act("transfer", result)
            except CallFailed as exc:
                print(f"      {exc}", file=out)
            if result == "completed" and call.call.state == "ended":
                print("      [the caller talked to a person]", file=out)
            continue
        line = _ask(stdin, out, "you> ")
        if echo:
            out.write(f"{line if line else '(silence)' if line is not None else '(hang up)'}\n")
        try:
            if line is None or line in ("hangup", "quit", "q"):
                call.act("hangup")
            elif call.call.recording is not None:
                call.act("record" if line else "silence")
            elif not line or line == "silence":
                call.act("silence")
            elif line.startswith("say "):
                call.act("say", line[4:])
            elif all(c in "0123456789*#" for c in line):
                call.act("press", line)
            else:
                call.act("say", line)
        except CallFailed as exc:
            print(f"      {exc}", file=out)
        if call.call.all_errors:
            return refused(call, err)
    return 0


def _done(verb: str, arg: str) -> str:
    """What the caller did, as a script step shows it."""
    return {"press": f"(presses {arg})", "say": f'"{arg}"', "silence": "(silence)", "record": "(leaves a message)",
            "hangup": "(hangs up)", "transfer": f"[the transfer ends: {arg}]"}.get(verb, verb)


def _played(text: str) -> str:
    """``[play https://host/audio/welcome.wav]`` -> ``(plays the recording audio/welcome.wav)``."""
    if text.startswith("[play ") and text.endswith("]"):
        what = text[len("[play "):-1]
        path = urlsplit(what).path
        return f"(plays the recording {path.lstrip('/')})" if path.startswith("/audio/") else f"(plays {what})"
    return text


def _ask(stdin: IO[str], out: IO[str], prompt: str) -> str | None:
    out.write(prompt)
    out.flush()
    line = stdin.readline()
    return None if not line else line.strip()
