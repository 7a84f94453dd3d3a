"""YAML call flows -> ``Flow`` objects, refusing any flow with a problem.

``load_text`` reads one file's text; ``load_paths`` and ``load_directory`` read many and
check what spans files (``goto`` targets, two flows claiming one number). Every problem
of every file is collected before anything is refused, so ops see all mistakes at once.

A load is bounded by ``yamlpos.Limits`` (``limits=`` on every entry point): a file's size
is checked before it is read, and at most the limit and one byte are ever read. The
garbage collector rests for the whole load (``yamlpos.gc_paused``): what a load builds
lives on, so collecting meanwhile only costs time.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ivr.model.escalation import DEFAULT_TOPICS, SIGNALS, EscalationSettings
from ivr.model.flow import DEFAULT_MAX_HOLD, Flow, Node, Operator, RetryPolicy
from ivr.model.problems import FlowError, Problem, Where, did_you_mean
from ivr.model.targets import AgentsOnFile

from .catalogues import catalogues_in, messages_for
from .checks import check_flow, lookup_fields_used, memory_languages_across
from .memory import read_memory, resolve_memory
from .nodes import KINDS
from .nodes.hours import parse_schedule
from .reader import Context, Reader, kind_name
from .survey import read_survey, read_wrap_up
from .yamlpos import LIMITS, Limits, Y, gc_paused, parse_yaml, size_problem

FLOW_KEYS = ("flow", "description", "numbers", "default", "language", "voice", "timeout", "max_hold", "hours", "operator",
             "retry", "escalation", "env", "crm", "start", "nodes",
             "survey", "wrap_up", "memory")


@dataclass
class Loaded:
    """The outcome of loading many files: the good flows and every problem found."""

    flows: dict[str, Flow] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines, for messages

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load_text(text: str, file: str, audio_dir: Path | None = None, *, limits: Limits = LIMITS,
              agents: AgentsOnFile | None = None) -> tuple[Flow | None, list[Problem]]:
    """One flow from the text of one file; (None, problems) when it has errors. The
    garbage collector rests for the whole load: what it builds lives on."""
    with gc_paused():
        return _load_text(text, file, audio_dir, limits, agents)


def _load_text(text: str, file: str, audio_dir: Path | None, limits: Limits,
               agents: AgentsOnFile | None = None) -> tuple[Flow | None, list[Problem]]:
    ctx = Context(file, audio_dir)
    ctx.agents = agents
    y = parse_yaml(text, file, ctx.problems, limits=limits)
    if y is None:
        return None, ctx.problems
    ctx.root, ctx.lines = y, text.splitlines()
    r = Reader(y, ctx, "the flow file")
    if not r.ok:
        return None, ctx.problems
    flow = _read_flow(r, ctx, text)
    if flow is not None:
        check_flow(flow, ctx)
        flow = replace(flow, lookup_fields=lookup_fields_used(flow, ctx),
                       messages=messages_for(flow, ctx, catalogues_in(Path(file).parent, limits)))
    errors = [p for p in ctx.problems if p.severity == "error"]
    return (None if errors else flow), sorted(ctx.problems, key=lambda p: p.where)


def read_flow_file(path: Path, limits: Limits = LIMITS) -> tuple[str | None, Problem | None]:
    """The text of a flow file, or the problem that stops it being read. The size is
    checked first and at most the limit and one byte are read, so a huge file (or one
    growing while it is read) never lands in memory. Line ends read as ``read_text``
    gives them (\r\n and \r become \n)."""
    where = Where(str(path), 1, 1)
    try:
        with path.open("rb") as fh:
            too_big = size_problem(os.fstat(fh.fileno()).st_size, str(path), limits)
            if too_big is not None:
                return None, too_big
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        return None, Problem(where, f"cannot read the file: {exc.strerror or exc}")
    too_big = size_problem(len(data), str(path), limits)
    if too_big is not None:
        return None, too_big
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, Problem(Where(str(path), line, col), "this file is not UTF-8 text",
                             "save it as UTF-8 (most editors offer this under 'Save with encoding')")
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def load_flow(path: str | Path, audio_dir: Path | None = None, *, limits: Limits = LIMITS) -> Flow:
    """One flow file; raises ``FlowError`` with every problem when it is not valid."""
    path = Path(path)
    text, problem = read_flow_file(path, limits)
    if text is None:
        raise FlowError([problem] if problem else [])
    flow, problems = load_text(text, str(path), audio_dir, limits=limits)
    if flow is None:
        raise FlowError([p for p in problems if p.severity == "error"])
    return flow


def load_paths(paths: Iterable[str | Path], audio_dir: Path | None = None, *, limits: Limits = LIMITS,
               agents: AgentsOnFile | None = None) -> Loaded:
    """Every flow of ``paths``, with every problem of every file, read under ``limits``;
    agent pools are checked against ``agents`` (an agents file) when it is given."""
    with gc_paused():
        return _load_paths(paths, audio_dir, limits, agents)


def _load_paths(paths: Iterable[str | Path], audio_dir: Path | None, limits: Limits,
                agents: AgentsOnFile | None = None) -> Loaded:
    out = Loaded()
    reported: set[Problem] = set()
    names: dict[str, str] = {}
    for path in sorted(Path(p) for p in paths):
        text, problem = read_flow_file(path, limits)
        if text is None:
            out.problems.append(problem or Problem(Where(str(path), 1, 1), "cannot read the file"))
            continue
        out.sources[str(path)] = text.splitlines()
        try:
            flow, problems = load_text(text, str(path), audio_dir, limits=limits, agents=agents)
        except Exception as exc:  # a bug of ours must not hide the other files' problems
            out.problems.append(Problem(Where(str(path), 1, 1), f"internal error while checking this file: {exc!r}",
                                        "this is a bug in the IVR, not in your flow; please report it with the file"))
            continue
        fresh = [p for p in problems if p not in reported]  # a messages file's problems, once
        reported.update(fresh)
        out.problems.extend(fresh)
        out.sources.update(catalogues_in(path.parent, limits).sources)
        if flow is None:
            continue
        if flow.name in names:
            out.problems.append(Problem(Where(str(path), 1, 1), f"flow '{flow.name}' is also defined in {names[flow.name]}",
                                        "each flow needs its own name"))
            continue
        names[flow.name] = str(path)
        out.flows[flow.name] = flow
    _check_across(out)
    return out


def load_directory(directory: str | Path, audio_dir: Path | None = None, *, limits: Limits = LIMITS) -> Loaded:
    directory = Path(directory)
    files = [*directory.glob("*.yaml"), *directory.glob("*.yml")]
    return load_paths(files, audio_dir, limits=limits)


def _check_across(out: Loaded) -> None:
    """What one file cannot know alone: goto targets and numbers claimed twice."""
    claimed: dict[str, str] = {}
    for flow in list(out.flows.values()):
        bad = False
        for node in flow.nodes.values():
            problems = list(KINDS.of(node).check_loaded(node, out.flows))
            out.problems.extend(problems)
            bad = bad or bool(problems)
        problems = memory_languages_across(flow, out.flows, out.sources.get(flow.path))
        out.problems.extend(problems)
        bad = bad or bool(problems)
        for number in flow.numbers:
            if number in claimed and claimed[number] != flow.name:
                out.problems.append(Problem(Where(flow.path, 1, 1),
                                            f"number {number} is served by both '{claimed[number]}' and '{flow.name}'"))
                bad = True
            claimed[number] = flow.name
        if bad:
            del out.flows[flow.name]
    if sum(1 for f in out.flows.values() if f.default) > 1:
        names = sorted(f.name for f in out.flows.values() if f.default)
        out.problems.append(Problem(Where(out.flows[names[1]].path, 1, 1), f"more than one default flow: {', '.join(names)}"))


def _read_flow(r: Reader, ctx: Context, text: str) -> Flow | None:
    name = r.text("flow", required=True) or ""
    description = r.text("description", "") or ""
    numbers = r.words("numbers")
    for number, item in zip(numbers, _items(r, "numbers")):
        if not (number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16):
            ctx.error(item.where, f"'{number}' is not a phone number in E.164 form", "write it like +15005550006")
    default = r.flag("default", False)
    language = r.text("language", "en-US") or "en-US"
    voice = r.text("voice", "") or ""
    timeout = r.integer("timeout", 5, 1, 60) or 5
    max_hold = r.integer("max_hold", DEFAULT_MAX_HOLD, 30, 3600) or DEFAULT_MAX_HOLD
    env = r.get("env")
    if env is not None:
        if isinstance(env.value, dict):
            ctx.env.update({k: str(v.value) for k, v in env.value.items()})
        else:
            ctx.error(env.where, "'env' must map variable names to default values")
    hours, after_hours, holiday_start = None, "", ""
    h = r.sub("hours", "the flow's hours")
    if h is not None and h.ok:
        hours = parse_schedule(h, ctx)
        after_hours = h.ref("closed", "(flow)", required=False, label="hours.closed")
        holiday_start = h.ref("holiday", "(flow)", required=False, label="hours.holiday")
        h.done()
    crm_url, crm_secret = _crm(r, ctx)
    operator = _operator(r, ctx)
    retry = _retry(r, ctx)
    escalation = _escalation(r, ctx)
    memory_read = read_memory(r, ctx)
    survey, wrap_up = read_survey(r, ctx, language), read_wrap_up(r, ctx)
    start = r.ref("start", "(flow)", label="start")
    nodes = {}
    body = r.get("nodes")
    if body is None:
        r.missing("nodes", "a flow lists its nodes under 'nodes:'")
    elif not isinstance(body.value, dict) or not body.value:
        ctx.error(body.where, f"'nodes' must map node names to nodes, not {kind_name(body.value)}")
    else:
        for node_id, y in body.value.items():
            node = _read_node(node_id, y, ctx)
            if node is not None:
                nodes[node_id] = node
    r.done()
    if not name:
        return None
    for ref in ctx.refs:
        if ref.target and ref.target not in nodes and (body is None or ref.target not in (body.value or {})):
            meant = did_you_mean(ref.target, nodes)
            problem = ctx.error(ref.where, f"'{ref.target}' is not a node of this flow ({ref.label} of {ref.source})",
                                meant or "add the node under 'nodes:' or fix the name")
            if not meant:
                ctx.dangling.append(problem)  # what it meant cannot be guessed: perhaps a node nothing leads to
    secrets = frozenset(name for n in nodes.values() for name in n.secrets())
    memory = resolve_memory(memory_read, nodes, start, ctx)
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Flow(name=name, version=version, path=ctx.file, start=start, nodes=nodes, numbers=numbers, default=default,
                language=language, voice=voice, operator=operator, retry=retry, escalation=escalation, hours=hours,
                after_hours=after_hours, holiday_start=holiday_start, timeout=timeout, max_hold=max_hold, secrets=secrets,
                description=description, refs=tuple(ctx.refs),
                crm_url=crm_url, crm_secret=crm_secret, memory=memory, survey=survey, wrap_up=wrap_up)


def _items(r: Reader, key: str) -> list[Y]:
    y = r.y.value.get(key) if r.ok else None
    return [] if y is None else (y.value if isinstance(y.value, list) else [y])


def _read_node(node_id: str, y: Y, ctx: Context) -> Node | None:
    owner = f"node '{node_id}'"
    if not str(node_id).replace("_", "").replace("-", "").isalnum():
        ctx.error(y.where, f"node name '{node_id}' may only use letters, digits, '_' and '-'")
    r = Reader(y, ctx, owner)
    if not r.ok:
        return None
    kinds = [k for k in y.value if k in KINDS]
    if not kinds:
        unknown = next((k for k in y.value if k != "go"), None)
        if unknown is not None:
            ctx.error(y.key_where[unknown], f"unknown node kind '{unknown}' in {owner}",
                      did_you_mean(unknown, KINDS) or f"kinds: {', '.join(KINDS)}")
        else:
            ctx.error(y.where, f"{owner} has no kind", f"start it with one of: {', '.join(KINDS)}")
        return None
    if len(kinds) > 1:
        ctx.error(y.key_where[kinds[1]], f"{owner} has two kinds, '{kinds[0]}' and '{kinds[1]}'", "split it into two nodes")
    kind = kinds[0]
    body = r.get(kind)
    assert body is not None  # the key is there: it was found among the node's keys
    node: Node = KINDS[kind].parse(node_id, body, r, ctx)
    r.done()
    return node


def _crm(r: Reader, ctx: Context) -> tuple[str, str]:
    """``crm: {url: https://crm.example.com/hooks/ivr, secret_env: CRM_SECRET}``: where the
    context record of every transfer is posted, signed with the secret in that variable."""
    import os
    c = r.sub("crm", "the CRM webhook")
    if c is None or not c.ok:
        return "", ""
    url = c.text("url", "", required=True) or ""
    if url and not url.startswith(("https://", "http://")):
        ctx.error(c.at("url"), f"CRM url '{url}' must start with https://")
    name = c.text("secret_env", "", required=True) or ""
    secret = os.environ.get(name, "") if name else ""
    if name and not secret:
        ctx.warn(c.at("secret_env"), f"environment variable {name} is not set: the CRM webhook is off",
                 f"set {name} to the secret shared with the CRM")
        url = ""
    c.done()
    return url, secret


def _operator(r: Reader, ctx: Context) -> Operator:
    o = r.sub("operator", "the operator escape")
    if o is None or not o.ok:
        return Operator()
    digit = o.text("digit", "0")
    if digit is not None and (len(digit) != 1 or digit not in "0123456789*#"):
        ctx.error(o.at("digit"), f"operator digit must be one key (0-9, * or #), not '{digit}'")
    phrases = o.words("phrases") if o.has("phrases") else Operator.phrases
    to = o.ref("to", "(operator)", label="operator.to")
    after_hours = o.ref("after_hours", "(operator)", required=False, label="operator.after_hours")
    o.done()
    return Operator(digit or "", phrases, to, after_hours or "")


def _retry(r: Reader, ctx: Context) -> RetryPolicy:
    t = r.sub("retry", "the retry policy")
    if t is None or not t.ok:
        return RetryPolicy()
    policy = RetryPolicy(t.integer("no_input", 2, 0, 5), t.integer("no_match", 2, 0, 5),
                         t.ref("then", "(retry)", required=False, label="retry.then"))
    t.done()
    return policy


def _escalation(r: Reader, ctx: Context) -> EscalationSettings:
    e = r.sub("escalation", "the escalation settings")
    if e is None or not e.ok:
        return EscalationSettings()
    threshold = e.number("threshold", 0.7, 0.05, 1.0)
    mode = e.choice("mode", ("transfer", "offer"), "transfer")
    weights = {}
    w = e.get("weights")
    if w is not None and isinstance(w.value, dict):
        for signal, value in w.value.items():
            if signal not in SIGNALS:
                ctx.error(w.key_where[signal], f"unknown signal '{signal}'",
                          did_you_mean(signal, SIGNALS) or f"signals: {', '.join(SIGNALS)}")
            elif isinstance(value.value, bool) or not isinstance(value.value, (int, float)) or not 0 <= value.value <= 1:
                ctx.error(value.where, f"the weight of '{signal}' must be a number from 0 to 1")
            else:
                weights[signal] = float(value.value)
    elif w is not None:
        ctx.error(w.where, "'weights' must map signal names to numbers")
    topics = dict(DEFAULT_TOPICS)
    t = e.get("topics")
    if t is not None:
        if isinstance(t.value, list):
            topics = {}
            for item in t.value:
                if item.value in DEFAULT_TOPICS:
                    topics[item.value] = DEFAULT_TOPICS[item.value]
                else:
                    ctx.error(item.where, f"unknown topic '{item.value}'", did_you_mean(str(item.value), DEFAULT_TOPICS)
                              or "give a mapping topic: [phrases] for a topic of your own")
        elif isinstance(t.value, dict):
            topics = {k: tuple(str(x.value) for x in (v.value if isinstance(v.value, list) else [v])) for k, v in t.value.items()}
        else:
            ctx.error(t.where, "'topics' must list topic names or map topics to phrases")
    minutes = e.number("max_minutes", 5.0, 0.5, 120)
    to = e.ref("to", "(escalation)", required=False, label="escalation.to")
    e.done()
    return EscalationSettings(threshold, mode, weights, topics, minutes * 60, to)
