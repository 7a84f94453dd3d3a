"""The ``ivr`` command: a thin shell over the library.

Each sub-command translates domain errors into a clean message and an exit code:
0 success, 1 the thing checked is not right (an invalid flow, a failed script),
2 a usage error. A flow author never sees a traceback.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

EPILOG = """examples:
  ivr validate                       check every flow in call_flows/
  ivr validate call_flows/acme-support.yaml
  ivr validate --agents agents.yaml  also check agent pools' skills and languages against the agents
  ivr schema > flow.schema.json      JSON Schema for editors
  ivr graph acme-support --png flow.png  draw a flow (--svg FILE; Mermaid text without)
  ivr simulate acme-support          call the flow from the terminal
  ivr simulate acme-support --script tests/scripts/order.yaml
  ivr serve --port 8080              serve the Twilio webhooks
  ivr call acme-support              call the running line over HTTP, signed like Twilio
  ivr eval escalation CORPUS --flow F measure the escalation detector
  ivr eval escalation --from-records  ... against the agents' wrap-up answers; suggests a threshold
  ivr eval understanding CORPUS --flow F  measure how a menu understands callers
  ivr models list                    speech models known and installed
  ivr report --since 2026-11-01      containment, transfers by reason, drop-off by prompt
  ivr forget +15551230000            delete every trace of one caller
  ivr agents hash                    a password hash for the agent console's agents file
"""


AUDIO_HELP = ("folder of prompt recordings, which a prompt names as audio/FILE (default: $IVR_AUDIO_DIR, "
              "else the audio/ folder beside the flows folder)")


def audio_dir_for(given: str | None, flows: str | Path) -> Path:
    """``--audio``, else IVR_AUDIO_DIR, else the ``audio`` folder beside the flows folder
    (``<flows>/../audio``): recordings belong to the flows' project, not to the working directory."""
    import os

    from ivr.settings import audio_beside
    chosen = given or os.environ.get("IVR_AUDIO_DIR", "").strip()
    return Path(chosen) if chosen else audio_beside(Path(flows))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="A support-line IVR: YAML call flows, local speech, "
                                     "warm transfer with context.", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check flow files; every error at once with file:line:col",
                       description="Check flow files and print every problem as file:line:col with a hint. "
                       "Example: ivr validate call_flows/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="flow files or directories (default: call_flows/)")
    p.add_argument("--audio", default=None, help=AUDIO_HELP)
    p.add_argument("--agents", default=None, metavar="FILE",
                   help="the agents file (default: IVR_AGENTS_FILE when set; '' for none): every agent pool "
                   "({agents: {languages: [ko], skills: [orders]}}) must name languages and skills its agents "
                   "have. Without an agents file, skill and language names are not checked (who is signed in "
                   "is never checked: presence is live). A pool with nothing after it and no fallback is an "
                   "error either way")

    p = sub.add_parser("schema", help="print the JSON Schema of the flow language",
                       description="Print a JSON Schema of the flow language for editors. Example: ivr schema > flow.schema.json")

    p = sub.add_parser("graph", help="draw a flow: SVG or PNG (Graphviz), or Mermaid / DOT text",
                       description="Draw a flow top-down, one box per area (each option of the main menu, "
                       "shared steps, people and messages, after hours). Example: ivr graph acme-support --png flow.png",
                       epilog="examples:\n  ivr graph acme-support --svg flow.svg    an SVG picture (needs Graphviz)\n"
                       "  ivr graph acme-support --png flow.png    a PNG picture (needs Graphviz)\n"
                       "  ivr graph acme-support                   Mermaid text, for Markdown or mermaid.live\n"
                       "  ivr graph call_flows/acme-support.yaml --dot > flow.dot\n"
                       "  ivr graph acme-support --heat --since 2026-11-01 --svg heat.svg   where callers hung up or "
                       "failed (call records)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("flow", help="flow name or file")
    p.add_argument("--dot", action="store_true", help="print Graphviz DOT instead of Mermaid")
    p.add_argument("--svg", metavar="FILE", help="draw the flow into an SVG file with Graphviz's dot")
    p.add_argument("--png", metavar="FILE", help="draw the flow into a PNG file with Graphviz's dot")
    p.add_argument("--heat", action="store_true", help="a heat map from the call records: each step filled by how "
                   "often callers hung up or failed there, each way as thick as its calls (DOT, or --svg/--png)")
    p.add_argument("--since", metavar="ISO", help="with --heat: calls that started at or after this moment (UTC)")
    p.add_argument("--until", metavar="ISO", help="with --heat: calls that started before this moment (UTC)")
    p.add_argument("--records", metavar="URL", help="with --heat: the call records (default: IVR_RECORDS_URL, else "
                   "var/records.sqlite3)")
    p.add_argument("--flows", default="call_flows", help="flows folder (default: call_flows/)")
    p.add_argument("--audio", default=None, help=AUDIO_HELP)

    p = sub.add_parser("simulate", help="call a flow from the terminal, or run a scripted call",
                       description="Call a flow from the terminal. Type keys, words, an empty line for silence, "
                       "'hangup' to hang up. The script format is in docs/GUIDE.md (Testing with scripts). "
                       "Example: ivr simulate acme-support --script tests/scripts/order-status-found.yaml")
    p.add_argument("flow", help="flow name")
    p.add_argument("--script", help="run a scripted call non-interactively (exit 1 when an expectation fails)")
    p.add_argument("--at", help="the moment the call starts, ISO 8601 (default: now)")
    p.add_argument("--caller", help="the caller's number (default +15551230000)")
    p.add_argument("--flows", default="call_flows", help="flows folder (default: call_flows/)")
    p.add_argument("--audio", default=None, help=AUDIO_HELP)

    from ivr.callcli import add_parser as add_call_parser
    add_call_parser(sub)

    p = sub.add_parser("serve", help="serve the Twilio webhooks (development server)",
                       description="Serve the webhooks. Example: ivr serve --host 0.0.0.0 --port 8080")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--reload", action="store_true", help="restart when code changes (development)")
    p.add_argument("--debug", action="store_true")

    p = sub.add_parser("eval", help="measure parts of the IVR (escalation, understanding)",
                       description="Measure parts of the IVR. Example: ivr eval escalation tests/escalation/corpus "
                       "--flow tests/escalation/line/corpus-line.yaml  (ivr eval escalation --help for its options)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    # The measured part's own parser (in ivr.evaluation) reads the rest of the line, help included.
    what.add_parser("escalation", add_help=False, help="precision and recall of the escalation detector on a labelled "
                    "corpus. Example: ivr eval escalation tests/escalation/corpus --flow FLOW.yaml")
    what.add_parser("understanding", add_help=False, help="accuracy of a menu on labelled caller sentences and "
                    "false accepts of out-of-scope ones. Example: ivr eval understanding tests/understanding/corpus "
                    "--flow call_flows/acme-support.yaml")

    p = sub.add_parser("models", help="speech models: list, pull NAME",
                       description="Manage Vosk speech models. Example: ivr models pull vosk-model-small-en-us-0.15  "
                       "(ivr models pull --help for its options)")
    p.add_argument("--cache-dir", default=None, help="model cache (default: $IVR_MODEL_CACHE or ~/.cache/ivr/models)")
    action = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    # Each action's own parser (in ivr.speech.models) reads the rest of the line, help included.
    action.add_parser("list", add_help=False, help="known models, and the model the server uses for each language. "
                      "Example: ivr models list")
    action.add_parser("pull", add_help=False, help="download, verify and unpack a model. "
                      "Example: ivr models pull vosk-model-small-en-us-0.15")

    p = sub.add_parser("agents", help="the agent console's sign-ins: hash a password, check an agents file",
                       description="Manage the agent console's agents file (IVR_AGENTS_FILE). "
                       "Example: .venv/bin/ivr agents hash",
                       epilog="examples:\n  ivr agents hash                       asks for a password twice, prints its hash\n"
                       "  printf '%s\\n' \"$PASSWORD\" | ivr agents hash   reads one line when there is no terminal\n"
                       "  ivr agents check agents.yaml          checks a file and lists its agents",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    action = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    action.add_parser("hash", help="print a password hash for 'password_hash:' in the agents file",
                      description="Ask for a password twice on a terminal (or read one line from standard input "
                      "when there is none) and print its hash for 'password_hash:'. Example: .venv/bin/ivr agents hash")
    a = action.add_parser("check", help="check an agents file and list its agents",
                          description="Check an agents file. Example: .venv/bin/ivr agents check agents.yaml")
    a.add_argument("file", help="the agents file (YAML), e.g. agents.yaml")

    p = sub.add_parser("doctor", help="check a deployment and say what to fix",
                       description="Check settings, store, flows, speech model and Twilio credentials. Example: ivr doctor")
    # The call records' commands (in ivr.records) read the rest of the line, help included.
    sub.add_parser("report", add_help=False, help="the line's figures from the call records: containment, "
                   "transfers by reason, drop-off by prompt, agents",
                   description="Report on finished calls. Example: ivr report --since 2026-11-01 --format json")
    sub.add_parser("purge", add_help=False, help="delete call records older than IVR_RETENTION_DAYS (default 365)",
                   description="Delete old call records. Example: ivr purge --days 365")
    sub.add_parser("forget", add_help=False, help="delete every trace of one caller: call records and live-call state",
                   description="Forget one caller. Example: ivr forget +15551230000")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command in PASSED_ON:
        args.rest = rest  # read by the part's own parser, which has its own --help
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _validate(args) -> int:
    from ivr.flows.report import run_validate
    paths = args.paths or ["call_flows"]
    first = Path(paths[0])
    flows = first.parent if first.suffix in (".yaml", ".yml") else first
    agents, status = _agents_on_file(args.agents)
    if status:
        return status
    return run_validate(paths, sys.stdout, sys.stderr, audio_dir=audio_dir_for(args.audio, flows), agents=agents)


def _agents_on_file(given: str | None):
    """(the agents file's languages and skills for ``ivr validate``, 0), (None, 0) without
    one, or (None, exit code) after saying why it cannot be read."""
    import os

    from ivr.model.targets import AgentsOnFile
    from ivr.web.agents import AgentsError, parse_agents
    name = (given if given is not None else os.environ.get("IVR_AGENTS_FILE", "")).strip()
    if not name:
        return None, 0
    origin = "" if given is not None else " (IVR_AGENTS_FILE)"
    try:
        roster = parse_agents(Path(name).read_text(encoding="utf-8"), name, hashes=False)
    except FileNotFoundError:
        print(f"ivr validate: error: no such agents file{origin}: {name}", file=sys.stderr)
        return None, 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"ivr validate: error: cannot read the agents file{origin} {name}: {exc}", file=sys.stderr)
        return None, 2
    except AgentsError as exc:
        print(f"{exc}\nivr validate: error: the agents file{origin} is not valid; the flows were not checked "
              "(ivr agents check FILE shows it alone)", file=sys.stderr)
        return None, 1
    dialled = [agent for agent in roster.agents.values() if agent.dial_target]
    return AgentsOnFile(name, tuple((agent.languages, agent.skills) for agent in dialled)), 0


def _schema(args) -> int:
    from ivr.flows.schema import json_schema
    print(json.dumps(json_schema(), indent=2))
    return 0


def _graph(args) -> int:
    from ivr.flows import graph
    from ivr.flows.loader import load_directory, load_paths
    from ivr.model.problems import format_problem
    path = Path(args.flow)
    is_file = path.suffix in (".yaml", ".yml")
    audio = audio_dir_for(args.audio, path.parent if is_file else args.flows)
    loaded = load_paths([path], audio) if is_file else load_directory(args.flows, audio)
    flow = next(iter(loaded.flows.values()), None) if is_file else loaded.flows.get(args.flow)
    if flow is None:
        for p in loaded.errors:
            print(format_problem(p, loaded.sources.get(p.where.file)), file=sys.stderr)
        print(f"error: no valid flow '{args.flow}' (run 'ivr validate' to see why)", file=sys.stderr)
        return 1 if loaded.errors else 2
    pictures = [(fmt, target) for fmt, target in (("svg", args.svg), ("png", args.png)) if target]
    heat = _heat_of(flow.name, args) if args.heat else None
    if args.heat and heat is None:
        return 1
    for fmt, target in pictures:
        try:
            data = graph.render(graph.dot(flow, heat), fmt)
            Path(target).write_bytes(data)
        except graph.GraphvizMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            print(f"error: cannot draw '{flow.name}' into {target}: {exc}", file=sys.stderr)
            return 1
        print(f"drew flow '{flow.name}' into {target}", file=sys.stderr)
    if args.dot or not pictures:
        print(graph.dot(flow, heat) if args.dot or heat else graph.mermaid(flow), end="")
    return 0


def _heat_of(flow_name: str, args):
    """The flow's heat over [--since, --until) from the call records, as plain numbers
    for the drawing; None (said on stderr) when the window or the records are wrong."""
    from ivr.flows.graph import HeatFigures
    from ivr.records import open_records
    from ivr.records.cli import parse_moment
    from ivr.records.pictures import heat
    try:
        since = parse_moment(args.since) if args.since else None
        until = parse_moment(args.until) if args.until else None
    except (ValueError, argparse.ArgumentTypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    try:
        records = open_records(args.records)
    except Exception as exc:  # a bad URL, a driver missing, a server down
        print(f"error: cannot open the call records: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    try:
        with records.engine.connect() as conn:
            found = heat(conn, flow_name, since, until)
    finally:
        records.close()
    window = f"{since.isoformat() if since else 'first record'} to {until.isoformat() if until else 'now'}"
    print(f"heat of '{flow_name}': {found.calls} calls, {window}", file=sys.stderr)
    return HeatFigures({node: (h.entered, h.hung_up, h.no_input + h.no_match, h.visits)
                        for node, h in found.nodes.items()}, dict(found.edges), window)


def _simulate(args) -> int:
    from ivr.simulate import main_simulate
    args.audio = audio_dir_for(args.audio, args.flows)
    return main_simulate(args)


def _call(args) -> int:
    from ivr.callcli import run_call
    return run_call(args)


def _serve(args) -> int:
    from ivr.web.serve import serve
    return serve(args)


def _eval(args) -> int:
    if args.what == "understanding":
        from ivr.evaluation.understanding import run_understanding_cli
        return run_understanding_cli(list(args.rest))  # the parser of 'ivr eval understanding'
    if "--from-records" in args.rest:  # the detector judged by the agents' wrap-up answers in the call records
        from ivr.records.detector import run_from_records_cli
        return run_from_records_cli([a for a in args.rest if a != "--from-records"])
    from ivr.evaluation.evaluate import run_eval_cli
    return run_eval_cli(list(args.rest))  # the parser of 'ivr eval escalation'


def _models(args) -> int:
    from ivr.speech.models import run_models_cli
    cache = ["--cache-dir", args.cache_dir] if args.cache_dir else []
    return run_models_cli([*cache, args.action, *args.rest])


def _report(args) -> int:
    from ivr.records import run_report_cli
    return run_report_cli(list(args.rest))


def _purge(args) -> int:
    from ivr.records import run_purge_cli
    return run_purge_cli(list(args.rest))


def _forget(args) -> int:
    """The call records first, then the live-call store (hot state, event logs, summaries)."""
    from ivr.records import run_forget_cli
    from ivr.settings import SettingsError, load_settings
    try:
        memory_key = load_settings().memory_key  # the caller memory is found by the keyed hash of the number
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    code = run_forget_cli(list(args.rest), memory_key=memory_key)
    said = argparse.ArgumentParser(add_help=False)
    said.add_argument("number", nargs="?", default="")
    said.add_argument("--url")
    number = (said.parse_known_args(args.rest)[0].number or "").strip()
    if code != 0 or not number or any(a in ("-h", "--help") for a in args.rest):
        return code
    from ivr.store import StoreUnavailable, open_store
    try:
        store = open_store(load_settings().store_url)
    except (SettingsError, StoreUnavailable, ValueError) as exc:
        print(f"error: the live-call store was not reached, so its traces of {number} remain: {exc}", file=sys.stderr)
        return 1
    try:
        forgotten = store.forget_caller(number)
    except StoreUnavailable as exc:
        print(f"error: the live-call store was not reached, so its traces of {number} remain: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"deleted {forgotten} live call(s) of {number} (state, event logs, summaries)")
    return 0


def _agents(args) -> int:
    from ivr.web.agents import HASH_COMMAND, AgentsError, parse_agents
    if args.action == "check":
        try:
            roster = parse_agents(Path(args.file).read_text(encoding="utf-8"), args.file)
        except (AgentsError, OSError, UnicodeDecodeError) as exc:
            print(f"error: {str(exc).replace(HASH_COMMAND, '.venv/bin/ivr agents hash')}", file=sys.stderr)
            return 1
        for agent in roster.agents.values():
            print(agent.describe())
        return 0
    password = _read_password()
    if password is None:
        return 1
    from werkzeug.security import generate_password_hash  # the method the agents file accepts (scrypt)
    print(generate_password_hash(password))
    return 0


MIN_PASSWORD = 8


def _read_password() -> str | None:
    """Twice with getpass on a terminal; else the first line of standard input. None: said why."""
    import getpass
    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password and getpass.getpass("Again: ") != password:
            print("error: the two passwords differ; nothing printed. Run 'ivr agents hash' again.", file=sys.stderr)
            return None
    else:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line.rstrip("\r\n")
    if not password:
        print("error: no password given. Type one when asked, or pipe one line: "
              "printf '%s\\n' \"$PASSWORD\" | ivr agents hash", file=sys.stderr)
        return None
    if len(password) < MIN_PASSWORD:
        print(f"error: the password is too short; use at least {MIN_PASSWORD} characters.", file=sys.stderr)
        return None
    return password


def _doctor(args) -> int:
    from ivr.doctor import run_doctor
    return run_doctor(sys.stdout)


PASSED_ON = ("eval", "models", "report", "purge", "forget")  # commands whose last part parses its own arguments
COMMANDS = {"validate": _validate, "schema": _schema, "graph": _graph, "simulate": _simulate, "call": _call,
            "serve": _serve,
            "eval": _eval, "models": _models, "agents": _agents, "doctor": _doctor, "report": _report, "purge": _purge,
            "forget": _forget}

if __name__ == "__main__":
    sys.exit(main())
